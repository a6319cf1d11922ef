"""Pure meeting-scheduling optimisation: a `Problem` in, a `Solution` out (OR-Tools CP-SAT)."""

from __future__ import annotations

from scheduler.problem import (
    Meeting,
    Participant,
    Problem,
    ProblemError,
    Rules,
    Solution,
    Unscheduled,
    breaks_by_participant,
    count_breaks,
    validate,
)

__all__ = [
    "Meeting",
    "Participant",
    "Problem",
    "ProblemError",
    "Rules",
    "Solution",
    "Unscheduled",
    "breaks_by_participant",
    "count_breaks",
    "validate",
]
