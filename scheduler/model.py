"""The CP-SAT model: one boolean per meeting and allowed slot, one break literal per break start."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

from ortools.sat.python import cp_model

from scheduler.problem import Problem

# A literal or a constant 0/1 folded at build time (keeps the model small).
Lit = Any


@dataclass
class Model:
    """A built CP-SAT model and the handles the solve loop needs."""

    problem: Problem
    cp: cp_model.CpModel
    domains: list[list[int]]
    x: list[dict[int, Any]]
    placed: list[Lit]
    busy: dict[str, list[Lit]]
    breaks: dict[str, Any]
    break_lits: list[Any] = field(default_factory=list)
    starts: dict[str, list[Any]] = field(default_factory=dict)  # per participant: start-slot literals
    nobreak: dict[str, Any] = field(default_factory=dict)
    after: dict[str, list[Lit]] = field(default_factory=dict)  # after[p][s]: busy in some slot > s

    @property
    def total_breaks(self) -> Any:
        """Sum of all break literals."""
        return sum(self.break_lits)

    @property
    def total_weight(self) -> Any:
        """Weight of the placed meetings."""
        return sum(m.weight * p for m, p in zip(self.problem.meetings, self.placed, strict=True))


def meeting_domains(problem: Problem, schedule_all: bool | None = None) -> list[list[int]]:
    """Allowed slots per meeting after availability, session, fixed slot and precedence windows."""
    if schedule_all is None:
        schedule_all = problem.rules.schedule_all
    index = {m.id: i for i, m in enumerate(problem.meetings)}
    domains = [problem.allowed_slots(m) for m in problem.meetings]
    succ: list[list[int]] = [[] for _ in problem.meetings]
    for i, m in enumerate(problem.meetings):
        for other in m.after:
            succ[index[other]].append(i)
    # A meeting comes after its predecessors' earliest slot and, when every meeting is placed, before
    # its successors' latest one; a meeting whose predecessor cannot be placed cannot be placed
    # either. Iterate to a fixpoint
    # (the precedence graph is acyclic, domains only shrink, so this terminates).
    changed = True
    while changed:
        changed = False
        for i, m in enumerate(problem.meetings):
            dom = domains[i]
            if not dom:
                continue
            preds = [domains[index[o]] for o in m.after]
            if any(not d for d in preds):
                new: list[int] = []
            else:
                lo = max((d[0] for d in preds), default=-1)
                hi = problem.slots
                if schedule_all:
                    hi = min((domains[j][-1] for j in succ[i] if domains[j]), default=hi)
                new = [s for s in dom if lo < s < hi]
            if len(new) != len(dom):
                domains[i] = new
                changed = True
    return domains


def meetings_of(problem: Problem) -> dict[str, list[int]]:
    """Meeting indices per participant id."""
    out: dict[str, list[int]] = {p.id: [] for p in problem.participants}
    for i, m in enumerate(problem.meetings):
        out[m.a].append(i)
        out[m.b].append(i)
    return out


def build(
    problem: Problem, *, schedule_all: bool | None = None, windows: bool = True, symmetry: bool = True
) -> Model:
    """Build the model; with schedule_all every meeting is placed, else placement is optional."""
    if schedule_all is None:
        schedule_all = problem.rules.schedule_all
    cp = cp_model.CpModel()
    domains = meeting_domains(problem, schedule_all)
    index = {m.id: i for i, m in enumerate(problem.meetings)}
    x: list[dict[int, Any]] = []
    placed: list[Lit] = []
    for i in range(len(problem.meetings)):
        xi = {s: cp.new_bool_var(f"x{i}_{s}") for s in domains[i]}
        x.append(xi)
        if schedule_all:
            # An empty domain makes the constraint (and so the model) infeasible, as it should.
            cp.add_exactly_one(xi.values())
            placed.append(1)
        elif not xi:
            placed.append(0)
        else:
            pl = cp.new_bool_var(f"placed{i}")
            cp.add(sum(xi.values()) == pl)
            placed.append(pl)
    for i, m in enumerate(problem.meetings):
        for other in m.after:
            j = index[other]
            if not isinstance(placed[i], int) and not isinstance(placed[j], int):
                cp.add_implication(placed[i], placed[j])
            # x[i,s] => the predecessor sits in some slot before s.
            for s, v in x[i].items():
                cp.add_bool_or([*(w for t, w in x[j].items() if t < s), v.Not()])
    if problem.capacity is not None:
        for s in range(problem.slots):
            here = [xi[s] for xi in x if s in xi]
            if len(here) > problem.capacity:
                cp.add(sum(here) <= problem.capacity)
    busy: dict[str, list[Lit]] = {}
    breaks: dict[str, Any] = {}
    break_lits: list[Any] = []
    after: dict[str, list[Lit]] = {}
    for p, mine in meetings_of(problem).items():
        row: list[Lit] = []
        for s in range(problem.slots):
            here = [x[i][s] for i in mine if s in x[i]]
            if not here:
                row.append(0)
            elif len(here) == 1:
                row.append(here[0])
            else:
                b = cp.new_bool_var(f"busy{p}_{s}")
                cp.add(sum(here) == b)
                row.append(b)
        busy[p] = row
        after[p] = _after_literals(cp, p, row)
        lits = _break_literals(cp, p, row, after[p])
        breaks[p] = sum(lits)
        break_lits += lits
    model = Model(problem, cp, domains, x, placed, busy, breaks, break_lits, after=after)
    spread = problem.rules.break_spread
    if spread is not None and problem.participants:
        lo = cp.new_int_var(0, problem.slots, "breaks_lo")
        for b in breaks.values():
            cp.add(b >= lo)
            cp.add(b <= lo + spread)
    if schedule_all and windows:
        add_window_constraints(model)
        add_break_count_bound(model)
    if schedule_all and symmetry:
        add_symmetry_breaking(model)
    return model


def add_busy_capacity(model: Model, cp: cp_model.CpModel) -> None:
    """Implied, for core-guided search (on `cp`, a clone of the model): a slot that holds at most
    `capacity` meetings has at most twice as many people busy.

    The capacity row over the meeting literals says the same, but only through the meetings; on the
    participants' busy literals, which the break literals are made of, core-guided search finds
    at once that where the tables are nearly all taken somebody must sit idle between meetings
    (tic-13crafc.fixed020-Forb, 180 meetings for 190 tables: optimum 6 proven in 11 s on one
    worker, where the bound stayed at 3 for a minute; forum-13crafb.forb0003: 5 proven in 53 s).
    A benchmark run with the rows in the model for every search (and in the SAT question as a
    sequential counter) lost cases that took 10-40 s before (tic-13crafc.original at spreads 1
    and 2), so only the core-guided solves, where they were measured to help, get them. As an
    equality with twice the meetings placed in the slot they did not help core-guided search.
    """
    capacity = model.problem.capacity
    if capacity is None:
        return
    for s in range(model.problem.slots):
        column = [row[s] for row in model.busy.values()]
        lits = [b for b in column if not isinstance(b, int)]
        fixed = sum(1 for b in column if isinstance(b, int) and b)
        if len(lits) + fixed > 2 * capacity:
            cp.add(sum(lits) <= 2 * capacity - fixed)


def _or(cp: cp_model.CpModel, a: Lit, b: Lit, name: str) -> Lit:
    """Return a literal equal to `a or b`, folding constants."""
    if isinstance(a, int) and isinstance(b, int):
        return a | b
    if isinstance(a, int):
        return 1 if a else b
    if isinstance(b, int):
        return 1 if b else a
    v = cp.new_bool_var(name)
    cp.add_max_equality(v, [a, b])
    return v


def _after_literals(cp: cp_model.CpModel, pid: str, busy: list[Lit]) -> list[Lit]:
    """after[s] <=> busy in some slot later than s, as a chain of two-literal ors."""
    n = len(busy)
    after: list[Lit] = [0] * n
    for s in range(n - 2, -1, -1):
        after[s] = _or(cp, busy[s + 1], after[s + 1], f"after{pid}_{s}")
    return after


def _break_literals(cp: cp_model.CpModel, pid: str, busy: list[Lit], after: list[Lit]) -> list[Any]:
    """One literal per slot s: g[s] <=> busy[s-1] and not busy[s] and busy somewhere after s.

    Each break (maximal idle run inside the span) has exactly one such start, so the sum of the
    literals is the participant's exact break count, which the break-spread rule needs.
    """
    n = len(busy)
    out = []
    for s in range(1, n - 1):
        prev, cur, aft = busy[s - 1], busy[s], after[s]
        if (
            (isinstance(prev, int) and not prev)
            or (isinstance(cur, int) and cur)
            or (isinstance(aft, int) and not aft)
        ):
            continue
        conds = [lit for lit in (prev, aft) if not isinstance(lit, int)]
        if not isinstance(cur, int):
            conds.append(cur.Not())
        g = cp.new_bool_var(f"brk{pid}_{s}")
        cp.add_bool_or([g, *(c.Not() for c in conds)])
        for c in conds:
            cp.add_implication(g, c)
        out.append(g)
    return out


def add_window_constraints(model: Model) -> None:
    """Implied (every meeting placed): a participant without breaks is busy in n consecutive slots.

    With a start literal per slot, "no break and starts at s" propagates straight to "busy at
    s..s+n-1", which the break literals alone only reach through long chains of clauses.
    """
    problem, cp = model.problem, model.cp
    S = problem.slots
    for p, mine in meetings_of(problem).items():
        if not mine:
            continue
        n = len(mine)
        busy = model.busy[p]
        before: list[Lit] = [0] * S
        for s in range(1, S):
            before[s] = _or(cp, busy[s - 1], before[s - 1], f"before{p}_{s}")
        starts: dict[int, Lit] = {}
        for s in range(S):
            if isinstance(busy[s], int) and not busy[s]:
                continue
            if isinstance(before[s], int) and before[s]:
                continue
            if isinstance(busy[s], int):
                starts[s] = before[s].Not() if not isinstance(before[s], int) else 1
            elif isinstance(before[s], int):
                starts[s] = busy[s]
            else:
                st = cp.new_bool_var(f"start{p}_{s}")
                cp.add_bool_and([busy[s], before[s].Not()]).only_enforce_if(st)
                cp.add_bool_or([st, busy[s].Not(), before[s]])
                starts[s] = st
        cp.add_exactly_one([st for st in starts.values() if not isinstance(st, int)] or [1])
        model.starts[p] = [st for st in starts.values() if not isinstance(st, int)]
        nobreak = cp.new_bool_var(f"nobreak{p}")
        model.nobreak[p] = nobreak
        cp.add(model.breaks[p] == 0).only_enforce_if(nobreak)
        cp.add(model.breaks[p] >= 1).only_enforce_if(nobreak.Not())
        _add_windows(model, p, mine, nobreak)
        # Every window that could hold all meetings covers [latest start, earliest end]: without
        # a break the participant is busy there, whichever window it gets (binary clauses).
        if any(not model.domains[i] for i in mine):
            continue  # the meeting cannot be placed: the model is infeasible anyway
        a = min(model.domains[i][-1] for i in mine)
        b = max(model.domains[i][0] for i in mine)
        first, last = max(0, b - n + 1), min(a, S - n)
        for t in range(max(0, last), min(S, first + n)):  # clipped: more meetings than slots
            if not isinstance(busy[t], int):
                cp.add_implication(nobreak, busy[t])
            elif not busy[t]:
                cp.add(nobreak == 0)
        # And an idle slot anywhere inside the forced span [a, b] is a break.
        for t in range(a, b + 1):
            if not isinstance(busy[t], int):
                cp.add_implication(busy[t].Not(), nobreak.Not())
        for s, st in starts.items():
            lits = [nobreak.Not()] + ([st.Not()] if not isinstance(st, int) else [])
            if s + n > S:
                cp.add_bool_or(lits)
                continue
            # ... and idle after its last slot (the after-chain then clears every later slot).
            end_after = model.after[p][s + n - 1]
            if isinstance(end_after, int):
                if end_after:
                    cp.add_bool_or(lits)
                    continue
            else:
                cp.add_bool_or([*lits, end_after.Not()])
            for k in range(1, n):
                b = busy[s + k]
                if isinstance(b, int):
                    if not b:
                        cp.add_bool_or(lits)
                        break
                    continue
                cp.add_bool_or([*lits, b])


def _add_windows(model: Model, p: str, mine: list[int], nobreak: Any) -> None:
    """Without a break, p is busy in exactly one window of n slots that can hold its meetings:
    one literal per such window, linked to the meeting literals by one linear row per slot, so
    a meeting fixed anywhere at once rules out every window that misses it (and vice versa)."""
    from scheduler.zero import window_starts  # zero builds on this module

    cp, S, n = model.cp, model.problem.slots, len(mine)
    if any(not model.domains[i] for i in mine):
        return
    fs = window_starts(model.problem, model.domains, mine)
    if not fs:
        cp.add(nobreak == 0)
        return
    w = {f: cp.new_bool_var(f"win{p}_{f}") for f in fs}
    cp.add(sum(w.values()) == nobreak)
    for s in range(S):
        here = [model.x[i][s] for i in mine if s in model.x[i]]
        cover = [v for f, v in w.items() if f <= s < f + n]
        if not here:
            for v in cover:
                cp.add(v == 0)
            continue
        cp.add(sum(here) >= sum(cover))
        cp.add(sum(here) <= sum(cover) + 1 - nobreak)


def _slot(model: Model, i: int) -> Any:
    return sum(s * v for s, v in model.x[i].items())


def add_symmetry_breaking(model: Model) -> None:
    """Every meeting placed: order interchangeable participants and, in a mirror-symmetric day,
    the two directions of time; each schedule keeps one representative of its orbit.

    Participants are interchangeable when their meetings match one to one in partner, session,
    fixed slot and weight, they have the same unavailable slots, and no precedence names their
    meetings: swapping two of them maps every schedule to one with the same breaks. Each such
    pair meets a common partner in two distinct slots, and those slots are put in order.
    """
    problem, cp = model.problem, model.cp
    ordered = {m.id for m in problem.meetings for _ in m.after} | {
        o for m in problem.meetings for o in m.after
    }
    unavailable = {p.id: p.unavailable for p in problem.participants}
    groups: dict[tuple[Any, ...], list[str]] = {}
    mine = meetings_of(problem)
    for p, ms in mine.items():
        if not ms or any(problem.meetings[i].id in ordered for i in ms):
            continue
        sig = []
        for i in ms:
            m = problem.meetings[i]
            sig.append((m.b if m.a == p else m.a, m.session, m.fixed_slot, m.weight))
        groups.setdefault((tuple(sorted(sig, key=repr)), unavailable[p]), []).append(p)
    twins = [members for members in groups.values() if len(members) > 1]
    grouped = {p for members in twins for p in members}
    for members in twins:
        # The common partner must stay put when other groups are put in order.
        partners = [
            m.b if m.a == members[0] else m.a for m in (problem.meetings[i] for i in mine[members[0]])
        ]
        q = next((q for q in partners if partners.count(q) == 1 and q not in grouped), None)
        if q is None:
            continue
        meet = [
            next(i for i in mine[p] if q in (problem.meetings[i].a, problem.meetings[i].b)) for p in members
        ]
        for i, j in pairwise(meet):
            cp.add(_slot(model, i) < _slot(model, j))
    # Time reversed: s -> S-1-s maps schedules to schedules with the same breaks when nothing
    # tells the two directions apart; the meeting that picks the direction moves with no swap.
    S = problem.slots
    if (
        not ordered
        and all(not p.unavailable for p in problem.participants)
        and all(m.fixed_slot is None and m.session is None for m in problem.meetings)
    ):
        free = [i for i, m in enumerate(problem.meetings) if m.a not in grouped and m.b not in grouped]
        if free:
            cp.add(_slot(model, free[0]) <= (S - 1) // 2)


def add_break_count_bound(model: Model) -> None:
    """Implied: every participant holding a break adds at least one to the total."""
    if model.nobreak:
        model.cp.add(sum(1 - v for v in model.nobreak.values()) <= model.total_breaks)


def add_lower_bounds(model: Model, lower: Mapping[str, int]) -> None:
    """Add per-participant break lower bounds (valid for any schedule placing every meeting)."""
    for p, lb in lower.items():
        if lb > 0:
            model.cp.add(model.breaks[p] >= lb)


def add_hint(model: Model, assignments: Mapping[str, int], cp: cp_model.CpModel | None = None) -> None:
    """Hint the solver (the model's, or a clone `cp` of it) with a known schedule."""
    target = cp if cp is not None else model.cp
    target.clear_hints()
    for m, xi in zip(model.problem.meetings, model.x, strict=True):
        slot = assignments.get(m.id)
        if slot is None:
            continue  # leave it to the solver: a partial hint still guides the search
        for s, v in xi.items():
            target.add_hint(v, s == slot)


def read_assignments(model: Model, solver: Any) -> dict[str, int]:
    """Extract meeting id -> slot from a solver or solution callback holding a solution."""
    out: dict[str, int] = {}
    for m, xi in zip(model.problem.meetings, model.x, strict=True):
        for s, v in xi.items():
            if solver.boolean_value(v):
                out[m.id] = s
                break
    return out
