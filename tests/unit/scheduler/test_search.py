"""scheduler.prover: the prover's relaxation questions, with and without the LP."""

from __future__ import annotations

import dataclasses
import threading
import time

import pytest
from hypothesis import HealthCheck, given, settings

from scheduler import solve
from scheduler.improver import improve
from scheduler.model import build
from scheduler.problem import Rules
from scheduler.prover import _ask_broken, _ask_each, spread_floor
from scheduler.search import _early
from scheduler.shared import Shared
from tests.unit.scheduler.helpers import exhaustive, make
from tests.unit.scheduler.test_solve import tiny_problems

FAST = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(tiny_problems())
def test_relaxation_with_or_without_lp_refutes_only_below_the_optimum(problem):
    problem = dataclasses.replace(problem, rules=Rules(schedule_all=True, break_spread=None))
    best = exhaustive(problem)
    model = build(problem, schedule_all=True)
    for lp in (False, True):
        for k in (0, 1, 2):
            shared = Shared(time.monotonic(), 0, None, None)
            answer = _ask_broken(model, shared, time.monotonic() + 10.0, k, {}, lp)
            assert answer is not None  # tiny models are settled well within the budget
            if answer:
                assert best is None or best[1] > k
            else:
                assert best is not None  # the relaxation places every meeting: so can a schedule
            assert shared.best is None or shared.best_breaks >= best[1]


@FAST
@given(tiny_problems())
def test_one_break_asked_of_each_participant_on_two_threads_agrees_with_brute_force(problem):
    problem = dataclasses.replace(problem, rules=Rules(schedule_all=True, break_spread=None))
    best = exhaustive(problem)
    model = build(problem, schedule_all=True)
    shared = Shared(time.monotonic(), 1, None, None)
    clean: set[str] = set()
    answer = _ask_each(model, shared, time.monotonic() + 20.0, {}, clean, threads=2)
    assert answer is not None  # tiny models are settled well within the budget
    if answer:
        assert best is None or best[1] > 1  # refuted: no schedule with at most one break
    else:
        assert best is not None and best[1] <= 1
        assert shared.best is not None and shared.best_breaks <= 1
    assert not shared.hold.is_set()  # the improver gets its thread back


def test_the_improver_stands_aside_while_the_prover_holds_every_thread():
    # A meets B and C in three slots; a schedule with A idle in the middle is known (1 break),
    # the optimum has none.
    problem = make(3, [("A", "B"), ("A", "C")], rules=Rules(schedule_all=True, break_spread=None))
    model = build(problem, schedule_all=True)
    shared = Shared(time.monotonic(), 0, None, None)
    shared.offer({"m0": 0, "m1": 2}, 1, 2)
    shared.hold.set()
    improver = threading.Thread(target=improve, args=(model, shared, time.monotonic() + 20.0, 1, False))
    improver.start()
    time.sleep(0.5)
    assert (shared.best_breaks, shared.done.is_set(), improver.is_alive()) == (1, False, True)
    shared.hold.clear()
    improver.join(20.0)
    assert (shared.best_breaks, shared.done.is_set(), improver.is_alive()) == (0, True, False)


def test_the_spread_rule_lifts_a_proven_bound_to_what_everyone_must_hold():
    # Ten people: once one break is proven, at spread 0 each of them holds one.
    assert [spread_floor(k, 10, 0) for k in (0, 1, 10, 11)] == [0, 10, 10, 20]
    # A wider spread never lifts it: everyone may hold one break fewer than the busiest.
    assert [spread_floor(k, 10, 1) for k in (1, 10, 21, 25)] == [1, 10, 21, 25]
    assert [spread_floor(k, 10, 1) for k in (11, 20)] == [11, 20]
    assert [spread_floor(k, 4, 1) for k in (9, 13)] == [9, 13]
    assert [spread_floor(5, 10, None), spread_floor(3, 0, 0)] == [5, 3]


def test_at_spread_zero_one_forced_break_is_everyones():
    # Four people, two meetings each, nobody free in the middle slot: each has one break.
    pairs = [("A", "B"), ("C", "D"), ("A", "C"), ("B", "D")]
    unavailable = {p: {1} for p in "ABCD"}
    rules = Rules(schedule_all=True, break_spread=0)
    square = make(3, pairs, unavailable=unavailable, rules=rules)
    solution = solve(square, time_limit=10.0)
    assert (solution.status, solution.breaks, exhaustive(square)) == ("optimal", 4, (4, 4))
    # Two more who meet once hold no break: at spread 0 nobody may, so there is no schedule.
    wider = make(3, [*pairs, ("E", "F")], unavailable=unavailable, rules=rules)
    assert (solve(wider, time_limit=10.0).status, exhaustive(wider)) == ("infeasible", None)


def test_a_question_asked_early_hands_over_its_answer_or_its_failure():
    assert [_early(lambda: False)(), _early(lambda: True)()] == [False, True]
    failing = _early(lambda: 1 // 0)
    with pytest.raises(ZeroDivisionError):
        failing()
