"""Per-participant lower bounds on breaks: each participant's meetings scheduled on their own."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from typing import TypeVar

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
    cp.add(sum(runs) >= 1)
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


T = TypeVar("T")


def _each_until(items: Iterable[T], deadline: float, workers: int, work: Callable[[T, float], None]) -> None:
    """Call ``work(item, seconds left)`` for items in order until the deadline, on ``workers``
    threads: the small CP-SAT models here spend most of their time in the solver, which lets the
    other threads go on."""
    todo = iter(items)
    lock = threading.Lock()

    def loop() -> None:
        while True:
            with lock:
                item = next(todo, None)
            left = deadline - time.monotonic()
            if item is None or left <= 0:
                return
            work(item, left)

    helpers = [threading.Thread(target=loop, name="bounds") for _ in range(max(1, workers) - 1)]
    for thread in helpers:
        thread.start()
    loop()
    for thread in helpers:
        thread.join()


def participant_lower_bounds(
    problem: Problem, domains: list[list[int]], time_limit: float = 5.0, workers: int = 1
) -> dict[str, int]:
    """Lower bound on each participant's breaks when every meeting is placed (-1: cannot fit)."""
    deadline = time.monotonic() + time_limit
    per: dict[str, list[list[int]]] = {p.id: [] for p in problem.participants}
    for m, d in zip(problem.meetings, domains, strict=True):
        per[m.a].append(d)
        per[m.b].append(d)
    found: dict[str, int] = {}

    def alone(pid: str, left: float) -> None:
        found[pid] = min_breaks_alone(per[pid], problem.slots, min(1.0, left))

    _each_until(list(per), deadline, workers, alone)
    return {pid: found[pid] for pid in per if pid in found}


__all__ = ["count_breaks", "fits_without_break", "min_breaks_alone", "participant_lower_bounds"]


def _runs_objective(cp: cp_model.CpModel, busy: list) -> list:
    runs = [busy[0]]
    for s in range(1, len(busy)):
        r = cp.new_bool_var("")
        cp.add_bool_or([r, busy[s].Not(), busy[s - 1]])
        runs.append(r)
    return runs


def min_breaks_pair(
    own_a: list[list[int]], own_b: list[list[int]], shared: list[list[int]], slots: int, time_limit: float
) -> int:
    """Fewest breaks of two participants together, given the domains of the meetings only a has,
    only b has, and those they share (a lower bound on breaks_a + breaks_b)."""
    cp = cp_model.CpModel()
    busy: dict[str, list] = {}
    groups = {"a": Counter(tuple(d) for d in own_a), "b": Counter(tuple(d) for d in own_b)}
    shared_classes = Counter(tuple(d) for d in shared)
    per_slot: dict[str, list[list]] = {"a": [[] for _ in range(slots)], "b": [[] for _ in range(slots)]}
    for who, classes in groups.items():
        for c, count in classes.items():
            ys = {s: cp.new_bool_var("") for s in c}
            cp.add(sum(ys.values()) == count)
            for s, y in ys.items():
                per_slot[who][s].append(y)
    for c, count in shared_classes.items():
        ys = {s: cp.new_bool_var("") for s in c}
        cp.add(sum(ys.values()) == count)
        for s, y in ys.items():
            per_slot["a"][s].append(y)
            per_slot["b"][s].append(y)
    objective = []
    for who in ("a", "b"):
        row = []
        for s in range(slots):
            b = cp.new_bool_var("")
            cp.add(sum(per_slot[who][s]) == b)
            row.append(b)
        busy[who] = row
        runs = _runs_objective(cp, row)
        cp.add(sum(runs) >= 1)  # obvious to us, not to the solver: proves 0-break optima at once
        objective += runs
    cp.minimize(sum(objective))
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.max_time_in_seconds = time_limit
    status = solver.solve(cp)
    if status == cp_model.INFEASIBLE:
        return -1
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return 0
    return max(0, int(solver.best_objective_bound + 0.999) - 2)


def pair_lower_bounds(
    problem: Problem,
    domains: list[list[int]],
    single: dict[str, int],
    time_limit: float = 5.0,
    workers: int = 1,
) -> dict[tuple[str, str], int]:
    """Lower bounds on breaks_a + breaks_b that beat single[a] + single[b], for meeting pairs."""
    deadline = time.monotonic() + time_limit
    per: dict[str, list[int]] = {p.id: [] for p in problem.participants}
    for i, m in enumerate(problem.meetings):
        per[m.a].append(i)
        per[m.b].append(i)

    # Fixed and narrow meetings are where two agendas collide: try the pairs holding most first.
    def narrow(pid: str) -> int:
        return sum(len(domains[i]) <= 2 for i in per[pid])

    # Without such meetings the pair bound rarely beats the singles: not worth the time.
    candidates = {tuple(sorted((m.a, m.b))) for m in problem.meetings}
    pairs = sorted(
        (ab for ab in candidates if narrow(ab[0]) + narrow(ab[1])),
        key=lambda ab: -narrow(ab[0]) - narrow(ab[1]),
    )
    out: dict[tuple[str, str], int] = {}

    def pair(ab: tuple[str, str], left: float) -> None:
        a, b = ab
        mine_a, mine_b = set(per[a]), set(per[b])
        both = mine_a & mine_b
        lb = min_breaks_pair(
            [domains[i] for i in mine_a - both],
            [domains[i] for i in mine_b - both],
            [domains[i] for i in both],
            problem.slots,
            min(0.2, left),
        )
        if lb > single.get(a, 0) + single.get(b, 0):
            out[a, b] = lb

    _each_until(pairs, deadline, workers, pair)
    return out


def combined_lower_bound(
    single: dict[str, int],
    pairs: dict[tuple[str, str], int],
    spread: int | None,
    upper: dict[str, int],
    time_limit: float = 2.0,
) -> int:
    """Least total of per-participant break counts meeting every single and pair bound (and the
    spread rule); -1 if none exists."""
    if not pairs:
        return sum(single.values())
    cp = cp_model.CpModel()
    b = {p: cp.new_int_var(lb, max(lb, upper.get(p, lb)), p) for p, lb in single.items()}
    for (x, y), lb in pairs.items():
        cp.add(b[x] + b[y] >= lb)
    if spread is not None and b:
        lo = cp.new_int_var(0, max(upper.values(), default=0), "lo")
        for v in b.values():
            cp.add(v >= lo)
            cp.add(v <= lo + spread)
    cp.minimize(sum(b.values()))
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.max_time_in_seconds = max(0.01, time_limit)
    status = solver.solve(cp)
    if status == cp_model.INFEASIBLE:
        return -1
    return int(solver.best_objective_bound + 1e-6)
