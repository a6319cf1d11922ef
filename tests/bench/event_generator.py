"""Seeded synthetic brokerage event: thousands of participants, skewed meeting demand.

A few "star" organisations are asked for far more meetings than they have slots, most
participants are asked for a handful, and everyone is away for about a tenth of the day.
"""

from __future__ import annotations

import random
from itertools import accumulate

from scheduler.problem import Meeting, Participant, Problem, Rules


def brokerage_event(
    *,
    participants: int = 2000,
    meetings: int = 8000,
    slots: int = 32,
    capacity: int | None = 400,
    stars: int = 20,
    star_share: float = 0.12,
    unavailable_share: float = 0.10,
    sigma: float = 0.7,
    seed: int = 1,
) -> Problem:
    """Build the event; two equal sessions, weights 1-3, schedule_all false, no break spread."""
    rng = random.Random(seed)
    pids = [f"p{i}" for i in range(participants)]
    people = []
    for pid in pids:
        k = sum(rng.random() < unavailable_share for _ in range(slots))
        if rng.random() < 0.5:
            # Arrives late or leaves early: one contiguous block away.
            start = rng.randrange(slots - k + 1)
            away = frozenset(range(start, start + k))
        else:
            away = frozenset(rng.sample(range(slots), k))
        people.append(Participant(pid, away))
    # Popularity: lognormal for everyone, plus a handful of stars with a Zipf-like share of
    # `star_share` of all requests, which overloads them well past their free slots.
    popularity = list(accumulate(rng.lognormvariate(0.0, sigma) for _ in pids))
    activity = list(accumulate(rng.lognormvariate(0.0, 0.5) for _ in pids))
    star_ids = rng.sample(range(participants), min(stars, participants))
    star_weights = [1.0 / (r + 1) ** 0.6 for r in range(len(star_ids))]
    seen: set[tuple[int, int]] = set()
    out: list[Meeting] = []
    while len(out) < meetings:
        requester = rng.choices(range(participants), cum_weights=activity)[0]
        if star_ids and rng.random() < star_share:
            target = rng.choices(star_ids, weights=star_weights)[0]
        else:
            target = rng.choices(range(participants), cum_weights=popularity)[0]
        pair = (min(requester, target), max(requester, target))
        if requester == target or pair in seen:
            continue
        seen.add(pair)
        weight = rng.choices((1, 2, 3), weights=(0.5, 0.3, 0.2))[0]
        out.append(Meeting(f"m{len(out)}", pids[requester], pids[target], weight=weight))
    half = slots // 2
    return Problem(
        slots=slots,
        participants=tuple(people),
        meetings=tuple(out),
        sessions=((0, half - 1), (half, slots - 1)),
        capacity=capacity,
        rules=Rules(schedule_all=False, break_spread=None),
        name=f"brokerage-{participants}x{meetings}-seed{seed}",
    )
