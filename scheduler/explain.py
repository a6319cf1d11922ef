"""Human reasons for meetings left out of a schedule, computed cheaply from the problem alone."""

from __future__ import annotations

from collections.abc import Sequence

from scheduler.model import meetings_of
from scheduler.problem import Meeting, Problem


def _free_slots(problem: Problem, pid: str) -> int:
    return problem.slots - len(problem.participant(pid).unavailable)


def _no_slot_reason(problem: Problem, m: Meeting) -> str:
    """Why a meeting has an empty domain: fixed slot, session, availability or precedence."""
    allowed = problem.allowed_slots(m)
    unavailable = {p.id: p.unavailable for p in problem.participants}
    if m.fixed_slot is not None and not allowed:
        who = [p for p in (m.a, m.b) if m.fixed_slot in unavailable[p]]
        if who:
            return f"fixed to slot {m.fixed_slot} where participant {who[0]} is unavailable"
        return f"fixed to slot {m.fixed_slot} outside its session {m.session}"
    if not allowed:
        where = f" in session {m.session}" if m.session is not None else ""
        return f"participants {m.a} and {m.b} share no free slot{where}"
    if m.after:
        return "no free slot after the meetings it must follow (" + ", ".join(m.after) + ")"
    return "no free slot before the meetings that must follow it"


def explain_unplaced(
    problem: Problem, domains: Sequence[Sequence[int]], unplaced: Sequence[Meeting], infeasible: bool = False
) -> dict[str, str]:
    """Return meeting id -> one-line reason for every meeting in `unplaced`."""
    by_id = {m.id: i for i, m in enumerate(problem.meetings)}
    unplaced_ids = {m.id for m in unplaced}
    mine = meetings_of(problem)
    # A participant asked for more meetings than it has free slots: some must go.
    overloaded: dict[str, str] = {}
    for pid, idx in mine.items():
        free = len({s for i in idx for s in domains[i]})
        if len(idx) > free:
            overloaded[pid] = f"{pid} has {len(idx)} accepted meetings for {free} free slots"
    capacity_short = (
        problem.capacity is not None and sum(1 for d in domains if d) > problem.capacity * problem.slots
    )
    out: dict[str, str] = {}
    for m in unplaced:
        if not problem.allowed_slots(m) or (
            not domains[by_id[m.id]] and not any(o in unplaced_ids for o in m.after)
        ):
            out[m.id] = _no_slot_reason(problem, m)
        elif missing := [o for o in m.after if o in unplaced_ids]:
            out[m.id] = "comes after meeting " + ", ".join(missing) + ", which is not placed"
        elif m.a in overloaded or m.b in overloaded:
            out[m.id] = overloaded[m.a if m.a in overloaded else m.b]
        elif capacity_short:
            out[m.id] = (
                f"{problem.slots} slots of {problem.capacity} tables hold fewer meetings than were accepted"
            )
        elif infeasible:
            out[m.id] = "no schedule places every meeting under the hard rules"
        else:
            out[m.id] = f"no slot left free for both {m.a} and {m.b} once higher-weight meetings were placed"
    return out
