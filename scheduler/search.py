"""Solve strategy: a prover raising the break lower bound beside an improver lowering the best schedule."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from ortools.sat.python import cp_model

from scheduler.explain import explain_unplaced
from scheduler.local import combined_lower_bound, pair_lower_bounds, participant_lower_bounds
from scheduler.model import Model, add_hint, add_lower_bounds, build, meeting_domains
from scheduler.problem import Problem, Solution, Unscheduled, breaks_by_participant, check_solution
from scheduler.runner import run
from scheduler.zero import build_zero

Progress = Callable[[dict[str, Any]], None]

# The prover first asks the window relaxation of "at most k breaks" for small k: where it holds,
# it refutes k far sooner than the full model (seconds against minutes on the crafb instances), so
# each of its two searches (without and with the LP) gets up to half of the time left, for each k:
# the first at most RELAX_SECONDS / 2, the second at most RELAX_SECONDS.
RELAX_UNTIL = 12
RELAX_SECONDS = 20.0
RELAX_SHARE = 0.5
# "At most one break?" asked of the relaxation for this long, then participant by participant:
# first this long each, at most this share of the time left in all.
EACH_FIRST = 2.0
EACH_SECONDS = 0.5
EACH_SHARE = 0.7
EACH_ROUNDS = 2
# The improver's core-guided phase: at most this long, and this share of the time left.
CORE_SECONDS = 10.0
CORE_SHARE = 0.25


class _Shared:
    """Best schedule and proven lower bound, shared by the prover and the improver threads."""

    def __init__(self, started: float, lower: int, progress: Progress | None, stop: threading.Event | None):
        self.lock = threading.Lock()
        self.started, self.lower, self.progress = started, lower, progress
        self.best: dict[str, int] | None = None
        self.best_breaks = 0
        self.weight = 0
        self.infeasible = False
        self.done = threading.Event()  # set when the answer is proven or the caller stopped us
        self.step = threading.Event()  # set when the prover's current question is already settled
        self.step_k = -1
        if stop is not None:
            threading.Thread(target=self._follow, args=(stop,), daemon=True).start()

    def _follow(self, stop: threading.Event) -> None:
        while not self.done.is_set():
            if stop.wait(0.05):
                self.done.set()

    def _report(self, weight: int) -> None:
        if self.progress is not None and self.best is not None:
            self.progress(
                {
                    "seconds": round(time.monotonic() - self.started, 3),
                    "weight": weight,
                    "breaks": self.best_breaks,
                    "bound": self.lower,
                }
            )

    def offer(self, assignments: dict[str, int], breaks: int, weight: int) -> None:
        with self.lock:
            # Weight first (it only varies when meetings are optional), then breaks.
            if self.best is not None and (weight, -breaks) <= (self.weight, -self.best_breaks):
                return
            self.best, self.best_breaks, self.weight = assignments, breaks, weight
            self._report(weight)
            if breaks <= self.lower:
                self.done.set()

    def raise_lower(self, bound: int) -> None:
        with self.lock:
            if bound <= self.lower:
                return
            self.lower = bound
            if bound > self.step_k:
                self.step.set()
            if self.best is not None:
                self._report(self.weight)
                if self.best_breaks <= self.lower:
                    self.done.set()

    def mark_infeasible(self) -> None:
        with self.lock:
            self.infeasible = True
            self.done.set()

    def left(self, deadline: float) -> float:
        return deadline - time.monotonic()


def _prove(
    model: Model, shared: _Shared, deadline: float, workers: int, lower: dict[str, int] | None = None
) -> None:
    """Ask "at most k breaks?" for k = lower, lower+1, ...: each "no" proves a better bound and the
    first "yes" is optimal. Clause learning settles these decision problems far faster than it
    closes the gap of the optimisation problem."""
    k = shared.lower
    lower = lower or {}
    base = sum(lower.values())  # caps below are valid against the single bounds only
    # No participant can have more breaks than meetings - 1, nor more than fit in the day.
    most = sum(_most_breaks(model.problem).values())
    places_all = all(isinstance(p, int) and p == 1 for p in model.placed)
    if k == 0 and places_all and not _ask_zero(model, shared, deadline, workers):
        return
    k = max(k, shared.lower)
    relax = places_all
    spread = model.problem.rules.break_spread
    # The relaxation is searched without the LP first (half the time), then with it: clause
    # learning alone refutes most bounds in seconds, but where the tables are nearly all taken
    # (tic-13crafc) only the LP sees the capacity, and with precedences it finds the schedules
    # (forumt-14crafe prec15); whichever last refuted a bound is asked first.
    lp_order = [False, True]
    clean: set[str] = set()  # participants without break in any schedule with at most 1 break
    while not shared.done.is_set() and shared.left(deadline) > 0.05:
        with shared.lock:
            if shared.best is not None and shared.best_breaks <= k:
                return
        with shared.lock:
            k = max(k, shared.lower)
            shared.step_k = k
            shared.step.clear()
        if relax and k < RELAX_UNTIL:
            answer = None
            seen: list[int] = []
            if k == 1:
                # One break: who holds it? After a short look at the relaxation, asked
                # participant by participant (forum-13crafc: seconds where both searches of
                # the relaxation and the full model run out of time).
                answer = _ask_broken(model, shared, deadline, k, lower, False, EACH_FIRST, seen=seen)
                if answer is None and not shared.step.is_set():
                    answer = _ask_each(model, shared, deadline, lower, clean)
                    if answer is None and not shared.step.is_set():
                        relax = False  # the full model next, told who holds no break
                if _holds(shared, k):
                    return
            for turn, lp in enumerate(list(lp_order) if answer is None and relax else []):
                seconds = RELAX_SECONDS * (0.5 if turn == 0 else 1.0)
                answer = _ask_broken(model, shared, deadline, k, lower, lp, seconds, seen=seen)
                if answer is not None or shared.step.is_set():
                    break
                lp_order.remove(lp)  # out of time: the other search leads from now on
                lp_order.append(lp)
            if answer is False and min(seen, default=k + 2) <= k + 1:
                # It holds with a schedule just one break above k: ask again counting the true
                # breaks, which finds the schedule or refutes k (forumt-14crafe prec15). Further
                # off (forum-14), that search mostly runs out of time the full model needs.
                answer = _ask_broken(model, shared, deadline, k, lower, False, 2 * RELAX_SECONDS, exact=True)
            if answer is False and spread != 0 and not _holds(shared, k):
                # Where it holds with more breaks, look for k participants with one break each:
                # a narrower question (its "no" proves nothing) whose schedules are optimal, and
                # the shape of most optimal schedules here (forum-13crafb: 6 breaks in 7 s where
                # the full model stays at 8 after a minute).
                _ask_broken(model, shared, deadline, k, lower, False, RELAX_SECONDS, most=1)
                if _holds(shared, k):
                    return
            if answer is None and shared.step.is_set():
                continue  # the improver proved a better bound meanwhile: ask the next question
            if answer:
                k += 1
                shared.raise_lower(k)
                continue
            relax = False  # the relaxation stops proving once it fails: leave the rest to the model
        cp = model.cp.clone()
        cp.clear_objective()
        cp.add(model.total_breaks <= k)
        with shared.lock:
            best = shared.best
        if best is not None:
            add_hint(model, best, cp)
        # Spelled out per participant, the slack lets presolve fix most "no break" literals at once.
        slack = k - base
        for p, lb in lower.items():
            if lb + slack < (model.problem.slots - 1) // 2:
                cp.add(model.breaks[p] <= lb + slack)
        if k == 1:
            for p in clean:
                cp.add(model.breaks[p] == 0)
        out = run(
            model, cp, shared.left(deadline), workers, shared.done, shared.offer, also_cancel=shared.step
        )
        if shared.step.is_set() and out.status == cp_model.UNKNOWN:
            continue  # the improver proved a better bound meanwhile: ask the next question
        if out.status == cp_model.INFEASIBLE:
            if k >= most:
                shared.mark_infeasible()  # not even the most breaks possible: no schedule at all
                return
            k += 1
            shared.raise_lower(k)
        elif out.assignments is None:
            return
        else:
            shared.raise_lower(k)  # k-1 was refuted, so this schedule is optimal.
            return


def _holds(shared: _Shared, k: int) -> bool:
    with shared.lock:
        return shared.best is not None and shared.best_breaks <= k


def _ask_each(
    model: Model, shared: _Shared, deadline: float, lower: dict[str, int], clean: set[str]
) -> bool | None:
    """Settle "at most one break?" by asking, for each participant in turn, for a schedule where
    only they hold a break (the exact relaxation, scheduler.zero). A participant refuted is
    kept without break in every later question; those that ran out of time are asked again
    with twice the time, for EACH_ROUNDS rounds. True when everyone is refuted, False when a
    schedule was found (or the schedules found break the spread rule), None otherwise; `clean`
    receives those refuted: in a schedule with at most one break, they hold none."""
    problem = model.problem
    zero = build_zero(problem, model.domains, broken=1, lower=lower, exact=True)
    if zero is None:
        return True
    with shared.lock:
        best = shared.best
    held = breaks_by_participant(problem, best) if best is not None else {}
    counts = _counts(problem)
    # Those breaking in the best schedule so far first, then the busiest.
    pending = sorted(zero.breaks, key=lambda p: (-held.get(p, 0), -counts[p], p))
    refuted: list[Any] = []
    until = time.monotonic() + EACH_SHARE * shared.left(deadline)
    seconds = EACH_SECONDS
    rounds = 0
    found = threading.Event()

    def offer(assignments: dict[str, int], breaks: int, weight: int) -> None:
        found.set()
        if not check_solution(problem, assignments):
            shared.offer(assignments, sum(breaks_by_participant(problem, assignments).values()), weight)

    while pending:
        unknown = []
        for p in pending:
            left = min(until, deadline) - time.monotonic()
            if left <= 0.05 or shared.done.is_set() or shared.step.is_set():
                return None
            cp = zero.cp.clone()
            cp.add(zero.breaks[p] == 1)
            for other in refuted:
                cp.add(other == 0)
            out = run(zero, cp, min(seconds, left), 1, shared.done, offer, also_cancel=shared.step)
            if found.is_set():
                return False
            if out.status == cp_model.INFEASIBLE:
                refuted.append(zero.breaks[p])
                clean.add(p)
            else:
                unknown.append(p)
        pending, seconds = unknown, 2 * seconds
        rounds += 1
        if pending and rounds >= EACH_ROUNDS:
            return None
    return True


def _ask_zero(model: Model, shared: _Shared, deadline: float, workers: int) -> bool:
    """Settle "can everyone go without a break?" with the window model (scheduler.zero).

    Returns False when nothing is left to ask: a schedule without breaks was found (optimal),
    the problem was proven infeasible, or time ran out. A "no" raises the lower bound to 1.
    """
    problem = model.problem
    zero = build_zero(problem, model.domains)
    if zero is not None:
        with shared.lock:
            shared.step_k = 0
            shared.step.clear()
        out = run(
            zero, zero.cp, shared.left(deadline), workers, shared.done, shared.offer, also_cancel=shared.step
        )
        if out.assignments is not None:
            return False  # offered through the callback: 0 breaks ends the search
        if shared.step.is_set() and out.status == cp_model.UNKNOWN:
            return True  # the improver proved a bound above 0 meanwhile
        if out.status != cp_model.INFEASIBLE:
            return False
    spread = problem.rules.break_spread
    if spread is not None and spread + min(_most_breaks(problem).values(), default=0) == 0:
        # Someone can never hold a break and nobody may hold more than they do.
        shared.mark_infeasible()
        return False
    shared.raise_lower(1)
    return True


def _ask_broken(
    model: Model,
    shared: _Shared,
    deadline: float,
    k: int,
    lower: dict[str, int],
    lp: bool = False,
    seconds: float = RELAX_SECONDS,
    exact: bool = False,
    seen: list[int] | None = None,
    most: int | None = None,
) -> bool | None:
    """Try to refute "at most k breaks" quickly with its relaxation "at most k participants hold
    breaks, everyone else one run of slots" (scheduler.zero), searched with or without the LP.
    True when refuted, False when it holds, None when time ran out; a schedule it finds on the
    way is offered with its true break count, which `seen` collects. `exact` adds the true count
    (scheduler.zero); `most` caps everyone's breaks (scheduler.zero: below the spread, a
    restriction whose "no" the caller must not take for a refutation)."""
    if shared.left(deadline) <= 0.05:
        return None
    zero = build_zero(model.problem, model.domains, broken=k, lower=lower, exact=exact, most=most)
    if zero is None:
        return True
    budget = min(seconds, RELAX_SHARE * shared.left(deadline))

    def offer(assignments: dict[str, int], _breaks: int, weight: int) -> None:
        breaks = sum(breaks_by_participant(model.problem, assignments).values())
        if seen is not None:
            seen.append(breaks)
        if not check_solution(model.problem, assignments):
            shared.offer(assignments, breaks, weight)

    out = run(zero, zero.cp, budget, 1, shared.done, offer, also_cancel=shared.step, lp=lp)
    if out.status == cp_model.INFEASIBLE:
        return True
    return None if out.status == cp_model.UNKNOWN else False


def _most_breaks(problem: Problem) -> dict[str, int]:
    """The most breaks each participant could hold: one fewer than meetings, at most half the day."""
    return {p: min(max(0, n - 1), (problem.slots - 1) // 2) for p, n in _counts(problem).items()}


def _counts(problem: Problem) -> dict[str, int]:
    counts = {p.id: 0 for p in problem.participants}
    for m in problem.meetings:
        counts[m.a] += 1
        counts[m.b] += 1
    return counts


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


def _local_search(model: Model, shared: _Shared, budget: float) -> dict[str, int] | None:
    """Seed the search with the large-instance local search (annealing, Kempe chains): on these
    models it reaches near-optimal schedules far sooner than CP-SAT's own search."""
    try:
        from scheduler.large import solve_large
    except ImportError:  # pragma: no cover - the module is developed alongside this one
        return None
    problem = model.problem
    try:
        found = solve_large(problem, time_limit=budget, workers=1, stop=shared.done)
    except Exception:  # a heuristic failing must never sink the exact search
        return None
    complete = len(found.assignments) == len(problem.meetings) or not problem.rules.schedule_all
    if complete and not check_solution(problem, found.assignments):
        shared.offer(dict(found.assignments), found.breaks, found.weight)
    # Even a schedule missing a meeting or two makes a useful hint.
    return dict(found.assignments)


