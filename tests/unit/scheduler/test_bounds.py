"""The b-matching weight bound: exact value, LP fallback, and that it really bounds."""

from __future__ import annotations

import itertools
import random

from scheduler.bounds import bmatching, lp_bound, participant_capacity, weight_upper_bound
from scheduler.greedy import Index, solve_greedy
from scheduler.problem import Meeting, Participant, Problem


def make(
    slots: int,
    meetings: list[tuple[str, str, int]],
    unavailable: dict[str, set[int]] | None = None,
    capacity: int | None = None,
) -> Problem:
    """Meetings m0, m1, ... given as (a, b, weight)."""
    unavailable = unavailable or {}
    people = sorted({p for a, b, _ in meetings for p in (a, b)})
    return Problem(
        slots=slots,
        participants=tuple(Participant(p, frozenset(unavailable.get(p, ()))) for p in people),
        meetings=tuple(Meeting(f"m{i}", a, b, weight=w) for i, (a, b, w) in enumerate(meetings)),
        capacity=capacity,
    )


def brute_force(problem: Problem) -> int:
    """Best b-matching weight by trying every subset of meetings."""
    ix = Index.of(problem)
    caps = participant_capacity(ix)
    usable = [i for i, mask in enumerate(ix.allowed) if mask]
    best = 0
    for k in range(len(usable) + 1):
        for subset in itertools.combinations(usable, k):
            load = [0] * len(ix.pids)
            for i in subset:
                load[ix.a[i]] += 1
                load[ix.b[i]] += 1
            if all(x <= c for x, c in zip(load, caps, strict=True)) and k <= ix.capacity * problem.slots:
                best = max(best, sum(ix.weight[i] for i in subset))
    return best


def test_bmatching_keeps_heaviest_meetings_of_overloaded_participant() -> None:
    problem = make(3, [("s", f"p{w}", w) for w in range(1, 6)])
    bound = bmatching(problem, time_limit=5, workers=1)
    assert (bound.value, bound.exact, bound.method) == (12, True, "cp-sat")
    assert sorted(bound.chosen) == [2, 3, 4]


def test_bmatching_ignores_meetings_without_shared_free_slot() -> None:
    problem = make(2, [("a", "b", 5), ("a", "c", 1)], unavailable={"a": {0}, "b": {1}})
    assert weight_upper_bound(problem, time_limit=5, workers=1) == 1


def test_bmatching_counts_only_slots_some_meeting_can_use() -> None:
    # s is free in three slots but c, d and e are only ever free in slot 0.
    problem = make(3, [("s", p, 1) for p in "cde"], unavailable={p: {1, 2} for p in "cde"})
    assert participant_capacity(Index.of(problem))[Index.of(problem).pids.index("s")] == 1
    assert weight_upper_bound(problem, time_limit=5, workers=1) == 1


def test_bmatching_respects_total_table_capacity() -> None:
    problem = make(2, [("a", "b", 1), ("c", "d", 2), ("e", "f", 3), ("g", "h", 4)], capacity=1)
    assert weight_upper_bound(problem, time_limit=5, workers=1) == 7


def test_lp_bound_is_fractional_on_odd_cycle() -> None:
    # Triangle, one slot each: one meeting fits, the LP takes half of each (3 x 2 / 2).
    problem = make(1, [("a", "b", 2), ("b", "c", 2), ("a", "c", 2)])
    assert lp_bound(Index.of(problem)) == 3
    assert bmatching(problem, time_limit=5, workers=1).value == 2


def test_bmatching_equals_brute_force_on_random_small_events() -> None:
    rng = random.Random(7)
    for _ in range(15):
        people = [f"p{i}" for i in range(5)]
        meetings = [(*rng.sample(people, 2), rng.randint(1, 3)) for _ in range(9)]
        unavailable = {p: {s for s in range(3) if rng.random() < 0.3} for p in people}
        problem = make(3, meetings, unavailable, capacity=rng.choice((None, 2)))
        bound = bmatching(problem, time_limit=5, workers=1)
        assert bound.exact
        assert bound.value == brute_force(problem)
        assert lp_bound(Index.of(problem)) >= bound.value
        assert solve_greedy(problem).weight <= bound.value
