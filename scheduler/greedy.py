"""Greedy earliest-free-slot placement: the baseline and a first solution for the large solver.

Also holds what `bounds` and `large` share: the integer-indexed view of a problem (`Index`),
the placement state (`State`), the break-aware placement (`construct`, `fill`) and the
conversion to a Solution (reasons come from `scheduler.explain`, as for the exact solver).
"""

from __future__ import annotations

import heapq
import random
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from scheduler.explain import explain_unplaced
from scheduler.problem import Problem, Solution, Unscheduled


def id_key(identifier: str) -> tuple[int, int, str]:
    """Sort key ordering numeric ids numerically ("2" before "10") and the rest as text."""
    return (0, int(identifier), "") if identifier.isdigit() else (1, 0, identifier)


def runs(mask: int) -> int:
    """Number of maximal runs of set bits (busy runs of a participant's slot mask)."""
    return (mask & ~(mask << 1)).bit_count()


def mask_breaks(mask: int) -> int:
    """Breaks of a participant whose busy slots are the set bits of `mask`."""
    return max(0, runs(mask) - 1)


@dataclass
class Index:
    """Integer-indexed, bitmask view of a problem: what the heuristics loop over."""

    problem: Problem
    pids: list[str]
    a: list[int]
    b: list[int]
    weight: list[int]
    allowed: list[int]  # static slot mask: fixed slot, session, both participants available
    preds: list[list[int]]  # meetings this one must come strictly after
    free: list[int]  # per participant: mask of available slots
    inc: list[list[int]]  # per participant: incident meetings
    full: int  # mask of all slots
    capacity: int  # per-slot capacity (len(meetings) when unlimited)

    @classmethod
    def of(cls, problem: Problem) -> Index:
        """Build the index of `problem` (which should have passed `validate`)."""
        full = (1 << problem.slots) - 1
        pids = [p.id for p in problem.participants]
        pidx = {pid: i for i, pid in enumerate(pids)}
        free = [full & ~sum(1 << s for s in set(p.unavailable)) for p in problem.participants]
        midx = {m.id: i for i, m in enumerate(problem.meetings)}
        a, b, weight, allowed, preds = [], [], [], [], []
        inc: list[list[int]] = [[] for _ in pids]
        for i, m in enumerate(problem.meetings):
            pa, pb = pidx[m.a], pidx[m.b]
            mask = free[pa] & free[pb]
            if m.session is not None:
                first, last = problem.sessions[m.session]
                mask &= ((1 << (last + 1)) - 1) & ~((1 << first) - 1)
            if m.fixed_slot is not None:
                mask &= 1 << m.fixed_slot
            a.append(pa)
            b.append(pb)
            weight.append(m.weight)
            allowed.append(mask)
            preds.append([midx[o] for o in m.after])
            inc[pa].append(i)
            inc[pb].append(i)
        cap = len(problem.meetings) if problem.capacity is None else problem.capacity
        return cls(problem, pids, a, b, weight, allowed, preds, free, inc, full, cap)

    def slot_masks(self, slot: Sequence[int]) -> list[int]:
        """Busy mask of every participant when meeting i sits in slot[i] (-1 = unplaced)."""
        occ = [0] * len(self.pids)
        for i, s in enumerate(slot):
            if s >= 0:
                occ[self.a[i]] |= 1 << s
                occ[self.b[i]] |= 1 << s
        return occ


def trivially_infeasible(ix: Index) -> bool:
    """True when schedule_all cannot hold: a meeting without slot or a participant over capacity."""
    if any(not mask for mask in ix.allowed):
        return True
    total = ix.problem.slots * ix.capacity
    if len(ix.allowed) > total:
        return True
    return any(len(ix.inc[p]) > ix.free[p].bit_count() for p in range(len(ix.pids)))


