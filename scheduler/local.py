"""Per-participant lower bounds on breaks: each participant's meetings scheduled on their own."""

from __future__ import annotations

import time
from collections import Counter

from ortools.sat.python import cp_model

from scheduler.problem import Problem, count_breaks


def _match(domains: list[list[int]], allowed: set[int]) -> dict[int, int] | None:
    """Give every meeting a distinct slot of `allowed` within its domain, or return None."""
    owner: dict[int, int] = {}

    def augment(i: int, seen: set[int]) -> bool:
        for s in domains[i]:
            if s in allowed and s not in seen:
                seen.add(s)
                if s not in owner or augment(owner[s], seen):
                    owner[s] = i
                    return True
        return False

    for i in range(len(domains)):
        if not augment(i, set()):
            return None
    return {i: s for s, i in owner.items()}


def fits_without_break(domains: list[list[int]], slots: int) -> bool:
    """True if the meetings fit in some run of len(domains) consecutive slots."""
    n = len(domains)
    return any(_match(domains, set(range(f, f + n))) is not None for f in range(slots - n + 1))


def min_breaks_alone(domains: list[list[int]], slots: int, time_limit: float = 1.0) -> int:
    """Fewest breaks of one participant whose meetings have these slot domains (a lower bound
    for the whole problem: other participants only take slots away). -1 if they cannot all fit."""
    if not domains:
        return 0
    if fits_without_break(domains, slots):
        return 0
    if _match(domains, set(range(slots))) is None:
        return -1
    # Meetings with the same domain are interchangeable here: aggregate them per domain class, or
    # the solver wastes its time on permutations (pigeonhole) of identical meetings.
    classes = Counter(tuple(d) for d in domains)
    cp = cp_model.CpModel()
    y = {c: {s: cp.new_bool_var("") for s in c} for c in classes}
    for c, count in classes.items():
        cp.add(sum(y[c].values()) == count)
    busy = []
    for s in range(slots):
        here = [yc[s] for yc in y.values() if s in yc]
        b = cp.new_bool_var("")
        cp.add(sum(here) == b)
        busy.append(b)
    # Runs of busy slots: breaks = runs - 1; minimising, so the lower side of the run-start
    # definition suffices.
    runs = [busy[0]]
    for s in range(1, slots):
        r = cp.new_bool_var("")
        cp.add_bool_or([r, busy[s].Not(), busy[s - 1]])
        runs.append(r)
    cp.minimize(sum(runs))
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.max_time_in_seconds = time_limit
    status = solver.solve(cp)
    if status == cp_model.INFEASIBLE:
        return -1
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return 0
    return max(0, int(solver.best_objective_bound + 0.999) - 1)


def participant_lower_bounds(
    problem: Problem, domains: list[list[int]], time_limit: float = 5.0
) -> dict[str, int]:
    """Lower bound on each participant's breaks when every meeting is placed (-1: cannot fit)."""
    deadline = time.monotonic() + time_limit
    per: dict[str, list[list[int]]] = {p.id: [] for p in problem.participants}
    for m, d in zip(problem.meetings, domains, strict=True):
        per[m.a].append(d)
        per[m.b].append(d)
    out: dict[str, int] = {}
    for pid, doms in per.items():
        left = deadline - time.monotonic()
        if left <= 0:
            break
        out[pid] = min_breaks_alone(doms, problem.slots, min(1.0, left))
    return out


__all__ = ["count_breaks", "fits_without_break", "min_breaks_alone", "participant_lower_bounds"]
