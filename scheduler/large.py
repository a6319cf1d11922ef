"""Large events: choose meetings by b-matching, place them break-aware, then improve.

A monolithic CP-SAT model over thousands of meetings x slots does not get far in a minute, so:
1. choose which meetings to place: the max-weight b-matching (each participant at most their
   usable free slots), solved by CP-SAT in a fraction of a second on events of this size;
2. place the chosen meetings busiest participant first, each in the slot that adds the fewest
   breaks to both sides and keeps busy slots together (`greedy.construct`);
3. if weight is still short of the bound: insert unplaced meetings by Kempe-chain swaps or by
   evicting lighter ones; then ejection chains (`eject`): an unplaced meeting pushes out
   meetings that weigh no more, they look for room in turn, and the participant left idle is
   offered another of their unplaced meetings (the b-matching optimum is rarely slot-colourable
   as it stands, so which meetings to place is decided with the slots in view); then
   large-neighbourhood search with CP-SAT, freeing the meetings of a few participants around
   an unplaced meeting (weight first, then breaks);
4. simulated annealing over Kempe-chain slot swaps to remove breaks: swapping two slots along an
   alternating path of meetings keeps the schedule valid and changes only the path's two ends.
   Insertions are retried every few seconds, as the schedule keeps changing shape.
With a break-spread bound, meetings are dropped run by run until it holds (it is a hard rule)
and weight is won back under it. Meetings with precedences never move in Kempe chains.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable

from scheduler.bounds import bmatching
from scheduler.eject import Ejector
from scheduler.greedy import (
    Index,
    State,
    construct,
    fill,
    greedy_slots,
    mask_breaks,
    to_solution,
)
from scheduler.kempe import Kempe
from scheduler.lns import improve
from scheduler.objective import objective_key, spread_excess
from scheduler.problem import Problem, Solution

Progress = Callable[[dict[str, float | int | None]], None]


def solve_large(
    problem: Problem,
    time_limit: float = 60.0,
    workers: int = 2,
    progress: Progress | None = None,
    stop: threading.Event | None = None,
    seed: int = 0,
    on_schedule: Callable[[list[int], int, int], None] | None = None,
) -> Solution:
    """Schedule a big event within `time_limit` seconds; see the module docstring for how.

    `on_schedule` receives each improving placement as it is found (slot per meeting, -1 for
    unplaced; breaks; weight), before the search ends: a caller running it beside an exact search
    can stop it (`stop`) as soon as one of them is good enough.
    """
    started = time.monotonic()
    # Keep back a moment for writing the solution up (reasons for every unplaced meeting).
    deadline = started + time_limit - min(1.0, 0.02 * time_limit)
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
        if reported and (st.weight, -st.breaks) <= reported[-1]:
            return
        reported.append((st.weight, -st.breaks))
        if progress is not None:
            progress(
                {
                    "seconds": round(time.monotonic() - started, 2),
                    "weight": st.weight,
                    "breaks": st.breaks,
                    "bound": bound.value,
                }
            )
        if on_schedule is not None:
            on_schedule(list(st.slot), st.breaks, st.weight)

    def best(slot: list[int]) -> None:
        if on_schedule is not None:  # a State costs a pass over the meetings: only when wanted
            report(State(ix, slot))

    report(state)
    kempe = Kempe(state)
    if state.weight < bound.value:
        # Weight comes first: the meetings the b-matching chose, then any other that has a
        # possible slot, heaviest first; cheap Kempe insertions, then ejection chains, then
        # CP-SAT for the rest (meetings in precedences, which chains leave alone).
        picked = set(bound.chosen)
        targets = [i for i in bound.chosen if state.slot[i] < 0]
        targets += sorted(
            (i for i, s in enumerate(state.slot) if s < 0 and ix.allowed[i] and i not in picked),
            key=lambda i: -ix.weight[i],
        )
        kempe.targets = targets
        kempe.retry()
        if state.weight < bound.value:
            # What no insertion reaches hides behind slot clashes: ejection chains untangle
            # most of them (weight never lower at the end), with up to 60 % of the time left.
            share = time.monotonic() + 0.6 * (deadline - time.monotonic())
            Ejector(state).eject(share, rng, stop=stop, bound=bound.value, on_gain=report)
            # Chains push out meetings that were never targets: whatever is out now is one.
            targets = sorted(
                (i for i, s in enumerate(state.slot) if s < 0 and ix.allowed[i]), key=lambda i: -ix.weight[i]
            )
        if state.weight < bound.value and any(kempe.pinned[i] for i in targets):
            # Chains leave meetings in precedences alone; CP-SAT neighbourhoods handle those.
            share = time.monotonic() + (deadline - time.monotonic()) / 4
            improve(state, targets, deadline=share, workers=workers, rng=rng, stop=stop, on_improve=report)
        # Both searches moved meetings behind the chains' back: start them afresh.
        kempe = Kempe(state)
        kempe.targets = [i for i in targets if state.slot[i] < 0]
        report(state)
    spread = problem.rules.break_spread
    if spread is not None:
        # The spread bound is hard: anneal towards it, drop the cheapest meetings if it still
        # does not hold, win back whatever weight fits under it, then anneal again.
        kempe.anneal(
            time.monotonic() + (deadline - time.monotonic()) / 2, rng, stop=stop, on_tick=report, on_best=best
        )
        state = State(ix, kempe.best())
        dropped = enforce_spread(state, spread)
        if dropped:
            share = time.monotonic() + (deadline - time.monotonic()) / 2
            improve(state, dropped, deadline=share, workers=workers, rng=rng, stop=stop, on_improve=report)
        kempe = Kempe(state)
    kempe.anneal(deadline, rng, stop=stop, on_tick=report, on_best=best)
    final = State(ix, kempe.best())
    # Weight first: should the repairs have missed what greedy placed, greedy's schedule wins.
    return to_solution(ix, max(final, State(ix, base), key=objective_key).slot, started, bound=bound.value)


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
    while spread_excess(state.pbreaks, spread):
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