def to_solution(
    ix: Index, slot: Sequence[int], started: float, bound: int | None = None, proven: bool = False
) -> Solution:
    """Wrap a placement as a Solution with reasons; `bound` is an upper bound on placed weight."""
    problem = ix.problem
    assignments = {problem.meetings[i].id: s for i, s in enumerate(slot) if s >= 0}
    occ = ix.slot_masks(slot)
    per_participant = [mask_breaks(mask) for mask in occ]
    breaks = sum(per_participant)
    weight = sum(w for w, s in zip(ix.weight, slot, strict=True) if s >= 0)
    unplaced = [problem.meetings[i] for i, s in enumerate(slot) if s < 0]
    all_weight = sum(ix.weight)
    spread = problem.rules.break_spread
    spread_ok = spread is None or not per_participant or max(per_participant) - min(per_participant) <= spread
    if problem.rules.schedule_all and (unplaced or not spread_ok):
        status = "infeasible" if trivially_infeasible(ix) else "unknown"
    elif not spread_ok:
        status = "unknown"
    elif breaks == 0 and (weight == all_weight or proven or (bound is not None and weight >= bound)):
        # Nothing better exists: every (or the most) weight placed with no break at all.
        status = "optimal"
    else:
        status = "feasible"
    # The same wording as the exact solver's, so organisers read one vocabulary of reasons.
    domains = [[t for t in range(problem.slots) if mask >> t & 1] for mask in ix.allowed]
    reasons = explain_unplaced(problem, domains, unplaced, infeasible=status == "infeasible")
    unscheduled = [Unscheduled(m.id, reasons[m.id]) for m in unplaced]
    return Solution(
        status=status,
        scheduled=len(assignments),
        weight=weight,
        breaks=breaks,
        breaks_lower_bound=0 if status == "optimal" else None,
        seconds=round(time.monotonic() - started, 3),
        assignments=assignments,
        unscheduled=unscheduled,
    )


def greedy_slots(ix: Index, order: Sequence[int] | None = None) -> list[int]:
    """Place meetings one by one in their earliest feasible slot; return slot per meeting (-1 = none).

    Default order: meetings with a fixed slot first (they have exactly one place, which a heavier
    meeting must not take), then by weight descending and id. A meeting waits until every meeting it
    must follow has been handled, so precedences are respected.
    """
    problem = ix.problem
    n = len(ix.a)
    if order is None:
        keys = [
            (problem.meetings[i].fixed_slot is None, -ix.weight[i], id_key(problem.meetings[i].id))
            for i in range(n)
        ]
    else:
        keys = [(True, 0, (0, n, ""))] * n  # meetings left out of `order` come last
        for rank, i in enumerate(order):
            keys[i] = (False, 0, (0, rank, ""))
    succ: list[list[int]] = [[] for _ in range(n)]
    waiting = [len(p) for p in ix.preds]
    for i, ps in enumerate(ix.preds):
        for j in ps:
            succ[j].append(i)
    heap = [(keys[i], i) for i in range(n) if waiting[i] == 0]
    heapq.heapify(heap)
    slot = [-1] * n
    occ = [0] * len(ix.pids)
    count = [0] * problem.slots
    open_mask = ix.full if ix.capacity > 0 else 0
    while heap:
        _, i = heapq.heappop(heap)
        mask = ix.allowed[i] & open_mask & ~occ[ix.a[i]] & ~occ[ix.b[i]]
        if all(slot[j] >= 0 for j in ix.preds[i]):
            latest = max((slot[j] for j in ix.preds[i]), default=-1)
            mask &= ~((1 << (latest + 1)) - 1)
        else:
            mask = 0
        if mask:
            s = (mask & -mask).bit_length() - 1
            slot[i] = s
            occ[ix.a[i]] |= 1 << s
            occ[ix.b[i]] |= 1 << s
            count[s] += 1
            if count[s] >= ix.capacity:
                open_mask &= ~(1 << s)
        for k in succ[i]:
            waiting[k] -= 1
            if waiting[k] == 0:
                heapq.heappush(heap, (keys[k], k))
    return slot


def solve_greedy(problem: Problem, order: Sequence[int] | None = None) -> Solution:
    """Greedy earliest-free-slot schedule of `problem` as a Solution (status never "optimal"
    unless everything is placed without a single break)."""
    started = time.monotonic()
    ix = Index.of(problem)
    return to_solution(ix, greedy_slots(ix, order), started)


def slots_from_assignments(ix: Index, assignments: Mapping[str, int]) -> list[int]:
    """Slot per meeting index from a meeting-id -> slot mapping (-1 where absent)."""
    return [assignments.get(m.id, -1) for m in ix.problem.meetings]


def _delta(mask: int, bit: int) -> int:
    """Change in breaks when `bit` is added to a participant's busy mask."""
    return mask_breaks(mask | bit) - mask_breaks(mask)


def _gap(mask: int, s: int) -> int:
    """Distance from slot s to the nearest busy slot (0 when the participant has none)."""
    if not mask:
        return 0
    best = 64
    m = mask
    while m:
        low = m & -m
        best = min(best, abs(low.bit_length() - 1 - s))
        m ^= low
    return best


