"""The improver: finds schedules and lowers the best one's breaks, beside the prover."""

from __future__ import annotations

import threading
import time
from typing import Any

from ortools.sat.python import cp_model

from scheduler.model import Model, add_busy_capacity, add_hint
from scheduler.problem import check_solution
from scheduler.runner import run
from scheduler.shared import Shared, stand_aside

# The improver's core-guided phase: at most this long, and this share of the time left.
CORE_SECONDS = 10.0
CORE_SHARE = 0.25
# With fixed meetings, core-guided search keeps all the time but the last this many seconds (this
# share of the time left at most), which plain branching gets.
PLAIN_LAST_SECONDS = 5.0
PLAIN_LAST_SHARE = 0.1
# The seed search goes on only if it has a complete schedule within this many seconds.
SEED_GRACE = 0.5


def local_search(model: Model, shared: Shared, budget: float) -> dict[str, int] | None:
    """Seed the search with the large-instance local search (annealing, Kempe chains): on these
    models it reaches near-optimal schedules far sooner than CP-SAT's own search."""
    try:
        from scheduler.large import solve_large
    except ImportError:  # pragma: no cover - the module is developed alongside this one
        return None
    problem = model.problem
    ids = [m.id for m in problem.meetings]
    found_one = threading.Event()  # a schedule that keeps every rule was handed over
    halt = threading.Event()

    def offer(slot: list[int], breaks: int, weight: int) -> None:
        # Each complete schedule as soon as it is found: one that meets the prover's bound ends
        # the whole search at once, and with it this one.
        if min(slot, default=0) < 0 and problem.rules.schedule_all:
            return
        assignments = {i: s for i, s in zip(ids, slot, strict=True) if s >= 0}
        with shared.lock:
            news = shared.best is None or (weight, -breaks) > (shared.weight, -shared.best_breaks)
        if news and not check_solution(problem, assignments):
            found_one.set()
            shared.offer(assignments, breaks, weight)

    def watch() -> None:
        # Stop with the whole search; or early, when no complete schedule came within the grace:
        # where there is none (infeasible variants) CP-SAT proves it in a moment, and where one is
        # hard to find CP-SAT's plain question finds it sooner (first_schedule).
        if not shared.done.wait(SEED_GRACE) and not found_one.is_set():
            halt.set()
            return
        shared.done.wait()
        halt.set()

    threading.Thread(target=watch, name="seed-watch", daemon=True).start()
    try:
        found = solve_large(problem, time_limit=budget, workers=1, stop=halt, on_schedule=offer)
    except Exception:  # a heuristic failing must never sink the exact search
        return None
    complete = len(found.assignments) == len(problem.meetings) or not problem.rules.schedule_all
    if complete and not check_solution(problem, found.assignments):
        shared.offer(dict(found.assignments), found.breaks, found.weight)
    # Even a schedule missing a meeting or two makes a useful hint.
    return dict(found.assignments)


def first_schedule(model: Model, shared: Shared, deadline: float, workers: int, hint: Any) -> None:
    """Find any schedule, without an objective: with the break-spread rule and fixed meetings,
    minimising from nothing often finds no schedule at all in a minute, while the plain
    question takes seconds. Proves infeasibility when there is none."""
    cp = model.cp.clone()
    if hint:
        add_hint(model, hint, cp)
    found = threading.Event()

    def offer(assignments: dict[str, int], breaks: int, weight: int) -> None:
        shared.offer(assignments, breaks, weight)
        found.set()

    out = run(model, cp, shared.left(deadline), workers, shared.done, offer, also_cancel=found)
    if out.status == cp_model.INFEASIBLE:
        shared.mark_infeasible()


def improve(model: Model, shared: Shared, deadline: float, workers: int, seed: bool = True) -> None:
    """Find a schedule, then minimise breaks directly: finds good schedules early and proves
    infeasibility."""
    hint = None
    if seed:
        hint = local_search(model, shared, min(3.0, 0.1 * shared.left(deadline)))
    places_all = all(isinstance(p, int) and p == 1 for p in model.placed)
    if places_all:
        with shared.lock:
            known = shared.best is not None
        if not known:
            first_schedule(model, shared, deadline, workers, hint)
    # Core-guided search first: it proves the variants whose optimum lies far above the simple
    # bounds (fixed meetings force many breaks), and there it keeps nearly the whole time;
    # elsewhere plain branching follows, which finds the last schedules far sooner. Core-guided
    # search climbs from below and seldom finds a better schedule on the way, so even with fixed
    # meetings plain branching has the last seconds: where the optimum is not proven, the
    # schedule kept is then far better than the first one found (tic-13crafc.fixed020-Forb:
    # 12 breaks instead of 33 for an optimum of 6).
    core_until = time.monotonic() + min(CORE_SECONDS, CORE_SHARE * shared.left(deadline))
    if any(m.fixed_slot is not None for m in model.problem.meetings):
        core_until = deadline - min(PLAIN_LAST_SECONDS, PLAIN_LAST_SHARE * shared.left(deadline))
    for core in (True, False):
        until = core_until if core else deadline
        while not shared.done.is_set() and until - time.monotonic() > 0.05:
            stand_aside(shared, until)
            if shared.done.is_set() or until - time.monotonic() <= 0.05:
                break
            cp = model.cp.clone()
            if core:
                add_busy_capacity(model, cp)
            cp.minimize(model.total_breaks)
            with shared.lock:
                best = shared.best or hint
            if best is not None:
                add_hint(model, best, cp)
            out = run(
                model,
                cp,
                until - time.monotonic(),
                workers,
                shared.done,
                shared.offer,
                on_bound=lambda bound: shared.raise_lower(int(bound + 1 - 1e-6)),
                also_cancel=shared.hold,
                core=core,
            )
            if out.status == cp_model.INFEASIBLE:
                shared.mark_infeasible()
                return
            if out.status == cp_model.OPTIMAL:
                shared.raise_lower(round(out.objective))
                return
            if out.assignments is not None:
                shared.raise_lower(int(out.bound + 1 - 1e-6))
            if not shared.hold.is_set():
                break  # out of this phase's time: the next phase, or the end
            # The prover took every thread meanwhile: wait, then search again from the best.
