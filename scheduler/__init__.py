"""Pure meeting-scheduling optimisation: a `Problem` in, a `Solution` out (OR-Tools CP-SAT)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from scheduler.io import dump_problem, dump_solution, load_problem, load_solution
from scheduler.problem import (
    Meeting,
    Participant,
    Problem,
    ProblemError,
    Rules,
    Solution,
    Unscheduled,
    breaks_by_participant,
    check_solution,
    count_breaks,
    validate,
)

# Above this many meetings the dedicated large-instance strategy (scheduler.large) takes over.
LARGE_MEETINGS = 1500


def solve(
    problem: Problem,
    time_limit: float = 60.0,
    workers: int = 2,
    progress: Callable[[dict[str, Any]], None] | None = None,
    stop: threading.Event | None = None,
) -> Solution:
    """Schedule `problem` within `time_limit` seconds on `workers` threads.

    `progress` receives {"seconds", "weight", "breaks", "bound"} for each improving solution;
    setting `stop` from another thread ends the search and returns the best schedule so far.
    Raises ProblemError for a malformed problem.
    """
    validate(problem)
    if len(problem.meetings) > LARGE_MEETINGS:
        try:
            from scheduler.large import solve_large
        except ImportError:
            pass
        else:
            return solve_large(problem, time_limit=time_limit, workers=workers, progress=progress, stop=stop)
    from scheduler.search import solve_model

    return solve_model(problem, time_limit=time_limit, workers=workers, progress=progress, stop=stop)


__all__ = [
    "LARGE_MEETINGS",
    "Meeting",
    "Participant",
    "Problem",
    "ProblemError",
    "Rules",
    "Solution",
    "Unscheduled",
    "breaks_by_participant",
    "check_solution",
    "count_breaks",
    "dump_problem",
    "dump_solution",
    "load_problem",
    "load_solution",
    "solve",
    "validate",
]
