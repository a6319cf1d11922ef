"""The window models: the zero-break question and its "at most k participants break" relaxation."""

from __future__ import annotations

import dataclasses

from hypothesis import HealthCheck, given, settings
from ortools.sat.python import cp_model

from scheduler import solve
from scheduler.model import build, meeting_domains, read_assignments
from scheduler.problem import Problem, Rules, breaks_by_participant, check_solution
from scheduler.zero import build_zero, window_starts
from tests.unit.scheduler.helpers import exhaustive, make
from tests.unit.scheduler.test_solve import tiny_problems

FAST = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _place_all(problem: Problem) -> Problem:
    return dataclasses.replace(problem, rules=Rules(schedule_all=True, break_spread=None))


def _solve_zero(
    problem: Problem, broken: int | None = None, exact: bool = False, most: int | None = None
) -> tuple[str, dict[str, int] | None]:
    model = build_zero(problem, meeting_domains(problem, True), broken=broken, exact=exact, most=most)
    if model is None:
        return "INFEASIBLE", None
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.max_time_in_seconds = 10
    status = solver.solve(model.cp)
    found = status in (cp_model.OPTIMAL, cp_model.FEASIBLE)
    return solver.status_name(status), read_assignments(model, solver) if found else None


def test_window_starts_only_where_the_meetings_fit():
    # a: one meeting fixed to slot 2, one free: the two slots must be 1-2 or 2-3.
    problem = make(5, [("a", "b"), ("a", "c")], fixed_slot={0: 2})
    assert window_starts(problem, meeting_domains(problem, True), [0, 1]) == [1, 2]


def test_zero_model_finds_a_schedule_without_breaks():
    problem = make(4, [("a", "b"), ("a", "c"), ("b", "c"), ("c", "d")], rules=Rules(schedule_all=True))
    status, assignments = _solve_zero(problem)
    assert status == "OPTIMAL"
    assert check_solution(problem, assignments) == []
    assert sum(breaks_by_participant(problem, assignments).values()) == 0


def test_zero_model_none_when_a_participant_must_break():
    problem = make(3, [("a", "b"), ("a", "c")], unavailable={"a": {1}}, rules=Rules(schedule_all=True))
    assert build_zero(problem, meeting_domains(problem, True)) is None


@FAST
@given(tiny_problems())
def test_zero_model_feasible_exactly_when_the_optimum_has_no_break(problem):
    problem = _place_all(problem)
    best = exhaustive(problem)
    status, assignments = _solve_zero(problem)
    assert (status == "OPTIMAL") == (best is not None and best[1] == 0)
    if assignments is not None:
        assert check_solution(problem, assignments) == []
        assert sum(breaks_by_participant(problem, assignments).values()) == 0


@FAST
@given(tiny_problems())
def test_relaxation_refutes_k_only_below_the_optimum(problem):
    problem = _place_all(problem)
    best = exhaustive(problem)
    for k in (1, 2):
        status, assignments = _solve_zero(problem, broken=k)
        if status == "INFEASIBLE":
            assert best is None or best[1] > k
        else:
            assert check_solution(problem, assignments) == []


@FAST
@given(tiny_problems())
def test_exact_relaxation_holds_exactly_when_k_breaks_suffice(problem):
    # Without the spread rule, counting the broken participants' true breaks leaves nothing
    # relaxed: its schedules have at most k breaks, and it fails only where none exists.
    problem = _place_all(problem)
    best = exhaustive(problem)
    for k in (1, 2):
        status, assignments = _solve_zero(problem, broken=k, exact=True)
        assert (status != "INFEASIBLE") == (best is not None and best[1] <= k)
        if assignments is not None:
            assert check_solution(problem, assignments) == []
            assert sum(breaks_by_participant(problem, assignments).values()) <= k


@FAST
@given(tiny_problems())
def test_one_break_each_finds_only_schedules_within_k_and_every_one_break_optimum(problem):
    # Capped at one break each, the question narrows: whatever it finds holds at most k breaks,
    # one per participant; and an optimum of one break is always of that shape.
    problem = _place_all(problem)
    best = exhaustive(problem)
    for k in (1, 2):
        status, assignments = _solve_zero(problem, broken=k, most=1)
        if k == 1:
            assert (status != "INFEASIBLE") == (best is not None and best[1] <= 1)
        if assignments is not None:
            assert check_solution(problem, assignments) == []
            breaks = breaks_by_participant(problem, assignments)
            assert max(breaks.values(), default=0) <= 1
            assert sum(breaks.values()) <= k


def test_solve_interchangeable_participants_and_mirrored_day_stay_optimal():
    # Three leaves meet only the hub h; the hub also meets a and b, who meet each other: the
    # leaves are interchangeable and the day has no direction, so both symmetries are cut.
    pairs = [("h", "l1"), ("h", "l2"), ("h", "l3"), ("h", "a"), ("a", "b"), ("b", "h")]
    problem = make(5, pairs, capacity=2, rules=Rules(schedule_all=True, break_spread=1))
    solution = solve(problem, time_limit=10, workers=1)
    assert (solution.status, solution.breaks) == ("optimal", exhaustive(problem)[1])
    assert check_solution(problem, solution.assignments) == []


def test_symmetry_breaking_orders_the_common_partner_meetings():
    pairs = [("h", "l1"), ("h", "l2"), ("h", "l3"), ("h", "a")]
    problem = make(4, pairs, rules=Rules(schedule_all=True))
    model = build(problem, schedule_all=True)
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    assert solver.solve(model.cp) == cp_model.OPTIMAL
    slots = read_assignments(model, solver)
    assert slots["m0"] < slots["m1"] < slots["m2"]
