"""The zero-break question as its own model: every participant busy in one run of slots.

"Can everyone's meetings sit back to back?" is the first question whenever the lower bound on
breaks is 0, and the answer to every case at break spread 0 where some participant can hold no
break at all. The general model reaches the same answer only through long chains of break and
window literals; here each participant picks a window start and the window alone says in which
slots they are busy, so one choice propagates to all of their slots at once.
"""

from __future__ import annotations

from typing import Any

from ortools.sat.python import cp_model

from scheduler.local import _match
from scheduler.model import Model, meetings_of
from scheduler.problem import Problem


def window_starts(problem: Problem, domains: list[list[int]], mine: list[int]) -> list[int]:
    """First slots f such that the meetings `mine` fit, one per slot, exactly into f..f+n-1."""
    n = len(mine)
    doms = [domains[i] for i in mine]
    if any(not d for d in doms):
        return []
    lo = max(0, max(d[0] for d in doms) - n + 1)
    hi = min(problem.slots - n, min(d[-1] for d in doms))
    return [f for f in range(lo, hi + 1) if _match(doms, set(range(f, f + n))) is not None]


def build_zero(
    problem: Problem,
    domains: list[list[int]],
    broken: int | None = None,
    lower: dict[str, int] | None = None,
    exact: bool = False,
    most: int | None = None,
) -> Model | None:
    """Model "every meeting placed, nobody has a break"; None when some participant has no window.

    With `broken`, up to that many participants may instead hold their meetings anywhere (one per
    slot): a relaxation of "at most `broken` breaks in all", so its "no" proves more breaks than
    that. `lower` holds per-participant break lower bounds: a participant with breaks counts for
    at least that many. `exact` counts the true breaks of those participants too: then only the
    break-spread rule is relaxed, and a schedule found has at most `broken` breaks. `most` caps
    everyone's breaks: with 1 the model is a restriction, whose schedules hold at most `broken`
    breaks, one each, and whose "no" proves nothing.
    `Model.breaks` maps each participant to its "may have breaks" literal.
    """
    cp = cp_model.CpModel()
    S = problem.slots
    per = meetings_of(problem)
    starts: dict[str, list[int]] = {}
    for p, mine in per.items():
        if not mine:
            continue
        fs = window_starts(problem, domains, mine)
        if not fs and not broken:
            return None
        starts[p] = fs
    # A meeting may only use slots inside both participants' possible windows.
    reach: dict[str, set[int]] = {
        p: {s for f in fs for s in range(f, f + len(per[p]))} if not broken else set(range(S))
        for p, fs in starts.items()
    }
    doms = [
        [s for s in d if s in reach[m.a] and s in reach[m.b]]
        for m, d in zip(problem.meetings, domains, strict=True)
    ]
    if any(not d for d in doms):
        return None
    x: list[dict[int, Any]] = []
    for i, d in enumerate(doms):
        xi = {s: cp.new_bool_var(f"x{i}_{s}") for s in d}
        cp.add_exactly_one(xi.values())
        x.append(xi)
    index = {m.id: i for i, m in enumerate(problem.meetings)}
    for i, m in enumerate(problem.meetings):
        for other in m.after:
            j = index[other]
            for s, v in x[i].items():
                cp.add_bool_or([*(w for t, w in x[j].items() if t < s), v.Not()])
    busy: dict[str, list[Any]] = {}
    free: dict[str, Any] = {}
    for p, fs in starts.items():
        n = len(per[p])
        w = {f: cp.new_bool_var(f"w{p}_{f}") for f in fs}
        loose = cp.new_bool_var(f"broken{p}") if broken else 0
        cp.add_exactly_one([*w.values(), *([loose] if broken else [])])
        free[p] = loose
        row: list[Any] = []
        for s in range(S):
            cover = [v for f, v in w.items() if f <= s < f + n]
            here = [x[i][s] for i in per[p] if s in x[i]]
            if not here:
                for v in cover:
                    cp.add(v == 0)
                row.append(0)
                continue
            if not broken:
                # Busy exactly in the window's slots, with exactly one meeting in each.
                cp.add(sum(here) == sum(cover))
                row.append(sum(cover))
                continue
            # A participant with breaks holds at most one meeting per slot, wherever.
            cp.add(sum(here) >= sum(cover))
            cp.add(sum(here) <= sum(cover) + loose)
            b = cp.new_bool_var(f"busy{p}_{s}")
            cp.add(sum(here) == b)
            row.append(b)
        busy[p] = row
    if broken:
        lower = lower or {}
        cp.add(sum(max(1, lower.get(p, 0)) * v for p, v in free.items()) <= broken)
        runs = {p: _run_starts(cp, p, row) for p, row in busy.items()} if exact or most is not None else {}
        if exact:
            cp.add(sum(runs.values()) - len(busy) <= broken)
        if most is not None:
            for count in runs.values():
                cp.add(count <= most + 1)
    if problem.capacity is not None:
        for s in range(S):
            here = [xi[s] for xi in x if s in xi]
            if len(here) > problem.capacity:
                cp.add(sum(here) <= problem.capacity)
                # Implied, over the windows alone: two busy participants per meeting.
                cp.add(sum(busy[p][s] for p in busy) <= 2 * problem.capacity)
    return Model(problem, cp, doms, x, [1] * len(problem.meetings), busy, free, [])


def _run_starts(cp: cp_model.CpModel, p: str, row: list[Any]) -> Any:
    """At least the number of runs of busy slots in `row`: one more than the breaks.

    A literal per slot, forced to 1 where a run starts (busy here, idle in the slot before);
    summed over everyone, it holds the relaxation to the true break count of the broken.
    """
    out = []
    for s, b in enumerate(row):
        if isinstance(b, int):
            continue
        prev = row[s - 1] if s > 0 else 0
        u = cp.new_bool_var(f"run{p}_{s}")
        cp.add_bool_or([u, b.Not(), *([] if isinstance(prev, int) else [prev])])
        out.append(u)
    return sum(out)
