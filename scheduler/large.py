"""Large events: choose meetings by b-matching, place them break-aware, then improve.

A monolithic CP-SAT model over thousands of meetings x slots does not get far in a minute, so:
1. choose which meetings to place: the max-weight b-matching (each participant at most their
   usable free slots), solved by CP-SAT in a fraction of a second on events of this size;
2. place the chosen meetings busiest participant first, each in the slot that adds the fewest
   breaks to both sides and keeps busy slots together (`greedy.construct`);
3. if weight is still short of the bound: insert unplaced meetings by Kempe-chain swaps or by
   evicting lighter ones, then large-neighbourhood search with CP-SAT, freeing the meetings of
   a few participants around an unplaced meeting (weight first, then breaks);
4. simulated annealing over Kempe-chain slot swaps to remove breaks: swapping two slots along an
   alternating path of meetings keeps the schedule valid and changes only the path's two ends.
   Insertions are retried every few seconds, as the schedule keeps changing shape.
With a break-spread bound, meetings are dropped run by run until it holds (it is a hard rule)
and weight is won back under it. Meetings with precedences never move in Kempe chains.
"""

from __future__ import annotations

import math
import random
import threading
import time
from collections.abc import Callable

from ortools.sat.python import cp_model

from scheduler.bounds import bmatching
from scheduler.greedy import (
    Index,
    State,
    apply_moves,
    construct,
    fill,
    greedy_slots,
    mask_breaks,
    to_solution,
)
from scheduler.problem import Problem, Solution

Progress = Callable[[dict[str, float | int | None]], None]


def solve_large(
    problem: Problem,
    time_limit: float = 60.0,
    workers: int = 2,
    progress: Progress | None = None,
    stop: threading.Event | None = None,
    seed: int = 0,
) -> Solution:
    """Schedule a big event within `time_limit` seconds; see the module docstring for how."""
    started = time.monotonic()
    deadline = started + time_limit
    rng = random.Random(seed)
    ix = Index.of(problem)
    base = greedy_slots(ix)
    bound = bmatching(
        ix,
        time_limit=max(0.1, min(10.0, time_limit * 0.15)),
        workers=workers,
        hint=[i for i, s in enumerate(base) if s >= 0],
    )
    # Past the deadline already (tiny limits on huge events), settle for the greedy schedule.
    late = time.monotonic() > deadline or (stop is not None and stop.is_set())
    slot = construct(ix, bound.chosen, rng) if bound.chosen and not late else list(base)
    fill(ix, slot)
    state = State(ix, slot)

    reported: list[tuple[int, int]] = []

    def report(st: State) -> None:
        # Only improvements are news: annealing wanders up and down between them.
        if progress is not None and (not reported or (st.weight, -st.breaks) > reported[-1]):
            reported.append((st.weight, -st.breaks))
            progress(
                {
                    "seconds": round(time.monotonic() - started, 2),
                    "weight": st.weight,
                    "breaks": st.breaks,
                    "bound": bound.value,
                }
            )

    report(state)
    kempe = Kempe(state)
    if state.weight < bound.value:
        # Weight comes first: the meetings the b-matching chose, then any other that has a
        # possible slot, heaviest first; cheap Kempe insertions, then CP-SAT for the rest with
        # up to a third of the time left.
        picked = set(bound.chosen)
        targets = [i for i in bound.chosen if state.slot[i] < 0]
        targets += sorted(
            (i for i, s in enumerate(state.slot) if s < 0 and ix.allowed[i] and i not in picked),
            key=lambda i: -ix.weight[i],
        )
        kempe.targets = targets
        kempe.retry()
        if state.weight < bound.value:
            share = time.monotonic() + (deadline - time.monotonic()) / 3
            targets = [i for i in targets if state.slot[i] < 0]
            improve(state, targets, deadline=share, workers=workers, rng=rng, stop=stop, on_improve=report)
            kempe = Kempe(state)
            kempe.targets = [i for i in targets if state.slot[i] < 0]
        report(state)
    spread = problem.rules.break_spread
    if spread is not None:
        # The spread bound is hard: anneal towards it, drop the cheapest meetings if it still
        # does not hold, win back whatever weight fits under it, then anneal again.
        kempe.anneal(time.monotonic() + (deadline - time.monotonic()) / 2, rng, stop=stop, on_tick=report)
        state = State(ix, kempe.best())
        dropped = enforce_spread(state, spread)
        if dropped:
            share = time.monotonic() + (deadline - time.monotonic()) / 2
            improve(state, dropped, deadline=share, workers=workers, rng=rng, stop=stop, on_improve=report)
        kempe = Kempe(state)
    kempe.anneal(deadline, rng, stop=stop, on_tick=report)
    final = State(ix, kempe.best())
    # Weight first: should the repairs have missed what greedy placed, greedy's schedule wins.
    return to_solution(ix, max(final, State(ix, base), key=_key).slot, started, bound=bound.value)


