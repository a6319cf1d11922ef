"""Run one CP-SAT solve that others can cancel, reporting every solution it finds."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ortools.sat.python import cp_model

from scheduler.model import Model, read_assignments

OnSolution = Callable[[dict[str, int], int, int], None]  # assignments, breaks, weight


@dataclass
class Outcome:
    """What one solve call returned."""

    status: int
    assignments: dict[str, int] | None
    objective: float
    bound: float


class _Callback(cp_model.CpSolverSolutionCallback):
    def __init__(self, model: Model, on_solution: OnSolution | None, cancel: threading.Event):
        super().__init__()
        self._model, self._on_solution, self._cancel = model, on_solution, cancel

    def on_solution_callback(self) -> None:
        if self._on_solution is not None:
            assignments = read_assignments(self._model, self)
            self._on_solution(
                assignments,
                int(sum(self.boolean_value(g) for g in self._model.break_lits)),
                int(self.value(self._model.total_weight)),
            )
        if self._cancel.is_set():
            self.stop_search()


def configure(
    solver: cp_model.CpSolver,
    time_limit: float,
    workers: int,
    core: bool = False,
    lp: bool = False,
    **extra: Any,
) -> None:
    """Set the parameters that suit this model.

    Clause learning without the LP (linearization 0) is what proves these models: the LP
    relaxation of the break literals is weak and slows every node down. Several workers run
    distinct full searches rather than CP-SAT's two-worker default of one search plus LNS.
    `core` asks for core-guided (MaxSAT-style) optimisation, which climbs from below in big
    steps where the optimum is far above the simple bounds. `lp` keeps the LP for the weight
    phase, where capacity and matching bounds are exactly what the LP sees at once.
    """
    p = solver.parameters
    p.max_time_in_seconds = max(0.01, time_limit)
    p.num_workers = max(1, workers)
    p.linearization_level = 2 if lp else 0
    if workers >= 2:
        names = ["core", "no_lp", "quick_restart_no_lp"] if core else ["no_lp", "quick_restart_no_lp", "core"]
        if lp:
            names = ["max_lp", "default_lp", "no_lp"]
        p.num_full_subsolvers = workers
        p.subsolvers.extend([*names, "default_lp", "max_lp"][:workers])
        p.use_lns = False
    elif core:
        p.optimize_with_core = True
    for key, value in extra.items():
        setattr(p, key, value)


# How long past its budget a solve may run before the caller stops waiting for it. CP-SAT checks
# its time limit between steps, and some steps (core-guided search, presolve on a big model) can
# run on for tens of seconds: past this grace the caller takes what the callback has reported.
GRACE_SECONDS = 0.3


def run(
    model: Model,
    cp: cp_model.CpModel,
    time_limit: float,
    workers: int,
    cancel: threading.Event,
    on_solution: OnSolution | None = None,
    on_bound: Callable[[float], None] | None = None,
    also_cancel: threading.Event | None = None,
    **extra: Any,
) -> Outcome:
    """Solve `cp` (the model or a clone of it); setting `cancel` (or `also_cancel`) stops it early.

    Returns within `time_limit` + GRACE_SECONDS (+ one poll) whatever the solver does: a solve
    that outlives that is stopped and left to finish on its own, and counts as UNKNOWN.
    """
    if cancel.is_set() or time_limit <= 0:
        return Outcome(cp_model.UNKNOWN, None, 0.0, 0.0)
    solver = cp_model.CpSolver()
    configure(solver, time_limit, workers, **extra)
    if on_bound is not None:
        solver.best_bound_callback = on_bound
    callback = _Callback(model, on_solution, cancel)
    result: list[int] = []
    finished = threading.Event()

    def solve() -> None:
        try:
            result.append(solver.solve(cp, callback))
        finally:
            finished.set()

    # The solve runs in a thread of its own so that this one can keep the deadline; CP-SAT
    # releases the GIL while it searches.
    threading.Thread(target=solve, daemon=True).start()
    hard = time.monotonic() + time_limit + GRACE_SECONDS
    stopped = False
    while not finished.wait(0.05):
        late = time.monotonic() >= hard
        if not stopped and (late or cancel.is_set() or (also_cancel is not None and also_cancel.is_set())):
            solver.stop_search()
            stopped = True
            hard = time.monotonic() + GRACE_SECONDS if late else min(hard, time.monotonic() + GRACE_SECONDS)
        elif late:
            return Outcome(cp_model.UNKNOWN, None, 0.0, 0.0)  # abandoned: it stops on its own
    status = result[0] if result else cp_model.UNKNOWN
    found = status in (cp_model.OPTIMAL, cp_model.FEASIBLE)
    return Outcome(
        status=status,
        assignments=read_assignments(model, solver) if found else None,
        objective=solver.objective_value if found else 0.0,
        bound=solver.best_objective_bound,
    )
