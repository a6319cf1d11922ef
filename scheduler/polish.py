"""Large-neighbourhood search on the exact model: free a few agendas, re-solve them with CP-SAT.

On these models CP-SAT's own search, once it holds a good schedule, rarely finds the last few
breaks within a minute; re-solving the meetings of a handful of participants around someone who
holds a break, with every other meeting pinned, settles each such question in a fraction of a
second and walks through schedules of equal breaks until one opens the way down.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Mapping

from ortools.sat.python import cp_model

from scheduler.model import add_hint, build, meetings_of
from scheduler.problem import Problem, breaks_by_participant
from scheduler.runner import OnSolution, run

# Seconds per sub-problem: long enough for CP-SAT to settle a few agendas, short enough to try many.
STEP_SECONDS = 1.5


class Polisher:
    """Improve a schedule of `model` (every meeting placed) one neighbourhood at a time."""

    def __init__(self, problem: Problem, seed: int = 0) -> None:
        # Symmetry breaking would forbid most schedules the walk passes through: leave it out.
        model = build(problem, schedule_all=True, symmetry=False)
        self.model = model
        self.rng = random.Random(seed)
        self.per = meetings_of(model.problem)
        self.partners: dict[str, list[str]] = {p: [] for p in self.per}
        for m in model.problem.meetings:
            self.partners[m.a].append(m.b)
            self.partners[m.b].append(m.a)
        self.size = max(3, len(self.per) // 12)

    def neighbourhood(self, breaks: Mapping[str, int]) -> set[int]:
        """Meetings of a participant holding a break (any, if none does) and of partners around it."""
        holders = [p for p, b in breaks.items() if b > 0 and self.per[p]] or [
            p for p in self.per if self.per[p]
        ]
        seed = self.rng.choice(holders)
        chosen, frontier = {seed}, [seed]
        while frontier and len(chosen) < self.size:
            p = frontier.pop(0)
            near = list(self.partners[p])
            self.rng.shuffle(near)
            for q in near:
                if q not in chosen and len(chosen) < self.size:
                    chosen.add(q)
                    frontier.append(q)
        # Now and then also someone far away with a break: two distant gaps may need one swap.
        if len(holders) > 1 and self.rng.random() < 0.3:
            chosen.add(self.rng.choice(holders))
        return {i for p in chosen for i in self.per[p]}

    def step(
        self, current: dict[str, int], time_limit: float, cancel: threading.Event
    ) -> tuple[dict[str, int], int] | None:
        """Re-solve one neighbourhood of `current` for at most as many breaks as it has.

        Returns the new schedule and its breaks, or None when CP-SAT found nothing in time.
        """
        model = self.model
        problem = model.problem
        breaks = breaks_by_participant(problem, current)
        total = sum(breaks.values())
        free = self.neighbourhood(breaks)
        cp = model.cp.clone()
        proto = cp.proto
        for i, (m, xi) in enumerate(zip(problem.meetings, model.x, strict=True)):
            if i in free:
                continue
            slot = current[m.id]
            for s, v in xi.items():
                value = int(s == slot)
                domain = proto.variables[v.index].domain  # a boolean's is [0, 1]
                domain[0] = domain[1] = value
        cp.add(model.total_breaks <= total)
        cp.minimize(model.total_breaks)
        add_hint(model, current, cp)
        out = run(model, cp, time_limit, 1, cancel)
        # Grow the neighbourhood while CP-SAT closes it in time, shrink it when it does not.
        if out.status == cp_model.OPTIMAL:
            self.size += 1
        elif out.status != cp_model.INFEASIBLE:
            self.size = max(2, self.size - 1)
        if out.assignments is None:
            return None
        return out.assignments, round(out.objective)


def polish(
    problem: Problem,
    start: dict[str, int],
    deadline: float,
    cancel: threading.Event,
    offer: OnSolution,
    best: Callable[[], tuple[dict[str, int], int] | None],
    stall: float = 5.0,
) -> None:
    """Run neighbourhood steps from `start` (every meeting placed) and offer every improvement.

    Stops at `deadline`, on `cancel`, or after `stall` seconds without a better schedule. `best`
    returns the best schedule known to the caller, which may come from elsewhere: the walk
    restarts from it whenever it beats the current one.
    """
    polisher = Polisher(problem)
    current = dict(start)
    current_breaks = sum(breaks_by_participant(problem, current).values())
    weight = sum(m.weight for m in problem.meetings)
    last = time.monotonic()
    while not cancel.is_set():
        now = time.monotonic()
        if deadline - now <= 0.05 or now - last > stall:
            return
        known = best()
        if known is not None and known[1] < current_breaks:
            current, current_breaks = dict(known[0]), known[1]
            last = now
        found = polisher.step(current, min(STEP_SECONDS, deadline - now), cancel)
        if found is None:
            continue
        assignments, breaks = found
        if breaks < current_breaks:
            offer(assignments, breaks, weight)
            last = time.monotonic()
        # Equal breaks: move anyway, so the next neighbourhoods see a different schedule.
        current, current_breaks = assignments, breaks
