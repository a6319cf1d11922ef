"""The figures an organiser judges a draft agenda by, for the run row, the pages and the CLI."""

from __future__ import annotations

import statistics as stats
from typing import Any

import scheduler
from clockevents.agenda.problem import Built


def compute_statistics(built: Built, solution: scheduler.Solution) -> dict[str, Any]:
    """The figures the organiser judges a draft by, with names instead of ids."""
    problem = built.problem
    counts: dict[str, int] = {}
    for meeting in problem.meetings:
        counts.setdefault(meeting.a, 0)
        counts.setdefault(meeting.b, 0)
        if meeting.id in solution.assignments:
            counts[meeting.a] += 1
            counts[meeting.b] += 1
    reasons = {u.meeting: u.reason for u in solution.unscheduled}
    unplaced = []
    for meeting in problem.meetings:
        if meeting.id in solution.assignments:
            continue
        a, b = built.pairs[meeting.id]
        unplaced.append(
            {
                "meeting": meeting.id,
                "a": built.person(a).label,
                "b": built.person(b).label,
                "weight": meeting.weight,
                "reason": built.humanise(reasons.get(meeting.id, "not placed")),
            }
        )
    per = sorted(counts.values())
    return {
        "solver_status": solution.status,
        "seconds": round(solution.seconds, 2),
        "requested_meetings": len(problem.meetings),
        "placed_meetings": len(solution.assignments),
        "requested_weight": sum(m.weight for m in problem.meetings),
        "placed_weight": solution.weight,
        "fixed_meetings": sum(1 for m in problem.meetings if m.fixed_slot is not None),
        "breaks": solution.breaks,
        # Among participants with at least one accepted meeting: the others hold none by choice.
        "meetings_per_participant": {
            "min": per[0] if per else 0,
            "median": stats.median(per) if per else 0,
            "max": per[-1] if per else 0,
        },
        "unplaced": unplaced,
    }


def describe(figures: dict[str, Any]) -> str:
    """The statistics as a few lines of plain text (the CLI prints them)."""
    per = figures.get("meetings_per_participant") or {}
    lines = [
        f"placed {figures.get('placed_meetings', 0)} of {figures.get('requested_meetings', 0)} meetings"
        f" (weight {figures.get('placed_weight', 0)} of {figures.get('requested_weight', 0)}),"
        f" {figures.get('breaks', 0)} breaks",
        f"meetings per participant: min {per.get('min', 0)}, median {per.get('median', 0)},"
        f" max {per.get('max', 0)}",
        f"solver: {figures.get('solver_status', '?')} in {figures.get('seconds', 0)} s",
    ]
    unplaced = figures.get("unplaced") or []
    if unplaced:
        lines.append(f"not placed ({len(unplaced)}):")
        lines += [f"  - {u['a']} & {u['b']}: {u['reason']}" for u in unplaced]
    return "\n".join(lines)
