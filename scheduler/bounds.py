"""Upper bound on placed weight: max-weight b-matching where each participant holds at most as
many meetings as they have usable free slots (the slot structure is ignored).

Solved exactly with CP-SAT when it proves optimality within the time limit; otherwise the
bound is the smaller of CP-SAT's proven objective bound and the LP bound from a min-cost flow
on the bipartite double cover (which is the fractional b-matching optimum, so always valid).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from ortools.graph.python import min_cost_flow
from ortools.sat.python import cp_model

from scheduler.greedy import Index
from scheduler.problem import Problem


@dataclass
class Bound:
    """A weight upper bound and the best b-matching found (meeting indices) on the way."""

    value: int
    exact: bool
    method: str
    chosen: list[int] = field(default_factory=list)


def participant_capacity(ix: Index) -> list[int]:
    """Meetings each participant can hold at most: free slots some incident meeting can use."""
    caps = []
    for p, meetings in enumerate(ix.inc):
        usable = 0
        for i in meetings:
            usable |= ix.allowed[i]
        caps.append((ix.free[p] & usable).bit_count())
    return caps


def lp_bound(ix: Index) -> int:
    """Fractional b-matching optimum (floored), via min-cost flow on the bipartite double cover.

    Each meeting {a, b} becomes arcs a->b' and b->a' of capacity 1; any integer b-matching
    gives a double-cover flow of twice its weight, so half the max-weight flow bounds it.
    """
    caps = participant_capacity(ix)
    n = len(ix.pids)
    source, sink = 2 * n, 2 * n + 1
    flow = min_cost_flow.SimpleMinCostFlow()
    total = sum(caps)
    for p in range(n):
        if caps[p]:
            flow.add_arc_with_capacity_and_unit_cost(source, p, caps[p], 0)
            flow.add_arc_with_capacity_and_unit_cost(n + p, sink, caps[p], 0)
    for i, mask in enumerate(ix.allowed):
        if mask:
            flow.add_arc_with_capacity_and_unit_cost(ix.a[i], n + ix.b[i], 1, -ix.weight[i])
            flow.add_arc_with_capacity_and_unit_cost(ix.b[i], n + ix.a[i], 1, -ix.weight[i])
    # A free bypass arc lets flow skip meetings: we maximise weight, not the amount of flow.
    flow.add_arc_with_capacity_and_unit_cost(source, sink, total, 0)
    flow.set_node_supply(source, total)
    flow.set_node_supply(sink, -total)
    if flow.solve() != flow.OPTIMAL:
        raise RuntimeError("min-cost flow failed on the double cover")
    return -flow.optimal_cost() // 2


def bmatching(
    problem: Problem | Index,
    *,
    time_limit: float = 10.0,
    workers: int = 1,
    hint: list[int] | None = None,
) -> Bound:
    """Solve the max-weight b-matching (plus the overall slots x capacity limit) with CP-SAT.

    The overall limit turns an easy model into a hard one, so it is first solved without it;
    only when that optimum breaks the limit is it solved again with the limit, hinted with the
    optimum minus its lightest meetings. `hint` (meeting indices) seeds the first solve.
    """
    ix = problem if isinstance(problem, Index) else Index.of(problem)
    started = time.monotonic()
    total = ix.capacity * ix.problem.slots
    status, value, upper, chosen = _solve(ix, None, hint, time_limit, workers)
    if status == cp_model.OPTIMAL and len(chosen) <= total:
        return Bound(value, True, "cp-sat", chosen)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return Bound(lp_bound(ix), False, "lp double cover", [])
    trimmed = sorted(chosen, key=lambda i: -ix.weight[i])[:total]
    left = max(0.1, time_limit - (time.monotonic() - started))
    status2, value2, upper2, chosen2 = _solve(ix, total, trimmed, left, workers)
    if status2 == cp_model.OPTIMAL:
        return Bound(value2, True, "cp-sat", chosen2)
    best = chosen2 if status2 == cp_model.FEASIBLE else trimmed
    # The model without the overall limit is a relaxation, so its bound holds as well.
    value = min(lp_bound(ix), upper, upper2 if status2 == cp_model.FEASIBLE else upper)
    return Bound(value, False, "cp-sat bound", best)


def _solve(
    ix: Index, total: int | None, hint: list[int] | None, time_limit: float, workers: int
) -> tuple[int, int, int, list[int]]:
    """One CP-SAT b-matching solve: (status, value found, proven upper bound, chosen meetings)."""
    caps = participant_capacity(ix)
    model = cp_model.CpModel()
    x: dict[int, cp_model.IntVar] = {}
    for i, mask in enumerate(ix.allowed):
        if mask:
            x[i] = model.new_bool_var(f"x{i}")
    for p, meetings in enumerate(ix.inc):
        mine = [x[i] for i in meetings if i in x]
        # Only participants who could be overloaded need a constraint; the rest are implied.
        if len(mine) > caps[p]:
            model.add(sum(mine) <= caps[p])
    if total is not None and len(x) > total:
        model.add(sum(x.values()) <= total)
    model.maximize(sum(ix.weight[i] * v for i, v in x.items()))
    if hint is not None:
        picked = set(hint)
        for i, v in x.items():
            model.add_hint(v, i in picked)
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = workers
    solver.parameters.max_time_in_seconds = time_limit
    status = solver.solve(model)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return status, 0, 0, []
    chosen = [i for i, v in x.items() if solver.boolean_value(v)]
    return status, round(solver.objective_value), int(solver.best_objective_bound + 1e-6), chosen


def weight_upper_bound(problem: Problem, *, time_limit: float = 10.0, workers: int = 1) -> int:
    """Largest total weight any schedule of `problem` could place (b-matching bound)."""
    return bmatching(problem, time_limit=time_limit, workers=workers).value
