"""The prover: raises the lower bound on breaks by settling "at most k breaks?" for k = 1, 2, ...

Each "no" proves a better bound and the first "yes" is optimal. Before the full model, cheaper
questions in window form (scheduler.zero) are asked where they settle k sooner: the zero-break
model, the relaxation "at most k participants break", its exact variant, "k participants with one
break each", and "at most one break?" participant by participant.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from ortools.sat.python import cp_model

from scheduler.model import Model, add_hint
from scheduler.problem import Problem, breaks_by_participant, check_solution
from scheduler.runner import OnSolution, run
from scheduler.shared import Shared, holds
from scheduler.zero import build_zero

# The prover first asks the window relaxation of "at most k breaks" for small k: where it holds,
# it refutes k far sooner than the full model (seconds against minutes on the crafb instances), so
# each of its two searches (without and with the LP) gets up to half of the time left, for each k:
# the first at most RELAX_SECONDS / 2, the second at most RELAX_SECONDS.
RELAX_UNTIL = 12
RELAX_SECONDS = 20.0
RELAX_SHARE = 0.5
# The exact relaxation, asked when a schedule one break above k is in sight: this share.
EXACT_SHARE = 0.8
# "At most one break?" asked of the relaxation for this long, then participant by participant:
# first this long each, at most this share of the time left in all.
EACH_FIRST = 2.0
EACH_BUDGETS = (0.5, 1.0, 3.0)
EACH_SHARE = 0.7


def prove(
    model: Model,
    shared: Shared,
    deadline: float,
    workers: int,
    lower: dict[str, int] | None = None,
    threads: int = 1,
    zero: Callable[[], bool] | None = None,
) -> None:
    """Ask "at most k breaks?" for k = lower, lower+1, ...: each "no" proves a better bound and the
    first "yes" is optimal. Clause learning settles these decision problems far faster than it
    closes the gap of the optimisation problem. `zero`, when the caller asked the zero-break
    question already (`ask_zero`, while the model was being built), waits for its answer."""
    k = shared.lower
    lower = lower or {}
    base = sum(lower.values())  # caps below are valid against the single bounds only
    # No participant can have more breaks than meetings - 1, nor more than fit in the day.
    most = sum(most_breaks(model.problem).values())
    places_all = all(isinstance(p, int) and p == 1 for p in model.placed)
    if zero is not None:
        if not zero():
            return
    elif k == 0 and places_all and not ask_zero(model.problem, model.domains, shared, deadline, workers):
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
        floor = spread_floor(k, len(model.problem.participants), spread)
        if floor > most:
            shared.mark_infeasible()  # the spread rule asks for more breaks than anyone can hold
            return
        if floor > k:
            k = floor
            shared.raise_lower(k)
            continue  # a schedule found meanwhile may meet the new bound
        with shared.lock:
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
                    answer = _ask_each(model, shared, deadline, lower, clean, threads)
                    if answer is None and not shared.step.is_set():
                        relax = False  # the full model next, told who holds no break
                if holds(shared, k):
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
                # off (forum-14), that search mostly runs out of time the full model needs. Its
                # time to a schedule varies widely with the seed (forumt-14crafe prec25: 1 to 44
                # s), so it gets most of the time left.
                answer = _ask_broken(
                    model, shared, deadline, k, lower, False, 3 * RELAX_SECONDS, exact=True, share=EXACT_SHARE
                )
            if answer is False and spread != 0 and not holds(shared, k):
                # Where it holds with more breaks, look for k participants with one break each:
                # a narrower question (its "no" proves nothing) whose schedules are optimal, and
                # the shape of most optimal schedules here (forum-13crafb: 6 breaks in 7 s where
                # the full model stays at 8 after a minute).
                _ask_broken(model, shared, deadline, k, lower, False, RELAX_SECONDS, most=1)
                if holds(shared, k):
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


def _ask_each(
    model: Model,
    shared: Shared,
    deadline: float,
    lower: dict[str, int],
    clean: set[str],
    threads: int = 1,
) -> bool | None:
    """Settle "at most one break?" by asking, for each participant in turn, for a schedule where
    only they hold a break (the exact relaxation, scheduler.zero). A participant refuted is
    kept without break in every later question; those that ran out of time are asked again
    with more time (EACH_BUDGETS). True when everyone is refuted, False when a schedule was
    found (or the schedules found break the spread rule), None otherwise; `clean` receives
    those refuted: in a schedule with at most one break, they hold none.

    With `threads` above one, that many questions run at once and the improver stands aside
    meanwhile (Shared.hold): where the one break is hard to place (ticf-13crafc), one question
    in a dozen finds it in seconds while the improver's whole search does not in a minute.
    """
    problem = model.problem
    zero = build_zero(problem, model.domains, broken=1, lower=lower, exact=True)
    if zero is None:
        return True
    with shared.lock:
        best = shared.best
    held = breaks_by_participant(problem, best) if best is not None else {}
    counts = meeting_counts(problem)
    # Those breaking in the best schedule so far first, then the busiest.
    pending = sorted(zero.breaks, key=lambda p: (-held.get(p, 0), -counts[p], p))
    refuted: list[Any] = []
    until = time.monotonic() + EACH_SHARE * shared.left(deadline)
    seen: list[int] = []
    offer = _offer_found(shared, problem, seen)
    found = threading.Event()

    def found_one(assignments: dict[str, int], breaks: int, weight: int) -> None:
        offer(assignments, breaks, weight)
        found.set()

    def ask(p: str, seconds: float) -> int | None:
        left = min(until, deadline) - time.monotonic()
        if left <= 0.05 or found.is_set() or shared.done.is_set() or shared.step.is_set():
            return None
        cp = zero.cp.clone()
        cp.add(zero.breaks[p] == 1)
        for other in list(refuted):
            cp.add(other == 0)
        out = run(zero, cp, min(seconds, left), 1, shared.done, found_one, also_cancel=found)
        if out.status == cp_model.INFEASIBLE:
            refuted.append(zero.breaks[p])
            clean.add(p)
        return out.status

    held = threads > 1
    if held:
        shared.take_hold()
    try:
        with ThreadPoolExecutor(max(1, threads)) as pool:
            for seconds in EACH_BUDGETS:
                answers = list(pool.map(lambda p, s=seconds: ask(p, s), pending))
                if seen:
                    return False
                if any(a is None for a in answers):
                    return None  # out of time, or the question was settled elsewhere
                pending = [p for p, a in zip(pending, answers, strict=True) if a != cp_model.INFEASIBLE]
                if not pending:
                    return True
    finally:
        if held:
            shared.release_hold()
    return None


def ask_zero(
    problem: Problem, domains: list[list[int]], shared: Shared, deadline: float, workers: int
) -> bool:
    """Settle "can everyone go without a break?" with the window model (scheduler.zero).

    Returns False when nothing is left to ask: a schedule without breaks was found (optimal),
    the problem was proven infeasible, or time ran out. A "no" raises the lower bound to 1.
    """
    zero = build_zero(problem, domains)
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
    if spread is not None and spread + min(most_breaks(problem).values(), default=0) == 0:
        # Someone can never hold a break and nobody may hold more than they do.
        shared.mark_infeasible()
        return False
    shared.raise_lower(1)
    return True


def _ask_broken(
    model: Model,
    shared: Shared,
    deadline: float,
    k: int,
    lower: dict[str, int],
    lp: bool = False,
    seconds: float = RELAX_SECONDS,
    exact: bool = False,
    seen: list[int] | None = None,
    most: int | None = None,
    share: float = RELAX_SHARE,
) -> bool | None:
    """Try to refute "at most k breaks" quickly with its relaxation "at most k participants hold
    breaks, everyone else one run of slots" (scheduler.zero), searched with or without the LP.
    True when refuted, False when it holds, None when time ran out; a schedule it finds on the
    way is offered with its true break count, which `seen` collects. `exact` adds the true count
    (scheduler.zero); `most` caps everyone's breaks (scheduler.zero: with 1 a restriction,
    whose "no" the caller must not take for a refutation)."""
    if shared.left(deadline) <= 0.05:
        return None
    zero = build_zero(model.problem, model.domains, broken=k, lower=lower, exact=exact, most=most)
    if zero is None:
        return True
    budget = min(seconds, share * shared.left(deadline))
    offer = _offer_found(shared, model.problem, seen if seen is not None else [])
    out = run(zero, zero.cp, budget, 1, shared.done, offer, also_cancel=shared.step, lp=lp)
    if out.status == cp_model.INFEASIBLE:
        return True
    return None if out.status == cp_model.UNKNOWN else False


def _offer_found(shared: Shared, problem: Problem, seen: list[int]) -> OnSolution:
    """The callback for schedules a window model finds: its own break count leaves the broken
    participants' breaks out, so the true count is taken, kept in `seen`, and the schedule
    offered when it keeps every rule (the relaxations may break the spread rule)."""

    def offer(assignments: dict[str, int], _breaks: int, weight: int) -> None:
        breaks = sum(breaks_by_participant(problem, assignments).values())
        seen.append(breaks)
        if not check_solution(problem, assignments):
            shared.offer(assignments, breaks, weight)

    return offer


def spread_floor(lower: int, people: int, spread: int | None) -> int:
    """The least total of breaks once `lower` is proven, under the spread rule: someone holds at
    least lower / people (rounded up), so everyone holds that less the spread. It lifts the bound
    at spread 0 only, where "nobody can go without a break" means every one of them holds one."""
    if spread is None or people == 0 or lower <= 0:
        return lower
    return max(lower, people * (-(-lower // people) - spread))


def most_breaks(problem: Problem) -> dict[str, int]:
    """The most breaks each participant could hold: one fewer than meetings, at most half the day."""
    return {p: min(max(0, n - 1), (problem.slots - 1) // 2) for p, n in meeting_counts(problem).items()}


def meeting_counts(problem: Problem) -> dict[str, int]:
    counts = {p.id: 0 for p in problem.participants}
    for m in problem.meetings:
        counts[m.a] += 1
        counts[m.b] += 1
    return counts
