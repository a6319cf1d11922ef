"""solve(): hard rules, honest break counts, and optimality against exhaustive search."""

from __future__ import annotations

import threading

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scheduler import solve
from scheduler.problem import Meeting, Participant, Problem, Rules, breaks_by_participant, check_solution
from tests.unit.scheduler.helpers import exhaustive, make

PEOPLE = ["a", "b", "c", "d"]


@st.composite
def tiny_problems(draw: st.DrawFn, max_meetings: int = 4) -> Problem:
    """Random problems small enough for brute force: up to 4 meetings in up to 5 slots."""
    slots = draw(st.integers(2, 5))
    count = draw(st.integers(1, max_meetings))
    pairs = [tuple(draw(st.permutations(PEOPLE))[:2]) for _ in range(count)]
    sessions: tuple[tuple[int, int], ...] = ()
    if slots >= 3 and draw(st.booleans()):
        cut = draw(st.integers(0, slots - 2))
        sessions = ((0, cut), (cut + 1, slots - 1))
    meetings = []
    for i, (a, b) in enumerate(pairs):
        kind = draw(st.sampled_from(["free", "free", "session", "fixed", "after"]))
        meetings.append(
            Meeting(
                f"m{i}",
                a,
                b,
                session=draw(st.integers(0, 1)) if kind == "session" and sessions else None,
                fixed_slot=draw(st.integers(0, slots - 1)) if kind == "fixed" else None,
                after=(f"m{draw(st.integers(0, i - 1))}",) if kind == "after" and i else (),
                weight=draw(st.integers(1, 3)),
            )
        )
    unavailable = {p: frozenset(draw(st.sets(st.integers(0, slots - 1), max_size=2))) for p in PEOPLE}
    return Problem(
        slots=slots,
        participants=tuple(Participant(p, unavailable[p]) for p in PEOPLE),
        meetings=tuple(meetings),
        sessions=sessions,
        capacity=draw(st.one_of(st.none(), st.integers(1, 2))),
        rules=Rules(
            schedule_all=draw(st.booleans()), break_spread=draw(st.one_of(st.none(), st.integers(0, 1)))
        ),
    )


FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(tiny_problems())
def test_solve_random_problem_keeps_every_hard_rule(problem):
    solution = solve(problem, time_limit=10, workers=1)
    if solution.status == "infeasible":
        assert solution.assignments == {}
    else:
        assert check_solution(problem, solution.assignments) == []


@FAST
@given(tiny_problems())
def test_solve_random_problem_reports_breaks_of_its_assignment(problem):
    solution = solve(problem, time_limit=10, workers=1)
    assert solution.breaks == sum(breaks_by_participant(problem, solution.assignments).values())
    assert solution.scheduled == len(solution.assignments)
    assert solution.weight == sum(m.weight for m in problem.meetings if m.id in solution.assignments)
    assert sorted([*solution.assignments, *(u.meeting for u in solution.unscheduled)]) == sorted(
        m.id for m in problem.meetings
    )


@FAST
@given(tiny_problems())
def test_solve_random_problem_optimal_matches_exhaustive_search(problem):
    solution = solve(problem, time_limit=10, workers=1)
    best = exhaustive(problem)
    if best is None:
        assert solution.status == "infeasible"
    else:
        assert solution.status == "optimal"
        assert (solution.weight, solution.breaks) == best
        assert solution.breaks_lower_bound == best[1]


@settings(max_examples=25, deadline=None)
@given(tiny_problems())
def test_solve_random_problem_two_workers_matches_exhaustive_search(problem):
    solution = solve(problem, time_limit=10, workers=2)
    best = exhaustive(problem)
    assert (solution.weight, solution.breaks) == (best if best else (0, 0))
    assert solution.status == ("optimal" if best else "infeasible")


def test_solve_spread_zero_infeasible_when_one_participant_must_break():
    # a has two meetings in three slots with the middle one off: a break b and c cannot match.
    problem = make(3, [("a", "b"), ("a", "c")], unavailable={"a": {1}}, rules=Rules(True, break_spread=0))
    solution = solve(problem, time_limit=10, workers=1)
    assert solution.status == "infeasible"


def test_solve_spread_one_allows_the_forced_break():
    problem = make(3, [("a", "b"), ("a", "c")], unavailable={"a": {1}}, rules=Rules(True, break_spread=1))
    solution = solve(problem, time_limit=10, workers=1)
    assert (solution.status, solution.breaks, solution.breaks_lower_bound) == ("optimal", 1, 1)


def test_solve_schedule_all_infeasible_when_slots_run_out():
    problem = make(2, [("a", "b"), ("a", "c"), ("a", "d")], rules=Rules(schedule_all=True))
    solution = solve(problem, time_limit=10, workers=1)
    assert (solution.status, solution.assignments, solution.breaks_lower_bound) == ("infeasible", {}, None)


def test_solve_prefers_weight_then_fewer_breaks():
    # Slot 1 is off for a: a can have both meetings only with a break, or keep the heavier one.
    problem = make(3, [("a", "b"), ("a", "c")], unavailable={"a": {1}}, weight={0: 2, 1: 1})
    solution = solve(problem, time_limit=10, workers=1)
    assert (solution.status, solution.scheduled, solution.weight, solution.breaks) == ("optimal", 2, 3, 1)


def test_solve_stop_event_returns_promptly():
    pairs = [(f"p{i}", f"q{j}") for i in range(12) for j in range(12) if (i + j) % 3 == 0]
    problem = make(14, pairs, capacity=6, rules=Rules(schedule_all=True, break_spread=1))
    stop = threading.Event()
    stop.set()
    solution = solve(problem, time_limit=30, workers=2, stop=stop)
    assert solution.seconds < 5
    assert solution.status in ("feasible", "unknown", "optimal")


def test_solve_progress_reports_improving_solutions():
    problem = make(6, [("a", "b"), ("a", "c"), ("b", "c"), ("c", "d")], rules=Rules(schedule_all=True))
    events: list[dict] = []
    solution = solve(problem, time_limit=10, workers=1, progress=events.append)
    assert solution.status == "optimal"
    assert events[-1]["breaks"] == solution.breaks
    assert set(events[-1]) == {"seconds", "weight", "breaks", "bound"}
