"""Greedy earliest-free-slot placement: order, hard rules, reasons and status."""

from __future__ import annotations

import random

from scheduler.greedy import Index, State, construct, fill, greedy_slots, solve_greedy
from scheduler.problem import (
    Meeting,
    Participant,
    Problem,
    Rules,
    breaks_by_participant,
    check_solution,
)


def make(
    slots: int,
    pairs: list[tuple[str, str]],
    *,
    unavailable: dict[str, set[int]] | None = None,
    weights: list[int] | None = None,
    capacity: int | None = None,
    rules: Rules = Rules(),
) -> Problem:
    """A problem whose meetings are numbered m0, m1, ... in the order of `pairs`."""
    unavailable = unavailable or {}
    people = sorted({p for pair in pairs for p in pair} | set(unavailable))
    meetings = tuple(
        Meeting(f"m{i}", a, b, weight=(weights[i] if weights else 1)) for i, (a, b) in enumerate(pairs)
    )
    return Problem(
        slots=slots,
        participants=tuple(Participant(p, frozenset(unavailable.get(p, ()))) for p in people),
        meetings=meetings,
        capacity=capacity,
        rules=rules,
    )


def random_problem(seed: int, people: int = 12, meetings: int = 30, slots: int = 8) -> Problem:
    """Random small event with some unavailability, sessions, fixed slots and precedences."""
    rng = random.Random(seed)
    pids = [f"p{i}" for i in range(people)]
    parts = tuple(Participant(p, frozenset(s for s in range(slots) if rng.random() < 0.15)) for p in pids)
    out: list[Meeting] = []
    for i in range(meetings):
        a, b = rng.sample(pids, 2)
        session = rng.choice((None, None, 0, 1))
        fixed = rng.randrange(slots) if rng.random() < 0.1 else None
        after = (out[rng.randrange(len(out))].id,) if out and rng.random() < 0.1 else ()
        out.append(Meeting(f"m{i}", a, b, session, fixed, after, rng.randint(1, 3)))
    half = slots // 2
    return Problem(slots, parts, tuple(out), ((0, half - 1), (half, slots - 1)), capacity=3)


def test_greedy_places_each_meeting_in_earliest_free_slot() -> None:
    problem = make(4, [("a", "b"), ("c", "d"), ("a", "c")])
    solution = solve_greedy(problem)
    assert solution.assignments == {"m0": 0, "m1": 0, "m2": 1}
    assert solution.breaks == 0
    assert solution.status == "optimal"


def test_greedy_heavier_meeting_first() -> None:
    problem = make(2, [("a", "b"), ("a", "c")], weights=[1, 3])
    assert solve_greedy(problem).assignments == {"m1": 0, "m0": 1}


def test_greedy_numeric_ids_sort_numerically() -> None:
    problem = Problem(
        3,
        (Participant("a"), Participant("b")),
        (Meeting("10", "a", "b"), Meeting("9", "a", "b")),
    )
    assert solve_greedy(problem).assignments == {"9": 0, "10": 1}


def test_greedy_skips_unavailable_slots_and_full_slots() -> None:
    problem = make(3, [("a", "b"), ("c", "d")], unavailable={"a": {0}}, capacity=1)
    solution = solve_greedy(problem)
    assert solution.assignments == {"m0": 1, "m1": 0}
    assert check_solution(problem, solution.assignments) == []


def test_greedy_fixed_slot_meeting_keeps_its_slot_against_heavier() -> None:
    problem = Problem(
        2,
        (Participant("a"), Participant("b"), Participant("c")),
        (Meeting("heavy", "a", "b", weight=3), Meeting("locked", "a", "c", fixed_slot=0)),
    )
    assert solve_greedy(problem).assignments == {"locked": 0, "heavy": 1}


def test_greedy_session_and_precedence_respected() -> None:
    problem = Problem(
        4,
        (Participant("a"), Participant("b"), Participant("c")),
        (
            Meeting("late", "a", "b", session=1),
            Meeting("first", "b", "c", weight=1),
            Meeting("second", "a", "c", weight=3, after=("first",)),
        ),
        sessions=((0, 1), (2, 3)),
    )
    solution = solve_greedy(problem)
    assert solution.assignments == {"late": 2, "first": 0, "second": 1}
    assert check_solution(problem, solution.assignments) == []


def test_greedy_reason_when_no_shared_free_slot() -> None:
    problem = make(2, [("a", "b")], unavailable={"a": {0}, "b": {1}})
    solution = solve_greedy(problem)
    assert [(u.meeting, u.reason) for u in solution.unscheduled] == [
        ("m0", "participants a and b share no free slot")
    ]