def enforce_spread(state: State, spread: int) -> list[int]:
    """Unplace meetings of the most-broken participants until the spread rule holds.

    Only taking away a whole busy run lowers a participant's breaks, so each step drops the run
    (of a participant with the most breaks) that lifts the fewest partners to the top and
    weighs least; returns the dropped meetings.
    """
    ix, dropped = state.ix, []
    succ: list[list[int]] = [[] for _ in ix.preds]
    for i, preds in enumerate(ix.preds):
        for j in preds:
            succ[j].append(i)
    while _excess(state.pbreaks, spread):
        top = max(state.pbreaks)
        best: tuple[int, int, list[int]] | None = None
        for p in (q for q, nb in enumerate(state.pbreaks) if nb == top):
            at = {state.slot[i]: i for i in ix.inc[p] if state.slot[i] >= 0}
            run: list[int] = []
            for s in range(ix.problem.slots + 1):
                if s in at:
                    run.append(at[s])
                    continue
                if run:
                    gone = sum(1 << state.slot[i] for i in run)
                    lifted = sum(
                        mask_breaks(state.occ[ix.a[i] + ix.b[i] - p] & ~gone)
                        > state.pbreaks[ix.a[i] + ix.b[i] - p]
                        for i in run
                    )
                    cost = (lifted, sum(ix.weight[i] for i in run), run)
                    if best is None or cost[:2] < best[:2]:
                        best = cost
                    run = []
        if best is None:
            break
        # A meeting only stays placed after everything it follows: drop placed successors too.
        todo = list(best[2])
        while todo:
            i = todo.pop()
            if state.slot[i] >= 0:
                state.move(i, -1)
                dropped.append(i)
                todo.extend(succ[i])
    return dropped


def _neighbourhood(state: State, rng: random.Random, size: int, seeds: list[int]) -> set[int]:
    """Grow a set of participants from `seeds` through partners, breadth first, up to `size`."""
    ix = state.ix
    chosen = set(seeds)
    frontier = list(seeds)
    while frontier and len(chosen) < size:
        p = frontier.pop(0)
        partners = [ix.a[i] + ix.b[i] - p for i in ix.inc[p] if state.slot[i] >= 0]
        rng.shuffle(partners)
        for q in partners:
            if q not in chosen and len(chosen) < size:
                chosen.add(q)
                frontier.append(q)
    return chosen


