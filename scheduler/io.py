"""Read and write the `clockevents-problem/1` and `clockevents-solution/1` JSON formats."""

from __future__ import annotations

import json
from os import PathLike
from pathlib import Path
from typing import Any

from scheduler.problem import (
    Meeting,
    Participant,
    Problem,
    ProblemError,
    Rules,
    Solution,
    Unscheduled,
    validate,
)

PROBLEM_FORMAT = "clockevents-problem/1"
SOLUTION_FORMAT = "clockevents-solution/1"

Source = str | bytes | PathLike[str]


def _read(source: Source, what: str) -> Any:
    """Parse JSON from a path or from JSON text; every failure becomes one ProblemError line."""
    if isinstance(source, bytes):
        text = source.decode("utf-8", errors="replace")
        origin = "input"
    elif isinstance(source, str) and source.lstrip().startswith(("{", "[")):
        text, origin = source, "input"
    else:
        path = Path(source)
        origin = str(path)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise ProblemError(f"{what} file not found: {path}") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ProblemError(f"cannot read {what} file {path}: {exc}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ProblemError(
            f"{origin} is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from None


def _field(obj: Any, key: str, kind: type | tuple[type, ...], where: str, default: Any = ...) -> Any:
    """Return obj[key] checked against `kind` (bool is never accepted as an int)."""
    if not isinstance(obj, dict):
        raise ProblemError(f"{where} must be a JSON object")
    if key not in obj or (obj[key] is None and default is not ...):
        if default is ...:
            raise ProblemError(f"{where} lacks field {key!r}")
        return default
    value = obj[key]
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if isinstance(value, bool) and bool not in kinds:
        raise ProblemError(f"{where} field {key!r} has the wrong type")
    if not isinstance(value, kinds):
        raise ProblemError(f"{where} field {key!r} has the wrong type")
    return value


def _int_list(values: Any, where: str) -> list[int]:
    if not isinstance(values, list) or not all(
        isinstance(v, int) and not isinstance(v, bool) for v in values
    ):
        raise ProblemError(f"{where} must be a list of integers")
    return values


def _ident(value: Any, where: str) -> str:
    # Ids are strings in the format; integers are tolerated because hand-written files use them.
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise ProblemError(f"{where} must be a string id")


def problem_from_dict(data: Any) -> Problem:
    """Build and validate a Problem from parsed `clockevents-problem/1` JSON."""
    if not isinstance(data, dict):
        raise ProblemError("problem must be a JSON object")
    fmt = data.get("format")
    if fmt != PROBLEM_FORMAT:
        raise ProblemError(f"unsupported format {fmt!r}, expected {PROBLEM_FORMAT!r}")
    slots = _field(data, "slots", int, "problem")
    sessions = []
    for i, rng in enumerate(_field(data, "sessions", list, "problem", [])):
        pair = _int_list(rng, f"session {i}")
        if len(pair) != 2:
            raise ProblemError(f"session {i} must be [first, last]")
        sessions.append((pair[0], pair[1]))
    participants = []
    for i, p in enumerate(_field(data, "participants", list, "problem")):
        where = f"participant #{i}"
        pid = _ident(_field(p, "id", (str, int), where), f"{where} id")
        unavailable = _int_list(
            _field(p, "unavailable", list, f"participant {pid!r}", []), f"participant {pid!r} unavailable"
        )
        participants.append(Participant(pid, frozenset(unavailable)))
    meetings = []
    for i, m in enumerate(_field(data, "meetings", list, "problem")):
        mid = _ident(_field(m, "id", (str, int), f"meeting #{i}"), f"meeting #{i} id")
        where = f"meeting {mid!r}"
        after = _field(m, "after", list, where, [])
        meetings.append(
            Meeting(
                id=mid,
                a=_ident(_field(m, "a", (str, int), where), f"{where} a"),
                b=_ident(_field(m, "b", (str, int), where), f"{where} b"),
                session=_field(m, "session", int, where, None),
                fixed_slot=_field(m, "fixed_slot", int, where, None),
                after=tuple(_ident(x, f"{where} after") for x in after),
                weight=_field(m, "weight", int, where, 1),
            )
        )
    rules_data = _field(data, "rules", dict, "problem", {})
    rules = Rules(
        schedule_all=_field(rules_data, "schedule_all", bool, "rules", False),
        break_spread=_field(rules_data, "break_spread", int, "rules", None),
    )
    problem = Problem(
        slots=slots,
        participants=tuple(participants),
        meetings=tuple(meetings),
        sessions=tuple(sessions),
        capacity=_field(data, "capacity", int, "problem", None),
        rules=rules,
        name=_field(data, "name", str, "problem", ""),
    )
    validate(problem)
    return problem


def problem_to_dict(problem: Problem) -> dict[str, Any]:
    """Return the `clockevents-problem/1` JSON object of `problem`."""
    return {
        "format": PROBLEM_FORMAT,
        "name": problem.name,
        "slots": problem.slots,
        "sessions": [[a, b] for a, b in problem.sessions],
        "capacity": problem.capacity,
        "participants": [{"id": p.id, "unavailable": sorted(p.unavailable)} for p in problem.participants],
        "meetings": [
            {
                "id": m.id,
                "a": m.a,
                "b": m.b,
                "session": m.session,
                "fixed_slot": m.fixed_slot,
                "after": list(m.after),
                "weight": m.weight,
            }
            for m in problem.meetings
        ],
        "rules": {"schedule_all": problem.rules.schedule_all, "break_spread": problem.rules.break_spread},
    }


def load_problem(path_or_text: Source) -> Problem:
    """Load a problem from a file path or JSON text; raise ProblemError if it is malformed."""
    return problem_from_dict(_read(path_or_text, "problem"))


def dump_problem(problem: Problem, path: str | PathLike[str] | None = None) -> str:
    """Return the problem as JSON text, and write it to `path` when given."""
    text = json.dumps(problem_to_dict(problem), indent=1) + "\n"
    if path is not None:
        Path(path).write_text(text, encoding="utf-8")
    return text


def solution_to_dict(solution: Solution) -> dict[str, Any]:
    """Return the `clockevents-solution/1` JSON object of `solution`."""
    return {
        "format": SOLUTION_FORMAT,
        "status": solution.status,
        "scheduled": solution.scheduled,
        "weight": solution.weight,
        "breaks": solution.breaks,
        "breaks_lower_bound": solution.breaks_lower_bound,
        "seconds": round(solution.seconds, 3),
        "assignments": [{"meeting": m, "slot": s} for m, s in solution.assignments.items()],
        "unscheduled": [{"meeting": u.meeting, "reason": u.reason} for u in solution.unscheduled],
    }


def solution_from_dict(data: Any) -> Solution:
    """Build a Solution from parsed `clockevents-solution/1` JSON."""
    if not isinstance(data, dict):
        raise ProblemError("solution must be a JSON object")
    fmt = data.get("format")
    if fmt != SOLUTION_FORMAT:
        raise ProblemError(f"unsupported format {fmt!r}, expected {SOLUTION_FORMAT!r}")
    assignments = {}
    for a in _field(data, "assignments", list, "solution"):
        assignments[_ident(_field(a, "meeting", (str, int), "assignment"), "assignment meeting")] = _field(
            a, "slot", int, "assignment"
        )
    unscheduled = [
        Unscheduled(
            _ident(_field(u, "meeting", (str, int), "unscheduled"), "unscheduled meeting"),
            _field(u, "reason", str, "unscheduled"),
        )
        for u in _field(data, "unscheduled", list, "solution", [])
    ]
    return Solution(
        status=_field(data, "status", str, "solution"),
        scheduled=_field(data, "scheduled", int, "solution"),
        weight=_field(data, "weight", int, "solution"),
        breaks=_field(data, "breaks", int, "solution"),
        breaks_lower_bound=_field(data, "breaks_lower_bound", int, "solution", None),
        seconds=float(_field(data, "seconds", (int, float), "solution")),
        assignments=assignments,
        unscheduled=unscheduled,
    )


def load_solution(path_or_text: Source) -> Solution:
    """Load a solution from a file path or JSON text."""
    return solution_from_dict(_read(path_or_text, "solution"))


def dump_solution(solution: Solution, path: str | PathLike[str] | None = None) -> str:
    """Return the solution as JSON text, and write it to `path` when given."""
    text = json.dumps(solution_to_dict(solution), indent=1) + "\n"
    if path is not None:
        Path(path).write_text(text, encoding="utf-8")
    return text
