"""solve_large: valid schedules, weight first, fewer breaks than greedy, stop and progress."""

from __future__ import annotations

import dataclasses
import random
import threading
import time

from ortools.sat.python import cp_model

from scheduler.bounds import bmatching
from scheduler.greedy import Index, State, construct, greedy_slots, solve_greedy
from scheduler.kempe import Kempe
from scheduler.large import enforce_spread, solve_large
from scheduler.lns import _stop_when, improve
from scheduler.problem import Meeting, Participant, Problem, Rules, breaks_by_participant, check_solution


def random_event(
    seed: int, people: int = 60, meetings: int = 200, slots: int = 12, extras: bool = False
) -> Problem:
    """Random event; with `extras` also sessions, fixed slots and precedences."""
    rng = random.Random(seed)
    pids = [f"p{i}" for i in range(people)]
    parts = tuple(Participant(p, frozenset(s for s in range(slots) if rng.random() < 0.1)) for p in pids)
    stars = pids[:3]
    out: list[Meeting] = []
    for i in range(meetings):
        a = rng.choice(pids)
        b = rng.choice(stars) if rng.random() < 0.2 else rng.choice(pids)
        if a == b:
            continue
        session = fixed = None
        after: tuple[str, ...] = ()
        if extras:
            session = rng.choice((None, None, 0, 1))
            fixed = rng.randrange(slots) if rng.random() < 0.05 else None
            after = (out[rng.randrange(len(out))].id,) if out and rng.random() < 0.05 else ()
        out.append(Meeting(f"m{i}", a, b, session, fixed, after, rng.randint(1, 3)))
    half = slots // 2
    return Problem(slots, parts, tuple(out), ((0, half - 1), (half, slots - 1)), capacity=people // 3)


def objective(problem: Problem, assignments: dict[str, int]) -> tuple[int, int]:
    """(placed weight, -total breaks), recomputed from scratch."""
    weight = sum(m.weight for m in problem.meetings if m.id in assignments)
    return weight, -sum(breaks_by_participant(problem, assignments).values())


def test_solve_large_random_events_obey_every_hard_rule() -> None:
    for seed in range(4):
        problem = random_event(seed, extras=True)
        solution = solve_large(problem, time_limit=0.5, workers=1, seed=seed)
        assert check_solution(problem, solution.assignments) == []
        assert (solution.weight, -solution.breaks) == objective(problem, solution.assignments)
        assert solution.scheduled + len(solution.unscheduled) == len(problem.meetings)


def test_solve_large_beats_greedy_and_reaches_bound() -> None:
    problem = random_event(11, people=120, meetings=480, slots=16)
    greedy = solve_greedy(problem)
    solution = solve_large(problem, time_limit=3, workers=1)
    bound = bmatching(problem, time_limit=5, workers=1)
    assert check_solution(problem, solution.assignments) == []
    assert solution.weight == bound.value
    assert solution.weight >= greedy.weight
    assert solution.breaks * 2 < greedy.breaks


def test_solve_large_without_conflicts_is_optimal() -> None:
    # A path a-b-c-d: every meeting fits back to back, so weight and breaks are both optimal.
    people = tuple(Participant(p) for p in "abcd")
    meetings = (Meeting("ab", "a", "b"), Meeting("bc", "b", "c"), Meeting("cd", "c", "d"))
    problem = Problem(4, people, meetings)
    solution = solve_large(problem, time_limit=1, workers=1)
    assert (solution.status, solution.weight, solution.breaks, solution.breaks_lower_bound) == (
        "optimal",
        3,
        0,
        0,
    )


def test_solve_large_explains_unplaced_meetings() -> None:
    people = (
        Participant("s"),
        Participant("a"),
        Participant("b"),
        Participant("c"),
        Participant("x", frozenset({0, 1})),
    )
    meetings = (
        Meeting("sa", "s", "a", weight=3),
        Meeting("sb", "s", "b", weight=2),
        Meeting("sc", "s", "c", weight=1),
        Meeting("ax", "a", "x"),
    )
    solution = solve_large(Problem(2, people, meetings), time_limit=1, workers=1)
    assert solution.assignments.keys() == {"sa", "sb"}
    assert {u.meeting: u.reason for u in solution.unscheduled} == {
        "sc": "s has 3 accepted meetings for 2 free slots",
        "ax": "participants a and x share no free slot",
    }


def test_improve_moves_a_meeting_to_fit_an_unplaced_one() -> None:
    # Greedy puts a-b in slot 0; a-c can only use slot 0 (c is away in 1), so a-b must move.
    people = (Participant("a"), Participant("b"), Participant("c", frozenset({1})))
    problem = Problem(2, people, (Meeting("ab", "a", "b", weight=2), Meeting("ac", "a", "c")))
    ix = Index.of(problem)
    state = State(ix, greedy_slots(ix))
    assert state.slot == [0, -1]
    improve(state, [1], deadline=float("inf"), workers=1, rng=random.Random(0))
    assert state.slot == [1, 0]
    assert (state.weight, state.breaks) == (3, 0)


def test_kempe_anneal_keeps_schedule_valid_and_tracks_breaks() -> None:
    problem = random_event(5, people=80, meetings=300, slots=12)
    ix = Index.of(problem)
    state = State(ix, construct(ix, list(range(len(problem.meetings))), random.Random(1)))
    before = state.breaks
    kempe = Kempe(state)
    kempe.anneal(time.monotonic() + 0.5, random.Random(2), temperature=0.0)
    fresh = State(ix, state.slot)
    assert (state.weight, state.breaks, state.pbreaks, state.count) == (
        fresh.weight,
        fresh.breaks,
        fresh.pbreaks,
        fresh.count,
    )
    best = kempe.best()
    assignments = {m.id: s for m, s in zip(problem.meetings, best, strict=True) if s >= 0}
    assert check_solution(problem, assignments) == []
    assert State(ix, best).breaks <= before


def test_kempe_anneal_hands_over_each_new_best_and_ends_on_the_best() -> None:
    problem = random_event(6, people=80, meetings=300, slots=12)
    ix = Index.of(problem)
    state = State(ix, construct(ix, list(range(len(problem.meetings))), random.Random(1)))
    kempe = Kempe(state)
    seen: list[list[int]] = []
    kempe.anneal(time.monotonic() + 0.5, random.Random(2), on_best=seen.append)
    assert seen
    breaks = [State(ix, slot).breaks for slot in seen]
    assert breaks == sorted(set(breaks), reverse=True)  # each one better than the one before
    assert breaks[-1] == State(ix, kempe.best()).breaks


def test_solve_large_stops_when_asked() -> None:
    problem = random_event(3)
    stop = threading.Event()
    stop.set()
    solution = solve_large(problem, time_limit=30, workers=1, stop=stop)
    assert solution.seconds < 5
    assert check_solution(problem, solution.assignments) == []


def test_solve_large_reports_progress() -> None:
    problem = random_event(4)
    seen: list[dict[str, float | int | None]] = []
    solution = solve_large(problem, time_limit=1.0, workers=1, progress=seen.append)
    assert seen
    assert {tuple(sorted(r)) for r in seen} == {("bound", "breaks", "seconds", "weight")}
    assert seen[0]["bound"] == bmatching(problem, time_limit=5, workers=1).value
    assert seen[-1]["weight"] <= solution.weight


def test_solve_large_hands_over_each_better_placement_as_it_finds_it() -> None:
    problem = random_event(5)
    seen: list[tuple[list[int], int, int]] = []
    solution = solve_large(problem, time_limit=1.0, workers=1, on_schedule=lambda *got: seen.append(got))
    assert seen
    keys = [(weight, -breaks) for _, breaks, weight in seen]
    assert keys == sorted(set(keys))  # each one better than the one before
    for slot, breaks, weight in seen:
        assignments = {m.id: s for m, s in zip(problem.meetings, slot, strict=True) if s >= 0}
        assert objective(problem, assignments) == (weight, -breaks)
        assert check_solution(problem, assignments) == []
    assert keys[-1] <= (solution.weight, -solution.breaks)


def test_solve_large_honours_break_spread() -> None:
    for spread in (0, 1):
        problem = dataclasses.replace(
            random_event(0, people=80, meetings=300), rules=Rules(break_spread=spread)
        )
        solution = solve_large(problem, time_limit=1.0, workers=1)
        counts = breaks_by_participant(problem, solution.assignments).values()
        assert check_solution(problem, solution.assignments) == []
        assert max(counts) - min(counts) <= spread
        assert solution.status == "feasible"


def test_enforce_spread_drops_whole_runs_until_rule_holds() -> None:
    # p meets a, b in slots 0-1 and c in slot 3: one break; spread 0 forces a run out.
    people = tuple(Participant(x) for x in "pabc")
    meetings = (
        Meeting("pa", "p", "a", weight=3),
        Meeting("pb", "p", "b", weight=3),
        Meeting("pc", "p", "c", weight=1),
    )
    problem = Problem(4, people, meetings, rules=Rules(break_spread=0))
    state = State(Index.of(problem), [0, 1, 3])
    assert enforce_spread(state, 0) == [2]
    assert (state.slot, state.breaks, state.weight) == ([0, 1, -1], 0, 6)


def test_solve_large_empty_event_is_optimal() -> None:
    problem = Problem(4, (Participant("a"),), ())
    solution = solve_large(problem, time_limit=1, workers=1)
    assert (solution.status, solution.scheduled, solution.weight, solution.breaks) == ("optimal", 0, 0, 0)


def test_solve_large_break_spread_with_precedences_obeys_every_rule() -> None:
    for seed in range(3):
        problem = dataclasses.replace(random_event(seed, extras=True), rules=Rules(break_spread=0))
        solution = solve_large(problem, time_limit=0.6, workers=1, seed=seed)
        assert check_solution(problem, solution.assignments) == []


def test_kempe_insert_swaps_a_meeting_away_to_make_room() -> None:
    # a-b sits in slot 0; a-c can only use slot 0 (c is away in 1): a-b swaps to slot 1.
    people = (Participant("a"), Participant("b"), Participant("c", frozenset({1})))
    problem = Problem(2, people, (Meeting("ab", "a", "b"), Meeting("ac", "a", "c")))
    state = State(Index.of(problem), [0, -1])
    kempe = Kempe(state)
    assert kempe.insert(1)
    assert (state.slot, kempe.evicted, state.weight) == ([1, 0], [], 2)


def test_kempe_insert_evicts_only_lighter_meetings() -> None:
    people = (Participant("a"), Participant("b"), Participant("c"))
    meetings = (Meeting("ab", "a", "b", weight=1), Meeting("ac", "a", "c", weight=3))
    problem = Problem(1, people, meetings)
    state = State(Index.of(problem), [0, -1])
    kempe = Kempe(state)
    assert kempe.insert(1)
    assert (state.slot, kempe.evicted, state.weight) == ([-1, 0], [0], 3)
    assert not kempe.insert(0)
    kempe.retry()
    assert (state.slot, kempe.targets) == ([-1, 0], [0])


def test_solve_large_never_below_greedy_on_crowded_events() -> None:
    # Overloaded participants (more requests than slots): where ejection chains do their work.
    for seed in range(3):
        problem = random_event(seed, people=40, meetings=320, slots=8)
        solution = solve_large(problem, time_limit=1.0, workers=1, seed=seed)
        assert check_solution(problem, solution.assignments) == []
        assert (solution.weight, -solution.breaks) == objective(problem, solution.assignments)
        assert solution.weight >= solve_greedy(problem).weight


class _Count(cp_model.CpSolverSolutionCallback):
    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def on_solution_callback(self) -> None:
        self.count += 1


def test_a_neighbourhood_being_solved_stops_when_the_search_is_asked_to() -> None:
    # A model CP-SAT would spend its whole two minutes on: every one of 2^40 solutions listed.
    model = cp_model.CpModel()
    for i in range(40):
        model.new_bool_var(f"b{i}")
    solver = cp_model.CpSolver()
    solver.parameters.enumerate_all_solutions = True
    solver.parameters.max_time_in_seconds = 120.0
    stop, finished, running = threading.Event(), threading.Event(), [solver]
    watcher = threading.Thread(target=_stop_when, args=(stop, finished, running))
    watcher.start()
    threading.Timer(0.2, stop.set).start()
    status = solver.solve(model, _Count())
    finished.set()
    watcher.join(5.0)
    # Stopped, not run out of time, and not through the list (that would be OPTIMAL).
    assert (status, solver.wall_time < 60.0, watcher.is_alive()) == (cp_model.FEASIBLE, True, False)
