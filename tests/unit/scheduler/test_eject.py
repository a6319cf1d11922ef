"""Ejection chains: weight never lower, every hard rule kept, equal-weight swaps that pay off."""

from __future__ import annotations

import random
import time

from scheduler.eject import Ejector
from scheduler.greedy import Index, State, greedy_slots
from scheduler.kempe import Kempe
from scheduler.problem import Meeting, Participant, Problem, check_solution
from tests.unit.scheduler.test_large import random_event


def assignments(problem: Problem, slot: list[int]) -> dict[str, int]:
    """Meeting id -> slot of a placement."""
    return {m.id: s for m, s in zip(problem.meetings, slot, strict=True) if s >= 0}


def test_eject_swaps_equal_weights_when_that_frees_room() -> None:
    # One slot: p-q holds it; p-r and q-s (as heavy as p-q) fit together only once p-q is out.
    people = tuple(Participant(x) for x in "pqrs")
    meetings = (Meeting("pq", "p", "q"), Meeting("pr", "p", "r"), Meeting("qs", "q", "s"))
    problem = Problem(1, people, meetings)
    ix = Index.of(problem)
    state = State(ix, [0, -1, -1])
    kempe = Kempe(state)
    kempe.targets = [1, 2]
    kempe.retry()
    assert state.slot == [0, -1, -1]
    Ejector(state).eject(time.monotonic() + 5, random.Random(0))
    assert (state.slot, state.weight) == ([-1, 0, 0], 2)


def test_eject_leaves_a_fixed_meeting_in_place_for_equal_weight() -> None:
    # As above, but p-q is fixed in the slot (published before a re-run): it stays.
    people = tuple(Participant(x) for x in "pqrs")
    meetings = (Meeting("pq", "p", "q", fixed_slot=0), Meeting("pr", "p", "r"), Meeting("qs", "q", "s"))
    problem = Problem(1, people, meetings)
    state = State(Index.of(problem), [0, -1, -1])
    Ejector(state).eject(time.monotonic() + 0.2, random.Random(0))
    assert (state.slot, state.weight) == ([0, -1, -1], 1)


def test_eject_keeps_hard_rules_and_never_loses_weight() -> None:
    for seed in range(4):
        problem = random_event(seed, people=60, meetings=260, slots=10, extras=True)
        ix = Index.of(problem)
        state = State(ix, greedy_slots(ix))
        before = state.weight
        Ejector(state).eject(time.monotonic() + 0.3, random.Random(seed), loss_rate=0.2)
        fresh = State(ix, state.slot)
        assert check_solution(problem, assignments(problem, state.slot)) == []
        assert (state.weight, state.breaks, state.count) == (fresh.weight, fresh.breaks, fresh.count)
        assert state.weight >= before


def test_eject_reaches_a_weight_above_greedy_and_keeps_it() -> None:
    # With a distant deadline and endless patience, reaching `bound` is what ends the walk.
    problem = random_event(7, people=60, meetings=200, slots=10)
    ix = Index.of(problem)
    state = State(ix, greedy_slots(ix))
    bound = state.weight + 1
    Ejector(state).eject(time.monotonic() + 120, random.Random(0), bound=bound, patience=120)
    assert state.weight >= bound
    assert check_solution(problem, assignments(problem, state.slot)) == []
