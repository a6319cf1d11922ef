"""The SAT question "a schedule with at most k breaks?" (scheduler.sat), against brute force."""

from __future__ import annotations

import dataclasses
import threading
import time

from hypothesis import HealthCheck, given, settings

from scheduler.problem import Problem, Rules, breaks_by_participant, check_solution
from scheduler.sat import Question, encode, search, solve_k, solve_window
from scheduler.shared import Shared
from tests.unit.scheduler.helpers import exhaustive, make
from tests.unit.scheduler.test_solve import tiny_problems

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _place_all(problem: Problem) -> Problem:
    return dataclasses.replace(problem, rules=dataclasses.replace(problem.rules, schedule_all=True))


@FAST
@given(tiny_problems(max_meetings=5))
def test_a_schedule_with_at_most_k_breaks_exactly_when_brute_force_finds_one(problem):
    problem = _place_all(problem)
    best = exhaustive(problem)
    for k in range(4):
        schedule = solve_k(problem, k)
        if best is None or best[1] > k:
            assert schedule is None
        else:
            assert schedule is not None
            assert check_solution(problem, schedule) == []
            assert sum(breaks_by_participant(problem, schedule).values()) <= k


@FAST
@given(tiny_problems(max_meetings=5))
def test_asked_top_first_in_one_solver_each_no_and_each_schedule_agree_with_brute_force(problem):
    problem = _place_all(problem)
    best = exhaustive(problem)
    for start in range(4):
        refuted: list[int] = []
        found: list[dict[str, int]] = []
        verdict, schedule = solve_window(problem, start, 3, refuted.append, found.append)
        if best is None:
            # No schedule at all: shown once no limit on breaks is left to blame.
            assert schedule is None and found == []
            assert verdict in ("no", "none") and refuted == sorted(set(refuted))
            assert set(refuted) <= {0, 3} and (verdict == "none" or refuted[-1] == 3)
            continue
        first = [0] if start == 0 else []  # "no break at all?" is asked first, alone
        if best[1] > 3:
            assert (verdict, schedule, refuted, found) == ("no", None, [*first, 3], [])
            continue
        least = max(start, best[1])
        # "At most 3?" next: its schedule is handed on at once when there is more to ask below
        # (always when the optimum is above `start`; also, unless no schedule can have a break,
        # when it is not and `start` is not 0).
        assert len(found) == 1 if start < best[1] <= 3 else len(found) <= 1
        for early in found:
            assert check_solution(problem, early) == []
            assert sum(breaks_by_participant(problem, early).values()) <= 3
        assert refuted == list(range(start, least))
        assert verdict == "yes" and schedule is not None and check_solution(problem, schedule) == []
        assert sum(breaks_by_participant(problem, schedule).values()) <= least


def test_where_the_tables_run_short_the_proofs_with_the_busy_rows_stop_at_the_optimum():
    # One table: 2 breaks at best, against 1 with tables enough; the proofs below the schedule
    # found get the busy rows a second time, which must refute exactly 0 and 1.
    pairs = [("a", "b"), ("c", "d"), ("a", "c"), ("b", "d"), ("a", "d")]
    unavailable = {"a": {1}, "d": {4}}
    short = make(6, pairs, unavailable=unavailable, capacity=1, rules=Rules(schedule_all=True))
    assert exhaustive(short) == (5, 2)
    assert exhaustive(make(6, pairs, unavailable=unavailable, rules=Rules(schedule_all=True))) == (5, 1)
    assert encode(short, 3).proof_rows != []
    for start, refutes in ((0, [0, 1]), (1, [1]), (2, [])):
        refuted: list[int] = []
        found: list[dict[str, int]] = []
        verdict, schedule = solve_window(short, start, 3, refuted.append, found.append)
        assert (verdict, refuted, len(found)) == ("yes", refutes, 1)
        assert schedule is not None and check_solution(short, schedule) == []
        assert sum(breaks_by_participant(short, schedule).values()) == 2