def construct(ix: Index, chosen: list[int], rng: random.Random) -> list[int]:
    """Place the chosen meetings break-aware; return slot per meeting (-1 = unplaced).

    Busiest participants first, since their slots are the scarce ones; each of their meetings
    goes where it adds the fewest breaks for both sides, then closest to what they already hold,
    then to the emptiest slot (which spreads blocks over the day and keeps capacity free).
    """
    n = len(ix.a)
    slot = [-1] * n
    occ = [0] * len(ix.pids)
    count = [0] * ix.problem.slots
    open_mask = ix.full if ix.capacity > 0 else 0
    mine: list[list[int]] = [[] for _ in ix.pids]
    for i in chosen:
        mine[ix.a[i]].append(i)
        mine[ix.b[i]].append(i)
    load = [len(x) for x in mine]
    has_prec = any(ix.preds)
    for p in sorted(range(len(ix.pids)), key=lambda p: (-load[p], rng.random())):
        todo = [i for i in mine[p] if slot[i] < 0]
        todo.sort(key=lambda i: -load[ix.a[i] + ix.b[i] - p])
        for i in todo:
            a, b = ix.a[i], ix.b[i]
            mask = ix.allowed[i] & open_mask & ~occ[a] & ~occ[b]
            if has_prec:
                mask &= _precedence_window(ix, i, slot)
            best, best_key = -1, None
            m = mask
            while m:
                low = m & -m
                s = low.bit_length() - 1
                m ^= low
                key = (_delta(occ[a], low) + _delta(occ[b], low), _gap(occ[a], s) + _gap(occ[b], s), count[s])
                if best_key is None or key < best_key:
                    best, best_key = s, key
            if best >= 0:
                slot[i] = best
                occ[a] |= 1 << best
                occ[b] |= 1 << best
                count[best] += 1
                if count[best] >= ix.capacity:
                    open_mask &= ~(1 << best)
    return slot


def _precedence_window(ix: Index, i: int, slot: list[int]) -> int:
    """Slots meeting i may use given its placed predecessors and successors (0 if a predecessor
    is unplaced: a meeting is only placed after everything it follows)."""
    if any(slot[j] < 0 for j in ix.preds[i]):
        return 0
    latest = max((slot[j] for j in ix.preds[i]), default=-1)
    return ix.full & ~((1 << (latest + 1)) - 1)


def fill(ix: Index, slot: list[int]) -> None:
    """Insert any unplaced meeting where both sides are free, heaviest first, least breaks."""
    occ = ix.slot_masks(slot)
    count = [0] * ix.problem.slots
    for s in slot:
        if s >= 0:
            count[s] += 1
    open_mask = sum(1 << s for s in range(ix.problem.slots) if count[s] < ix.capacity)
    has_prec = any(ix.preds)
    for i in sorted((i for i, s in enumerate(slot) if s < 0), key=lambda i: -ix.weight[i]):
        a, b = ix.a[i], ix.b[i]
        mask = ix.allowed[i] & open_mask & ~occ[a] & ~occ[b]
        if has_prec:
            mask &= _precedence_window(ix, i, slot)
            # Successors already placed bound this meeting from above too.
        if not mask:
            continue
        best = min(
            (s for s in range(ix.problem.slots) if mask >> s & 1),
            key=lambda s: (_delta(occ[a], 1 << s) + _delta(occ[b], 1 << s), count[s]),
        )
        slot[i] = best
        occ[a] |= 1 << best
        occ[b] |= 1 << best
        count[best] += 1
        if count[best] >= ix.capacity:
            open_mask &= ~(1 << best)


class State:
    """Current schedule with the per-participant masks and per-slot counts kept in step."""

    def __init__(self, ix: Index, slot: list[int]) -> None:
        self.ix = ix
        self.slot = list(slot)
        self.occ = ix.slot_masks(slot)
        self.count = [0] * ix.problem.slots
        for s in slot:
            if s >= 0:
                self.count[s] += 1
        self.pbreaks = [mask_breaks(m) for m in self.occ]
        self.weight = sum(w for w, s in zip(ix.weight, slot, strict=True) if s >= 0)
        self.breaks = sum(self.pbreaks)

    def move(self, i: int, s: int) -> None:
        """Put meeting i in slot s (-1 = unplace) and update every derived figure."""
        ix, old = self.ix, self.slot[i]
        if old == s:
            return
        for p in (ix.a[i], ix.b[i]):
            if old >= 0:
                self.occ[p] &= ~(1 << old)
            if s >= 0:
                self.occ[p] |= 1 << s
            nb = mask_breaks(self.occ[p])
            self.breaks += nb - self.pbreaks[p]
            self.pbreaks[p] = nb
        if old >= 0:
            self.count[old] -= 1
            self.weight -= ix.weight[i]
        if s >= 0:
            self.count[s] += 1
            self.weight += ix.weight[i]
        self.slot[i] = s


def apply_moves(state: State, slots: dict[int, int]) -> None:
    """Move several meetings at once: lift them all first so no two share a bit mid-way."""
    for i in slots:
        state.move(i, -1)
    for i, s in slots.items():
        if s >= 0:
            state.move(i, s)
