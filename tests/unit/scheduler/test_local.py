"""Per-participant and per-pair lower bounds on breaks (scheduler.local), against exhaustive search."""

from __future__ import annotations

import itertools
import random

from scheduler.local import min_breaks_alone, pair_lower_bounds, participant_lower_bounds
from scheduler.model import meeting_domains
from scheduler.problem import Meeting, Participant, Problem, count_breaks


def tiny_event(seed: int, people: int = 5, meetings: int = 8, slots: int = 7) -> Problem:
    """A few people, a few meetings, some slots unavailable and some meetings fixed."""
    rng = random.Random(seed)
    pids = [f"p{i}" for i in range(people)]
    parts = tuple(Participant(p, frozenset(s for s in range(slots) if rng.random() < 0.2)) for p in pids)
    out = []
    for i in range(meetings):
        a, b = rng.sample(pids, 2)
        fixed = rng.randrange(slots) if rng.random() < 0.2 else None
        out.append(Meeting(f"m{i}", a, b, None, fixed, (), 1))
    return Problem(slots, parts, tuple(out), ())


def fewest_breaks(domains: list[list[int]]) -> int:
    """Fewest breaks over every way to give the meetings distinct slots of their domains (-1: none)."""
    found = [count_breaks(pick) for pick in itertools.product(*domains) if len(set(pick)) == len(pick)]
    return min(found, default=-1)


def test_a_participant_alone_gets_the_exhaustive_minimum() -> None:
    checked = 0
    for seed in range(40):
        problem = tiny_event(seed)
        domains = meeting_domains(problem, True)
        for p in problem.participants:
            mine = [d for m, d in zip(problem.meetings, domains, strict=True) if p.id in (m.a, m.b)]
            if len(mine) > 5:
                continue
            assert min_breaks_alone(mine, problem.slots, time_limit=10) == fewest_breaks(mine)
            checked += 1
    assert checked > 100


def test_bounds_are_the_same_on_one_thread_or_two() -> None:
    for seed in range(20):
        problem = tiny_event(seed, people=8, meetings=16, slots=8)
        domains = meeting_domains(problem, True)
        one = participant_lower_bounds(problem, domains, time_limit=30, workers=1)
        two = participant_lower_bounds(problem, domains, time_limit=30, workers=2)
        assert two == one
        assert set(one) == {p.id for p in problem.participants}
        single = {p: max(0, lb) for p, lb in one.items()}
        pairs_one = pair_lower_bounds(problem, domains, single, time_limit=30, workers=1)
        pairs_two = pair_lower_bounds(problem, domains, single, time_limit=30, workers=2)
        assert pairs_two == pairs_one


def test_a_pair_bound_sees_what_neither_participant_alone_does() -> None:
    # a is held at slots 0 and 2, b at 3 and 4; their meeting fits either alone without a break
    # (a: slot 1, b: slot 2), but together only slot 1 is free to both, which breaks b's day.
    free = frozenset[int]()
    people = tuple(Participant(p, free) for p in "abcdef")
    meetings = (
        Meeting("ab", "a", "b", None, None, (), 1),
        Meeting("ac", "a", "c", None, 0, (), 1),
        Meeting("ad", "a", "d", None, 2, (), 1),
        Meeting("be", "b", "e", None, 3, (), 1),
        Meeting("bf", "b", "f", None, 4, (), 1),
    )
    problem = Problem(5, people, meetings, ())
    domains = meeting_domains(problem, True)
    single = participant_lower_bounds(problem, domains, time_limit=30)
    assert single == dict.fromkeys("abcdef", 0)
    for workers in (1, 2):
        assert pair_lower_bounds(problem, domains, single, time_limit=30, workers=workers) == {("a", "b"): 1}
