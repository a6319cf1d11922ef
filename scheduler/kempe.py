"""Simulated annealing over Kempe-chain slot swaps: remove breaks without breaking any rule."""

from __future__ import annotations

import math
import random
import threading
import time
from collections.abc import Callable

from scheduler.greedy import State, apply_moves
from scheduler.objective import SPREAD_COST

BEST_EVERY = 0.05  # seconds: how often annealing hands over a new best placement at most


def _bits(mask: int) -> list[int]:
    """Positions of the set bits of `mask`, lowest first."""
    out = []
    while mask:
        low = mask & -mask
        out.append(low.bit_length() - 1)
        mask ^= low
    return out


class Kempe:
    """Kempe-chain moves: swap two slots along an alternating path of meetings.

    Moving participant p's meeting from slot s to t may clash with the partner's meeting at t,
    which then moves to s, and so on. Everyone inside the path keeps the same busy slots; only
    the two ends change, so a move is valid by construction and cheap to score.
    """

    def __init__(self, state: State) -> None:
        ix = state.ix
        self.state = state
        self.at = [[-1] * ix.problem.slots for _ in ix.pids]
        for i, s in enumerate(state.slot):
            if s >= 0:
                self.at[ix.a[i]][s] = i
                self.at[ix.b[i]][s] = i
        # Meetings in precedence relations stay put: a chain could break an order silently.
        self.pinned = [bool(p) for p in ix.preds]
        for ps in ix.preds:
            for j in ps:
                self.pinned[j] = True
        self.spread = ix.problem.rules.break_spread
        self.hist = [0] * (ix.problem.slots + 1)
        for nb in state.pbreaks:
            self.hist[nb] += 1
        self.best_key, self.best_slot = self.key(), list(state.slot)
        self.targets: list[int] = []  # unplaced meetings to retry now and then while annealing
        self.evicted: list[int] = []

    def excess(self, hist: list[int]) -> int:
        """How far the break counts in `hist` exceed the spread rule (0 without one)."""
        if self.spread is None:
            return 0
        used = [b for b, k in enumerate(hist) if k]
        return max(0, used[-1] - used[0] - self.spread) if used else 0

    def excess_change(self, p: int, end: int, bp: int, be: int) -> int:
        """Change in spread excess if p and `end` had bp and be breaks."""
        hist = list(self.hist)
        for q, nb in ((p, bp), (end, be)):
            hist[self.state.pbreaks[q]] -= 1
            hist[nb] += 1
        return self.excess(hist) - self.excess(self.hist)

    def key(self) -> tuple[int, int]:
        """Annealing objective: spread excess first (a hard rule), then total breaks."""
        return self.excess(self.hist), self.state.breaks

    def chain(self, p: int, s: int, t: int, limit: int = 60) -> tuple[list[int], int, int] | None:
        """Path of meetings moved when p's meeting at s goes to t; returns (path, end, into)."""
        ix, at = self.state.ix, self.at
        cur, into, path = p, s, []
        while True:
            m = at[cur][into]
            if m < 0:
                return path, cur, into
            if self.pinned[m] or len(path) >= limit:
                return None
            new = t if into == s else s
            if not ix.allowed[m] >> new & 1:
                return None
            path.append(m)
            cur = ix.a[m] + ix.b[m] - cur
            into = new

    def swap_away(self, busy: int, other: int, t: int, s: int) -> list[int] | None:
        """The chain that empties slot t of ``busy`` through its idle slot s, so that a meeting of
        ``busy`` and ``other`` can take t: its path, or None when there is none within the rules
        (``other`` left free at t, the hard rules kept, the slot's capacity)."""
        found = self.chain(busy, t, s)
        if found is None:
            return None
        path, end, into = found
        if end == other and into == t:
            return None
        if self.delta(busy, t, s, path, end, into) is None:
            return None
        if self.state.count[t] - (len(path) % 2) >= self.state.ix.capacity:
            return None
        return path

    def delta(self, p: int, s: int, t: int, path: list[int], end: int, into: int) -> tuple[int, int] | None:
        """New breaks of p and of the path's far end (None if capacity forbids the move)."""
        st = self.state
        ix = st.ix
        # The end participant lacked the slot the last meeting moves into and leaves the other.
        old = s if into == t else t
        if len(path) % 2 and st.count[t] >= ix.capacity:
            return None
        if end == p:
            return None
        # Both masks are non-empty, so breaks = runs - 1.
        mp = st.occ[p] & ~(1 << s) | (1 << t)
        me = st.occ[end] & ~(1 << old) | (1 << into)
        return (mp & ~(mp << 1)).bit_count() - 1, (me & ~(me << 1)).bit_count() - 1

    def apply(self, s: int, t: int, path: list[int]) -> None:
        """Swap slots s and t for every meeting on the path."""
        st, ix, at = self.state, self.state.ix, self.at
        for m in path:
            old = st.slot[m]
            at[ix.a[m]][old] = -1
            at[ix.b[m]][old] = -1
        moves = {m: (t if st.slot[m] == s else s) for m in path}
        apply_moves(st, moves)
        for m, new in moves.items():
            at[ix.a[m]][new] = m
            at[ix.b[m]][new] = m

    def insert(self, i: int) -> bool:
        """Place unplaced meeting i, clearing a slot for one side by a Kempe chain if need be.

        Tries slots where both sides are free, then slots where one side is busy and its
        meeting there can swap away along a chain that leaves the other side free, then
        evicting lighter meetings.
        """
        st, ix = self.state, self.state.ix
        if self.pinned[i] or st.slot[i] >= 0:
            return False
        slots = ix.problem.slots
        a, b = ix.a[i], ix.b[i]
        room = [t for t in range(slots) if ix.allowed[i] >> t & 1]
        for t in room:
            if not (st.occ[a] | st.occ[b]) >> t & 1 and st.count[t] < ix.capacity:
                self._place(i, t)
                return True
        for t in room:
            for busy, other in ((a, b), (b, a)):
                if st.occ[other] >> t & 1 or not st.occ[busy] >> t & 1:
                    continue
                for s in range(slots):
                    if st.occ[busy] >> s & 1 or not ix.free[busy] >> s & 1:
                        continue
                    path = self.swap_away(busy, other, t, s)
                    if path is None:
                        continue
                    self.apply(t, s, path)
                    self._place(i, t)
                    return True
        # Last resort: evict lighter meetings in the way (they become targets themselves).
        for t in room:
            if st.count[t] >= ix.capacity:
                continue
            blocking = {self.at[p][t] for p in (a, b) if self.at[p][t] >= 0}
            if any(self.pinned[j] for j in blocking) or sum(ix.weight[j] for j in blocking) >= ix.weight[i]:
                continue
            for j in blocking:
                st.move(j, -1)
                self.at[ix.a[j]][t] = self.at[ix.b[j]][t] = -1
                self.evicted.append(j)
            self._place(i, t)
            return True
        return False

    def retry(self) -> None:
        """Try again to insert the pending targets (and anything evicted), heaviest first."""
        st, ix = self.state, self.state.ix
        pending = sorted(
            {i for i in self.targets + self.evicted if st.slot[i] < 0}, key=lambda i: -ix.weight[i]
        )
        self.evicted = []
        for i in pending:
            self.insert(i)
        self.targets = [i for i in pending + self.evicted if st.slot[i] < 0]
        self.evicted = []

    def _place(self, i: int, t: int) -> None:
        """Put unplaced meeting i in free slot t and keep the lookups in step."""
        st, ix = self.state, self.state.ix
        st.move(i, t)
        self.at[ix.a[i]][t] = i
        self.at[ix.b[i]][t] = i
        self.hist = [0] * (ix.problem.slots + 1)
        for nb in st.pbreaks:
            self.hist[nb] += 1
        # More weight beats any number of breaks: this is the new best whatever its breaks.
        self.best_key, self.best_slot = self.key(), list(st.slot)

    def best(self) -> list[int]:
        """The placement with the fewest breaks seen (annealing may end slightly above it)."""
        if self.key() <= self.best_key:
            return list(self.state.slot)
        return self.best_slot

    def anneal(
        self,
        deadline: float,
        rng: random.Random,
        *,
        stop: threading.Event | None = None,
        temperature: float = 0.6,
        on_tick: Callable[[State], None] | None = None,
        on_best: Callable[[list[int]], None] | None = None,
    ) -> None:
        """Simulated annealing over Kempe moves aimed at participants who have breaks.

        For a participant with breaks, every (busy slot, idle neighbouring slot) pair that would
        lower their own breaks is tried through its chain, then a few that keep them level; the
        move is kept when the total does not rise, or rises with probability exp(-delta / T)
        while T cools linearly to zero at the deadline.

        `on_best` receives each new best placement (at most every BEST_EVERY seconds, and the last
        one when annealing ends), `on_tick` the current state once a second.
        """
        st, ix = self.state, self.state.ix
        n = len(ix.pids)
        start = last_tick = last_retry = time.monotonic()
        span = max(1e-3, deadline - start)
        tries, temp = -1, temperature  # -1: check the clock (and for nothing to do) first
        worst: list[int] = []
        told, told_at = self.best_key, float("-inf")
        while True:
            tries += 1
            if tries % 64 == 0:
                now = time.monotonic()
                key = self.key()
                if key < self.best_key:
                    self.best_key, self.best_slot = key, list(st.slot)
                ending = now > deadline or (stop is not None and stop.is_set()) or not st.breaks
                if on_best is not None and self.best_key < told and (ending or now - told_at >= BEST_EVERY):
                    told, told_at = self.best_key, now
                    on_best(self.best_slot)
                if ending:
                    return
                # While the spread rule is broken, work on the participants with the most breaks.
                top = max(st.pbreaks)
                worst = [q for q in range(n) if st.pbreaks[q] == top] if key[0] else []
                if now - last_retry >= 4.0 and self.targets:
                    # Annealing reshapes the schedule: a meeting that did not fit may fit now.
                    last_retry = now
                    self.retry()
                if on_tick is not None and now - last_tick >= 1.0:
                    last_tick = now
                    on_tick(st)
                temp = temperature * max(0.0, 1.0 - (now - start) / span)
            p = rng.choice(worst) if worst and rng.random() < 0.5 else int(rng.random() * n)
            if not st.pbreaks[p] and rng.random() < 0.9:
                continue
            mask = st.occ[p]
            # Aim for idle slots next to busy ones: only those can close a gap or extend a run.
            near = ((mask << 1) | (mask >> 1)) & ~mask & ix.free[p] & ix.full
            if not near:
                continue
            good, side = [], []
            base = st.pbreaks[p] + 1  # compare run counts: breaks + 1 for a busy participant
            targets = _bits(near)
            # Only the first or last slot of a run can leave without splitting it.
            for s in _bits(mask & ~((mask << 1) & (mask >> 1))):
                rest = mask & ~(1 << s)
                for t in targets:
                    m = rest | (1 << t)
                    d = (m & ~(m << 1)).bit_count() - base
                    if d < 0:
                        good.append((s, t))
                    elif d == 0:
                        side.append((s, t))
            if len(good) > 1:
                rng.shuffle(good)
            if len(side) > 4:
                side = [side[int(rng.random() * len(side))] for _ in range(4)]
            for s, t in good + side:
                found = self.chain(p, s, t)
                if found is None:
                    continue
                path, end, into = found
                new = self.delta(p, s, t, path, end, into)
                if new is None:
                    continue
                d = new[0] - st.pbreaks[p] + new[1] - st.pbreaks[end]
                if self.spread is not None:
                    d += SPREAD_COST * self.excess_change(p, end, *new)
                if d <= 0 or (temp > 0 and rng.random() < math.exp(-d / temp)):
                    for q, nb in ((p, new[0]), (end, new[1])):
                        self.hist[st.pbreaks[q]] -= 1
                        self.hist[nb] += 1
                    self.apply(s, t, path)
                    break