def _first_schedule(model: Model, shared: _Shared, deadline: float, workers: int, hint: Any) -> None:
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


def _improve(model: Model, shared: _Shared, deadline: float, workers: int, seed: bool = True) -> None:
    """Find a schedule, then minimise breaks directly: finds good schedules early and proves
    infeasibility."""
    hint = None
    if seed:
        hint = _local_search(model, shared, min(3.0, 0.1 * shared.left(deadline)))
    places_all = all(isinstance(p, int) and p == 1 for p in model.placed)
    if places_all:
        with shared.lock:
            known = shared.best is not None
        if not known:
            _first_schedule(model, shared, deadline, workers, hint)
    # Core-guided search first: it proves the variants whose optimum lies far above the simple
    # bounds (fixed meetings force many breaks), and there it keeps the whole time; elsewhere
    # plain branching follows, which finds the last schedules far sooner.
    core_until = time.monotonic() + min(CORE_SECONDS, CORE_SHARE * shared.left(deadline))
    if any(m.fixed_slot is not None for m in model.problem.meetings):
        core_until = deadline
    for core in (True, False):
        if shared.done.is_set() or shared.left(deadline) <= 0.05:
            return
        until = core_until if core else deadline
        cp = model.cp.clone()
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


def _min_breaks(
    model: Model, shared: _Shared, deadline: float, workers: int, lower: dict[str, int] | None = None
) -> None:
    """Run prover and improver side by side (or one after the other with a single worker)."""
    if workers >= 2:
        improver = threading.Thread(target=_improve, args=(model, shared, deadline, workers - 1))
        improver.start()
        _prove(model, shared, deadline, 1, lower)
        # Each of its solves keeps the deadline (scheduler.runner); the timeout is a backstop.
        improver.join(max(0.0, shared.left(deadline)) + 1.0)
    else:
        _prove(model, shared, time.monotonic() + shared.left(deadline) * 0.5, 1, lower)
        if not shared.done.is_set():
            _improve(model, shared, deadline, 1)
    shared.done.set()


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


