"""Solve strategy: a prover raising the break lower bound beside an improver lowering the best schedule."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from ortools.sat.python import cp_model

from scheduler.explain import explain_unplaced
from scheduler.improver import improve
from scheduler.local import combined_lower_bound, pair_lower_bounds, participant_lower_bounds
from scheduler.model import Model, add_hint, add_lower_bounds, build, meeting_domains
from scheduler.problem import Problem, Solution, Unscheduled, breaks_by_participant, check_solution
from scheduler.prover import ask_zero, most_breaks, prove
from scheduler.runner import run
from scheduler.sat import search as sat_search
from scheduler.shared import Progress, Shared


def _greedy(problem: Problem) -> dict[str, int] | None:
    """Earliest-free-slot schedule from scheduler.greedy, if it keeps every hard rule."""
    try:
        from scheduler.greedy import solve_greedy
    except ImportError:  # pragma: no cover - the module is developed alongside this one
        return None
    try:
        found = solve_greedy(problem)
    except Exception:  # a heuristic failing must never sink the answer
        return None
    if check_solution(problem, found.assignments):
        return None
    return dict(found.assignments)


def _min_breaks(
    model: Model,
    shared: Shared,
    deadline: float,
    workers: int,
    lower: dict[str, int] | None = None,
    zero: Callable[[], bool] | None = None,
) -> None:
    """Run prover and improver side by side (or one after the other with a single worker)."""
    if workers >= 2:
        improver = threading.Thread(target=improve, args=(model, shared, deadline, workers - 1))
        improver.start()
        prove(model, shared, deadline, 1, lower, threads=workers, zero=zero)
        # Each of its solves keeps the deadline (scheduler.runner); the timeout is a backstop.
        improver.join(max(0.0, shared.left(deadline)) + 1.0)
    else:
        prove(model, shared, time.monotonic() + shared.left(deadline) * 0.5, 1, lower, zero=zero)
        if not shared.done.is_set():
            improve(model, shared, deadline, 1)
    shared.done.set()


def _early(question: Callable[[], bool]) -> Callable[[], bool]:
    """Start `question` in a thread of its own; the returned call waits for its answer (or
    raises what it raised)."""
    pool = ThreadPoolExecutor(1, thread_name_prefix="zero-question")
    answer = pool.submit(question)
    pool.shutdown(wait=False)
    return answer.result


def _finish(
    problem: Problem,
    status: str,
    assignments: dict[str, int] | None,
    lower: int | None,
    started: float,
    domains: list[list[int]],
) -> Solution:
    assignments = assignments or {}
    placed = [m for m in problem.meetings if m.id in assignments]
    unplaced = [m for m in problem.meetings if m.id not in assignments]
    reasons = explain_unplaced(problem, domains, unplaced, infeasible=status == "infeasible")
    return Solution(
        status=status,
        scheduled=len(placed),
        weight=sum(m.weight for m in placed),
        breaks=sum(breaks_by_participant(problem, assignments).values()),
        breaks_lower_bound=lower if status in ("optimal", "feasible") else None,
        seconds=time.monotonic() - started,
        assignments={m.id: assignments[m.id] for m in placed},
        unscheduled=[Unscheduled(m.id, reasons[m.id]) for m in unplaced],
    )


def _verdict(shared: Shared) -> str:
    if shared.infeasible:
        return "infeasible"
    if shared.best is None:
        return "unknown"
    return "optimal" if shared.best_breaks <= shared.lower else "feasible"


def solve_model(
    problem: Problem,
    time_limit: float = 60.0,
    workers: int = 2,
    progress: Progress | None = None,
    stop: threading.Event | None = None,
) -> Solution:
    """Solve `problem` with the CP-SAT model (no size-based delegation)."""
    started = time.monotonic()
    deadline = started + time_limit
    if problem.rules.schedule_all:
        domains = meeting_domains(problem, True)
        if any(not d for d in domains):
            return _finish(problem, "infeasible", None, None, started, domains)
        lower = participant_lower_bounds(problem, domains, min(5.0, time_limit * 0.1), workers)
        if any(v < 0 for v in lower.values()):
            return _finish(problem, "infeasible", None, None, started, domains)
        spread = problem.rules.break_spread
        if spread is not None and lower:
            # Fairness: nobody may have fewer than the most constrained participant's bound - d.
            floor = max(lower.values()) - spread
            lower = {p: max(lb, floor) for p, lb in lower.items()}
        pairs = pair_lower_bounds(problem, domains, lower, min(3.0, time_limit * 0.05), workers)
        upper = most_breaks(problem)
        total = combined_lower_bound(lower, pairs, spread, upper, min(2.0, 0.05 * time_limit))
        if total < 0:
            return _finish(problem, "infeasible", None, None, started, domains)
        shared = Shared(started, total, progress, stop)
        # "Can everyone go without a break?" is asked while the full model is being built (its
        # solver runs outside the interpreter lock): where the answer is yes, it is the whole
        # answer, and most of these cases are answered in well under a second.
        zero = _early(lambda: ask_zero(problem, domains, shared, deadline, 1)) if total == 0 else None
        model = build(problem, schedule_all=True)
        add_lower_bounds(model, lower)
        for (a, b), lb in pairs.items():
            model.cp.add(model.breaks[a] + model.breaks[b] >= lb)
        sat = threading.Thread(target=sat_search, args=(problem, shared, deadline), name="sat-search")
        sat.start()
        try:
            _min_breaks(model, shared, deadline, workers, lower, zero)
        finally:
            shared.done.set()
            sat.join()
        return _finish(problem, _verdict(shared), shared.best, shared.lower, started, domains)

    # Lexicographic: first the largest placed weight, then the fewest breaks at that weight.
    model = build(problem, schedule_all=False)
    shared = Shared(started, 0, progress, stop)
    cp = model.cp.clone()
    cp.maximize(model.total_weight)

    def report(assignments: dict[str, int], breaks: int, weight: int) -> None:
        if progress is not None:
            seconds = round(time.monotonic() - started, 3)
            progress({"seconds": seconds, "weight": weight, "breaks": breaks, "bound": None})

    first = run(model, cp, (deadline - time.monotonic()) * 0.5, workers, shared.done, report, lp=True)
    if first.assignments is None:
        if first.status == cp_model.INFEASIBLE:
            return _finish(problem, "infeasible", None, None, started, model.domains)
        # Out of time before any schedule (a big model eats the limit in building): a greedy
        # schedule is still far better for the organiser than none.
        fallback = _greedy(problem)
        return _finish(problem, "feasible" if fallback else "unknown", fallback, None, started, model.domains)
    if shared.done.is_set():
        return _finish(problem, "feasible", first.assignments, None, started, model.domains)
    best_weight = round(first.objective)
    model.cp.add(model.total_weight >= best_weight)
    add_hint(model, first.assignments)
    breaks = sum(breaks_by_participant(problem, first.assignments).values())
    shared.offer(first.assignments, breaks, best_weight)
    _min_breaks(model, shared, deadline, workers)
    status = _verdict(shared)
    if status == "optimal" and first.status != cp_model.OPTIMAL:
        status = "feasible"  # breaks are optimal for this weight, but the weight is not proven
    if shared.best is None:
        return _finish(problem, "feasible", first.assignments, None, started, model.domains)
    return _finish(problem, status, shared.best, shared.lower, started, model.domains)
