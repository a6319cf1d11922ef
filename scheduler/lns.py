"""Large-neighbourhood search with CP-SAT: free the meetings of a few participants and re-solve."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable

from ortools.sat.python import cp_model

from scheduler.greedy import State, apply_moves
from scheduler.objective import objective_key, spread_excess


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
    state: State,
    people: set[int],
    time_limit: float,
    workers: int,
    running: list[cp_model.CpSolver] | None = None,
) -> tuple[dict[int, int], bool] | None:
    """Re-solve every meeting touching `people` with the rest fixed (weight first, then breaks).

    Returns the new slot of each freed meeting (-1 = unplaced) and whether it is proven optimal,
    or None when CP-SAT found nothing in time; the caller keeps it only if it is no worse.
    The solver sits in `running` while it searches, for a watcher to stop (`improve`).
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
    exact = spread is not None and spread_excess(state.pbreaks, spread) == 0
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
    if running is not None:
        running.append(solver)
    try:
        status = solver.solve(model)
    finally:
        if running is not None:
            running.remove(solver)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None
    new = {}
    for i in free_m:
        new[i] = next((s for s, v in x[i].items() if solver.boolean_value(v)), -1)
    return new, status == cp_model.OPTIMAL


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
    running: list[cp_model.CpSolver] = []
    finished = threading.Event()
    if stop is not None:
        threading.Thread(target=_stop_when, args=(stop, finished, running), daemon=True).start()
    try:
        _improve(state, targets, deadline, workers, rng, stop, on_improve, running)
    finally:
        finished.set()


def _stop_when(stop: threading.Event, finished: threading.Event, running: list[cp_model.CpSolver]) -> None:
    """Stop the neighbourhood being solved as soon as `stop` is set: a solve may take up to a
    second, which an exact search beside this one, done meanwhile, would otherwise wait for."""
    while not finished.wait(0.02):
        if stop.is_set():
            for solver in list(running):
                solver.stop_search()


def _improve(
    state: State,
    targets: list[int],
    deadline: float,
    workers: int,
    rng: random.Random,
    stop: threading.Event | None,
    on_improve: Callable[[State], None] | None,
    running: list[cp_model.CpSolver],
) -> None:
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
        result = _subsolve(state, people, limit, workers, running)
        if result is None:
            size = max(2, size - 1)
            continue
        new, optimal = result
        before = objective_key(state)
        undo = {i: state.slot[i] for i in new}
        apply_moves(state, new)
        after = objective_key(state)
        if after < before:
            apply_moves(state, undo)
        elif after > before:
            if after[:2] > before[:2]:
                last_gain = time.monotonic()
            if on_improve is not None:
                on_improve(state)
        # Grow neighbourhoods while CP-SAT closes them comfortably, shrink when it cannot.
        size = min(30, size + 1) if optimal else max(2, size - 2)