def _verdict(shared: _Shared) -> str:
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
        lower = participant_lower_bounds(problem, domains, time_limit=min(5.0, time_limit * 0.1))
        if any(v < 0 for v in lower.values()):
            return _finish(problem, "infeasible", None, None, started, domains)
        spread = problem.rules.break_spread
        if spread is not None and lower:
            # Fairness: nobody may have fewer than the most constrained participant's bound - d.
            floor = max(lower.values()) - spread
            lower = {p: max(lb, floor) for p, lb in lower.items()}
        pairs = pair_lower_bounds(problem, domains, lower, time_limit=min(3.0, time_limit * 0.05))
        upper = _most_breaks(problem)
        total = combined_lower_bound(lower, pairs, spread, upper, min(2.0, 0.05 * time_limit))
        if total < 0:
            return _finish(problem, "infeasible", None, None, started, domains)
        model = build(problem, schedule_all=True)
        add_lower_bounds(model, lower)
        for (a, b), lb in pairs.items():
            model.cp.add(model.breaks[a] + model.breaks[b] >= lb)
        shared = _Shared(started, total, progress, stop)
        _min_breaks(model, shared, deadline, workers, lower)
        return _finish(problem, _verdict(shared), shared.best, shared.lower, started, domains)

    # Lexicographic: first the largest placed weight, then the fewest breaks at that weight.
    model = build(problem, schedule_all=False)
    shared = _Shared(started, 0, progress, stop)
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