def _subsolve(
    state: State, people: set[int], time_limit: float, workers: int
) -> tuple[dict[int, int], bool] | None:
    """Re-solve every meeting touching `people` with the rest fixed (weight first, then breaks).

    Returns the new slot of each freed meeting (-1 = unplaced) and whether it is proven optimal,
    or None when CP-SAT found nothing in time; the caller keeps it only if it is no worse.
    """
    ix = state.ix
    slots = ix.problem.slots
    free_m = sorted({i for p in people for i in ix.inc[p] if ix.allowed[i]})
    occ = dict.fromkeys({ix.a[i] for i in free_m} | {ix.b[i] for i in free_m}, 0)
    for q in occ:
        occ[q] = state.occ[q]
    count = list(state.count)
    for i in free_m:
        s = state.slot[i]
        if s >= 0:
            occ[ix.a[i]] &= ~(1 << s)
            occ[ix.b[i]] &= ~(1 << s)
            count[s] -= 1
    fset = set(free_m)
    model = cp_model.CpModel()
    x: dict[int, dict[int, cp_model.IntVar]] = {}
    start: dict[int, cp_model.LinearExprT] = {}
    placed: dict[int, cp_model.LinearExprT] = {}
    for i in free_m:
        mask = ix.allowed[i] & ~occ[ix.a[i]] & ~occ[ix.b[i]]
        lo = -1
        for j in ix.preds[i]:
            if j not in fset:
                if state.slot[j] < 0:
                    mask = 0
                lo = max(lo, state.slot[j])
        mask &= ix.full & ~((1 << (lo + 1)) - 1)
        x[i] = {s: model.new_bool_var(f"x{i}_{s}") for s in range(slots) if mask >> s & 1}
        placed[i] = sum(x[i].values())
        model.add_at_most_one(x[i].values())
        start[i] = sum(s * v for s, v in x[i].items())
    # Successor links: a placed fixed successor pins its predecessor in; freed pairs stay ordered.
    for i in free_m:
        for j in ix.preds[i]:
            if j in fset:
                model.add(placed[i] <= placed[j])
                if x[i] and x[j]:
                    model.add(start[i] >= start[j] + 1).only_enforce_if(_flag(model, x[i]))
    for k, preds in enumerate(ix.preds if any(ix.preds) else ()):
        if k in fset or state.slot[k] < 0:
            continue
        for j in preds:
            if j in fset:
                model.add(placed[j] == 1)
                for s in [s for s in x[j] if s >= state.slot[k]]:
                    model.add(x[j][s] == 0)
    by_slot: list[list[cp_model.IntVar]] = [[] for _ in range(slots)]
    per_person: dict[int, list[list[cp_model.IntVar]]] = {q: [[] for _ in range(slots)] for q in occ}
    for i in free_m:
        for s, v in x[i].items():
            by_slot[s].append(v)
            per_person[ix.a[i]][s].append(v)
            per_person[ix.b[i]][s].append(v)
    for s, vs in enumerate(by_slot):
        room = ix.capacity - count[s]
        if len(vs) > room:
            model.add(sum(vs) <= room)
    spread = ix.problem.rules.break_spread
    exact = spread is not None and _excess(state.pbreaks, spread) == 0
    penalty: list[cp_model.LinearExprT] = []
    person: dict[int, cp_model.LinearExprT] = {}
    for q, cols in per_person.items():
        fixed = occ[q]
        busy: list[cp_model.LinearExprT | int] = []
        for s in range(slots):
            if fixed >> s & 1:
                busy.append(1)
            elif cols[s]:
                if len(cols[s]) > 1:
                    model.add_at_most_one(cols[s])
                busy.append(sum(cols[s]))
            else:
                busy.append(0)
        # Breaks = busy runs - 1 (when busy at all); a run starts where busy follows idle.
        starts: list[cp_model.LinearExprT | int] = []
        prev: cp_model.LinearExprT | int = 0
        for s in range(slots):
            cur = busy[s]
            if isinstance(cur, int) and isinstance(prev, int):
                starts.append(max(0, cur - prev))
            elif not (isinstance(cur, int) and cur == 0) and not (isinstance(prev, int) and prev == 1):
                r = model.new_bool_var("")
                model.add(r >= cur - prev)
                if exact:
                    # Under a spread bound breaks must be counted exactly, not just from below.
                    model.add(r <= cur)
                    model.add(r <= 1 - prev)
                starts.append(r)
            prev = cur
        if fixed:
            person[q] = sum(starts) - 1
        else:
            anything = [v for col in cols for v in col]
            h = model.new_bool_var("")
            model.add(h <= sum(anything))
            if exact:
                for v in anything:
                    model.add(h >= v)
            person[q] = sum(starts) - h
        penalty.append(person[q])
    if exact and spread is not None:
        # Everyone outside the neighbourhood keeps their breaks; the touched must stay in range.
        outside = [nb for p, nb in enumerate(state.pbreaks) if p not in person]
        lo = model.new_int_var(0, slots, "lo")
        hi = model.new_int_var(0, slots, "hi")
        model.add(hi - lo <= spread)
        if outside:
            model.add(lo <= min(outside))
            model.add(hi >= max(outside))
        for expr in person.values():
            model.add(expr >= lo)
            model.add(expr <= hi)
    big = len(occ) * slots + 1
    gain = sum(ix.weight[i] * placed[i] for i in free_m)
    model.maximize(big * gain - sum(penalty))
    for i in free_m:
        s = state.slot[i]
        for t, v in x[i].items():
            model.add_hint(v, t == s)
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = workers
    solver.parameters.max_time_in_seconds = time_limit
    status = solver.solve(model)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None
    new = {}
    for i in free_m:
        new[i] = next((s for s, v in x[i].items() if solver.boolean_value(v)), -1)
    return new, status == cp_model.OPTIMAL


