"""polish: neighbourhood steps keep every hard rule, never add breaks, and find the tiny optimum."""

from __future__ import annotations

import threading
import time

from hypothesis import HealthCheck, given, settings

from scheduler.polish import Polisher, polish
from scheduler.problem import Rules, breaks_by_participant, check_solution
from tests.unit.scheduler.helpers import exhaustive, make
from tests.unit.scheduler.test_solve import tiny_problems

FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _spread_out() -> tuple:
    """A chain a-b-c-d in 6 slots, placed with a gap in every agenda (3 breaks; the optimum is 0)."""
    problem = make(6, [("a", "b"), ("b", "c"), ("c", "d"), ("a", "c")], rules=Rules(schedule_all=True))
    start = {"m0": 0, "m1": 2, "m2": 4, "m3": 5}
    assert check_solution(problem, start) == []
    return problem, start


def test_polish_step_keeps_every_hard_rule_and_no_more_breaks():
    problem, start = _spread_out()
    polisher = Polisher(problem, seed=1)
    found = polisher.step(start, 5.0, threading.Event())
    assert found is not None
    assignments, breaks = found
    assert check_solution(problem, assignments) == []
    assert breaks == sum(breaks_by_participant(problem, assignments).values())
    assert breaks <= sum(breaks_by_participant(problem, start).values())


def test_polish_reaches_the_optimum_of_a_small_problem():
    problem, start = _spread_out()
    offered: list[tuple[dict[str, int], int]] = []
    polish(
        problem,
        start,
        time.monotonic() + 20,
        threading.Event(),
        lambda assignments, breaks, _weight: offered.append((assignments, breaks)),
        lambda: offered[-1] if offered else None,
        stall=3.0,
    )
    assignments, breaks = offered[-1]
    assert check_solution(problem, assignments) == []
    assert breaks == sum(breaks_by_participant(problem, assignments).values())
    assert breaks == exhaustive(problem)[1]


@FAST
@given(tiny_problems())
def test_polish_random_problem_keeps_rules_and_never_worsens(problem):
    problem = make(problem.slots, [(m.a, m.b) for m in problem.meetings], rules=Rules(schedule_all=True))
    best = exhaustive(problem)
    if best is None:
        return
    # Every meeting in its own slot where possible is a valid start (one meeting per slot).
    if len(problem.meetings) > problem.slots:
        return
    start = {m.id: i for i, m in enumerate(problem.meetings)}
    before = sum(breaks_by_participant(problem, start).values())
    found = Polisher(problem).step(start, 5.0, threading.Event())
    assert found is not None
    assignments, breaks = found
    assert check_solution(problem, assignments) == []
    assert breaks == sum(breaks_by_participant(problem, assignments).values())
    assert best[1] <= breaks <= before
