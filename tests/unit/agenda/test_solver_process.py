from __future__ import annotations

import threading
from typing import Any

import scheduler
from clockevents.agenda.solver_process import solve_in_process


def _problem() -> scheduler.Problem:
    people = tuple(scheduler.Participant(str(i)) for i in range(4))
    meetings = (
        scheduler.Meeting("m1", "0", "1"),
        scheduler.Meeting("m2", "0", "2"),
        scheduler.Meeting("m3", "1", "2"),
        scheduler.Meeting("m4", "2", "3", weight=2),
    )
    return scheduler.Problem(slots=4, participants=people, meetings=meetings)


def test_solve_in_process_returns_the_childs_solution_and_progress() -> None:
    seen: list[dict[str, Any]] = []
    solution = solve_in_process(
        _problem(), time_limit=10, workers=1, progress=seen.append, stop=threading.Event()
    )
    assert (solution.status, solution.scheduled, solution.weight, solution.breaks) == ("optimal", 4, 5, 0)
    # Participant 2 has three meetings: they must sit in three different slots.
    assert len({solution.assignments[m] for m in ("m2", "m3", "m4")}) == 3
    assert seen and all("weight" in event for event in seen)


def test_solve_in_process_malformed_problem_raises_in_parent() -> None:
    bad = scheduler.Problem(
        slots=2, participants=(scheduler.Participant("a"),), meetings=(scheduler.Meeting("m", "a", "zz"),)
    )
    try:
        solve_in_process(bad, time_limit=5, workers=1, progress=lambda e: None, stop=threading.Event())
    except RuntimeError as exc:
        assert str(exc).startswith("ProblemError: ")
    else:
        raise AssertionError("a malformed problem must fail the run")