def _bits(mask: int) -> list[int]:
    """Positions of the set bits of `mask`, lowest first."""
    out = []
    while mask:
        low = mask & -mask
        out.append(low.bit_length() - 1)
        mask ^= low
    return out


# Cost of one unit of spread excess in annealing: far above any gain in breaks, so never traded.
_SPREAD_COST = 1000


def _key(state: State) -> tuple[int, int, int]:
    """What the search maximises: break-spread rule first (hard), then weight, then -breaks."""
    spread = state.ix.problem.rules.break_spread
    excess = 0 if spread is None else _excess(state.pbreaks, spread)
    return (-excess, state.weight, -state.breaks)


def _excess(pbreaks: list[int], spread: int) -> int:
    """How far the break counts exceed the allowed spread (0 when the rule holds)."""
    return max(0, max(pbreaks, default=0) - min(pbreaks, default=0) - spread)


def _flag(model: cp_model.CpModel, xs: dict[int, cp_model.IntVar]) -> cp_model.IntVar:
    """A literal true exactly when one of `xs` is (the meeting is placed)."""
    f = model.new_bool_var("")
    model.add(sum(xs.values()) == f)
    return f


def improve(
    state: State,
    targets: list[int],
    *,
    deadline: float,
    workers: int,
    rng: random.Random,
    stop: threading.Event | None = None,
    on_improve: Callable[[State], None] | None = None,
) -> None:
    """CP-SAT neighbourhood search around unplaced `targets` until all fit, time, or `stop`.

    The bound may be out of reach (it ignores slots), so a target is given up after a few
    failed tries and the search ends after a spell without any gain in weight.
    """
    ix = state.ix
    size = 6
    tries = dict.fromkeys(targets, 0)
    patience = max(3.0, 0.1 * (deadline - time.monotonic()))
    last_gain = time.monotonic()
    while time.monotonic() < min(deadline - 0.05, last_gain + patience):
        if stop is not None and stop.is_set():
            return
        todo = [i for i in targets if state.slot[i] < 0 and tries[i] < 3]
        if not todo:
            return
        i = rng.choice(todo)
        tries[i] += 1
        people = _neighbourhood(state, rng, size, [ix.a[i], ix.b[i]])
        limit = min(1.0, deadline - time.monotonic())
        result = _subsolve(state, people, limit, workers)
        if result is None:
            size = max(2, size - 1)
            continue
        new, optimal = result
        before = _key(state)
        undo = {i: state.slot[i] for i in new}
        apply_moves(state, new)
        after = _key(state)
        if after < before:
            apply_moves(state, undo)
        elif after > before:
            if after[:2] > before[:2]:
                last_gain = time.monotonic()
            if on_improve is not None:
                on_improve(state)
        # Grow neighbourhoods while CP-SAT closes them comfortably, shrink when it cannot.
        size = min(30, size + 1) if optimal else max(2, size - 2)


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
                    found = self.chain(busy, t, s)
                    if found is None:
                        continue
                    path, end, into = found
                    if end == other and into == t:
                        continue
                    if self.delta(busy, t, s, path, end, into) is None:
                        continue
                    after = st.count[t] - (len(path) % 2)
                    if after >= ix.capacity:
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
    ) -> None:
        """Simulated annealing over Kempe moves aimed at participants who have breaks.

        For a participant with breaks, every (busy slot, idle neighbouring slot) pair that would
        lower their own breaks is tried through its chain, then a few that keep them level; the
        move is kept when the total does not rise, or rises with probability exp(-delta / T)
        while T cools linearly to zero at the deadline.
        """
        st, ix = self.state, self.state.ix
        n = len(ix.pids)
        start = last_tick = last_retry = time.monotonic()
        span = max(1e-3, deadline - start)
        tries, temp = -1, temperature  # -1: check the clock (and for nothing to do) first
        worst: list[int] = []
        while True:
            tries += 1
            if tries % 64 == 0:
                now = time.monotonic()
                key = self.key()
                if key < self.best_key:
                    self.best_key, self.best_slot = key, list(st.slot)
                if now > deadline or (stop is not None and stop.is_set()) or not st.breaks:
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
                    d += _SPREAD_COST * self.excess_change(p, end, *new)
                if d <= 0 or (temp > 0 and rng.random() < math.exp(-d / temp)):
                    for q, nb in ((p, new[0]), (end, new[1])):
                        self.hist[st.pbreaks[q]] -= 1
                        self.hist[nb] += 1
                    self.apply(s, t, path)
                    break
