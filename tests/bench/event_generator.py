"""Seeded synthetic brokerage event: thousands of participants, skewed meeting demand.

A few "star" organisations are asked for far more meetings than they have slots, and a busy
fifth of the exhibitors ask each other for about as many meetings as they have free slots
while coming for only part of the day (away at its start or at its end); most participants are
asked for a handful. About a tenth of all participant slots are unavailable. The busy tier is
what makes placement hard: earliest-free-slot greedy reaches about 95 % of the b-matching
bound here, where it reaches 100 % when demand is spread thinly.
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
    unavailable_share: float = 0.05,
    sigma: float = 0.7,
    activity_sigma: float = 0.5,
    busy: int = 400,
    busy_share: float = 0.7,
    busy_away: float = 0.3,
    seed: int = 1,
) -> Problem:
    """Build the event; two equal sessions, weights 1-3, schedule_all false, no break spread.

    `busy` participants (a share `busy_share` of the requests are among them) are away for a
    share `busy_away` of the slots in one block; the others for `unavailable_share`, in a block
    or scattered. `busy_share=0` gives the thinly spread event.
    """
    rng = random.Random(seed)
    pids = [f"p{i}" for i in range(participants)]
    busy_ids = rng.sample(range(participants), min(busy, participants)) if busy_share else []
    busy_set = set(busy_ids)
    people = []
    for n, pid in enumerate(pids):
        k = sum(rng.random() < unavailable_share for _ in range(slots))
        if n in busy_set:
            # The busiest exhibitors come for part of the day: away at its start or at its end.
            k = sum(rng.random() < busy_away for _ in range(slots))
            start = 0 if rng.random() < 0.5 else slots - k
            away = frozenset(range(start, start + k))
        elif rng.random() < 0.5:
            # Arrives late or leaves early: one contiguous block away.
            start = rng.randrange(slots - k + 1)
            away = frozenset(range(start, start + k))
        else:
            away = frozenset(rng.sample(range(slots), k))
        people.append(Participant(pid, away))
    # Popularity: lognormal for everyone, plus a handful of stars with a Zipf-like share of
    # `star_share` of all requests, which overloads them well past their free slots.
    popularity = list(accumulate(rng.lognormvariate(0.0, sigma) for _ in pids))
    activity = list(accumulate(rng.lognormvariate(0.0, activity_sigma) for _ in pids))
    star_ids = rng.sample(range(participants), min(stars, participants))
    star_weights = [1.0 / (r + 1) ** 0.6 for r in range(len(star_ids))]
    seen: set[tuple[int, int]] = set()
    out: list[Meeting] = []
    while len(out) < meetings:
        requester = rng.choices(range(participants), cum_weights=activity)[0]
        if busy_ids and rng.random() < busy_share:
            requester, target = rng.sample(busy_ids, 2)
        elif star_ids and rng.random() < star_share:
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