def test_the_spread_rule_is_kept_and_can_cost_breaks():
    # At best one participant breaks; with spread 0 all four must, one break each.
    pairs = [("a", "d"), ("d", "c"), ("c", "a"), ("a", "b"), ("d", "b")]
    unavailable = {"b": {3}, "d": {1}}
    free = make(5, pairs, unavailable=unavailable, rules=Rules(schedule_all=True))
    fair = make(5, pairs, unavailable=unavailable, rules=Rules(schedule_all=True, break_spread=0))
    assert exhaustive(free) == (5, 1)
    assert exhaustive(fair) == (5, 4)
    assert solve_k(free, 1) is not None
    assert solve_k(fair, 3) is None
    schedule = solve_k(fair, 4)
    assert schedule is not None and check_solution(fair, schedule) == []
    assert breaks_by_participant(fair, schedule) == {"a": 1, "b": 1, "c": 1, "d": 1}


def test_the_question_in_a_child_process_answers_yes_and_no():
    problem = make(3, [("a", "b"), ("a", "c")], unavailable={"a": {1}}, rules=Rules(schedule_all=True))
    no = Question(problem, 0, 0, 30)
    yes = Question(problem, 1, 1, 30)
    upward = Question(problem, 0, 3, 30)
    assert no.finished.wait(30) and yes.finished.wait(30) and upward.finished.wait(30)
    assert no.answer == ("no", None) and no.refuted == 0
    # "No break at all?" no; then "at most 3?" yes, handed on at once; then "at most 1?" yes.
    assert upward.found is not None and sum(breaks_by_participant(problem, upward.found).values()) <= 3
    assert upward.refuted == 0 and upward.answer is not None and upward.answer[0] == "yes"
    assert (
        upward.answer[1] is not None and sum(breaks_by_participant(problem, upward.answer[1]).values()) == 1
    )
    assert yes.answer is not None and yes.answer[0] == "yes"
    assert yes.answer[1] is not None and sorted(yes.answer[1].values()) == [0, 2]


def test_a_question_stopped_early_gives_no_answer():
    # Ten meetings of one participant in nine slots: no schedule, and no quick "no" either.
    problem = make(9, [("a", f"p{i}") for i in range(10)], rules=Rules(schedule_all=True))
    question = Question(problem, 0, 3, 30)
    question.stop()
    assert question.finished.is_set()
    assert question.answer is None


def test_beside_the_search_a_no_raises_the_bound_and_a_yes_ends_it(monkeypatch):
    monkeypatch.setattr("scheduler.sat.ASK_AFTER", 0.0)
    problem = make(3, [("a", "b"), ("a", "c")], unavailable={"a": {1}}, rules=Rules(schedule_all=True))
    shared = Shared(time.monotonic(), 0, None, None)
    asking = threading.Thread(target=search, args=(problem, shared, time.monotonic() + 30))
    asking.start()
    asking.join(60)
    assert not asking.is_alive()
    assert shared.done.is_set()
    assert shared.lower == 1  # "no schedule without a break" proved the bound
    assert shared.best is not None and shared.best_breaks == 1
    assert check_solution(problem, shared.best) == []


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(tiny_problems(max_meetings=5))
def test_the_question_with_the_improvers_core_ends_at_the_optimum_and_never_above_it(monkeypatch, problem):
    monkeypatch.setattr("scheduler.sat.ASK_AFTER", 0.0)
    monkeypatch.setattr("scheduler.sat.HOLD_AFTER", 0.0)
    problem = _place_all(problem)
    best = exhaustive(problem)
    shared = Shared(time.monotonic(), 0, None, None)
    held: list[bool] = []
    asking = threading.Thread(target=search, args=(problem, shared, time.monotonic() + 30))
    asking.start()
    while asking.is_alive():  # the child takes longer to start than the first look at the clock
        held.append(shared.hold.is_set())
        asking.join(0.01)
    # The improver stood aside, unless meetings are fixed: then its search is the prover.
    assert any(held) == all(m.fixed_slot is None for m in problem.meetings)
    assert not shared.hold.is_set()  # and is let back
    if best is None:
        assert shared.best is None and shared.infeasible
    else:
        assert shared.best is not None and check_solution(problem, shared.best) == []
        assert shared.best_breaks == best[1]
        assert shared.lower <= best[1]