def test_greedy_reason_when_participant_overloaded() -> None:
    problem = make(2, [("s", "a"), ("s", "b"), ("s", "c")])
    solution = solve_greedy(problem)
    assert solution.assignments == {"m0": 0, "m1": 1}
    assert [(u.meeting, u.reason) for u in solution.unscheduled] == [
        ("m2", "s has 3 accepted meetings for 2 free slots")
    ]


def test_greedy_reason_when_predecessor_unscheduled() -> None:
    problem = Problem(
        2,
        (Participant("a", frozenset({0, 1})), Participant("b"), Participant("c")),
        (Meeting("x", "a", "b"), Meeting("y", "b", "c", after=("x",))),
    )
    solution = solve_greedy(problem)
    assert {u.meeting: u.reason for u in solution.unscheduled} == {
        "x": "participants a and b share no free slot",
        "y": "comes after meeting x, which is not placed",
    }


def test_greedy_reason_when_room_taken() -> None:
    # A triangle in two slots: a-b then b-c leave a and c free in different slots.
    problem = make(2, [("a", "b"), ("b", "c"), ("a", "c")], weights=[3, 2, 1])
    solution = solve_greedy(problem)
    assert [(u.meeting, u.reason) for u in solution.unscheduled] == [
        ("m2", "no slot left free for both a and c once higher-weight meetings were placed")
    ]


def test_greedy_reason_when_tables_run_out() -> None:
    problem = make(2, [("a", "b"), ("c", "d"), ("e", "f")], capacity=1, weights=[3, 2, 1])
    solution = solve_greedy(problem)
    assert [(u.meeting, u.reason) for u in solution.unscheduled] == [
        ("m2", "2 slots of 1 tables hold fewer meetings than were accepted")
    ]


def test_greedy_schedule_all_with_unplaceable_meeting_is_infeasible() -> None:
    problem = make(2, [("s", "a"), ("s", "b"), ("s", "c")], rules=Rules(schedule_all=True))
    assert solve_greedy(problem).status == "infeasible"


def test_greedy_counts_breaks_like_problem() -> None:
    # a meets b in slot 0; b is busy with c in slot 1, so a's meeting with c lands in slot 2.
    problem = make(4, [("a", "b"), ("b", "c"), ("a", "c")], weights=[3, 2, 1])
    solution = solve_greedy(problem)
    assert solution.assignments == {"m0": 0, "m1": 1, "m2": 2}
    assert solution.breaks == sum(breaks_by_participant(problem, solution.assignments).values())
    assert solution.breaks == 1
    assert solution.status == "feasible"


def test_greedy_random_problems_obey_every_hard_rule() -> None:
    for seed in range(20):
        problem = random_problem(seed)
        solution = solve_greedy(problem)
        assert check_solution(problem, solution.assignments) == []
        assert solution.scheduled + len(solution.unscheduled) == len(problem.meetings)
        assert solution.breaks == sum(breaks_by_participant(problem, solution.assignments).values())


def test_construct_and_fill_obey_every_hard_rule() -> None:
    for seed in range(20):
        problem = random_problem(seed)
        ix = Index.of(problem)
        slot = construct(ix, list(range(len(problem.meetings))), random.Random(seed))
        fill(ix, slot)
        assignments = {m.id: s for m, s in zip(problem.meetings, slot, strict=True) if s >= 0}
        assert check_solution(problem, assignments) == []


def test_construct_keeps_busy_slots_together() -> None:
    # A star with four partners: break-aware placement gives the star one unbroken run.
    problem = make(8, [("s", "a"), ("s", "b"), ("s", "c"), ("s", "d")], unavailable={"s": {0, 1}})
    ix = Index.of(problem)
    slot = construct(ix, [0, 1, 2, 3], random.Random(0))
    assert sorted(slot)[-1] - sorted(slot)[0] == 3
    assert State(ix, slot).breaks == 0


def test_state_move_tracks_weight_and_breaks() -> None:
    problem = make(4, [("a", "b"), ("a", "c")], weights=[2, 3])
    ix = Index.of(problem)
    state = State(ix, greedy_slots(ix))
    assert (state.weight, state.breaks) == (5, 0)
    state.move(0, 3)
    assert (state.weight, state.breaks, state.pbreaks) == (5, 1, [1, 0, 0])
    state.move(1, -1)
    assert (state.weight, state.breaks, state.count) == (2, 0, [0, 0, 0, 1])
