"""Small problem builders and an exhaustive reference solver for tiny problems."""

from __future__ import annotations

import itertools

from scheduler.problem import Meeting, Participant, Problem, Rules, breaks_by_participant, check_solution


def make(
    slots: int,
    pairs: list[tuple[str, str]],
    *,
    unavailable: dict[str, set[int]] | None = None,
    capacity: int | None = None,
    rules: Rules = Rules(),
    sessions: tuple[tuple[int, int], ...] = (),
    **per_meeting: dict[int, object],
) -> Problem:
    """A problem whose meetings are m0, m1, ... in the order of `pairs`; per_meeting sets fields by index."""
    unavailable = unavailable or {}
    people = sorted({p for pair in pairs for p in pair} | set(unavailable))
    meetings = []
    for i, (a, b) in enumerate(pairs):
        extra = {name: values[i] for name, values in per_meeting.items() if i in values}
        meetings.append(Meeting(f"m{i}", a, b, **extra))  # type: ignore[arg-type]
    return Problem(
        slots=slots,
        participants=tuple(Participant(p, frozenset(unavailable.get(p, set()))) for p in people),
        meetings=tuple(meetings),
        sessions=sessions,
        capacity=capacity,
        rules=rules,
    )


def exhaustive(problem: Problem) -> tuple[int, int] | None:
    """Best (weight, breaks) by brute force, lexicographic; None if nothing satisfies the rules."""
    choices = [None, *range(problem.slots)] if not problem.rules.schedule_all else list(range(problem.slots))
    best: tuple[int, int] | None = None
    for combo in itertools.product(choices, repeat=len(problem.meetings)):
        assignments = {m.id: s for m, s in zip(problem.meetings, combo, strict=True) if s is not None}
        if check_solution(problem, assignments):
            continue
        weight = sum(m.weight for m in problem.meetings if m.id in assignments)
        breaks = sum(breaks_by_participant(problem, assignments).values())
        if best is None or (weight, -breaks) > (best[0], -best[1]):
            best = (weight, breaks)
    return best
