"""Core types of the scheduling problem: participants, meetings, rules, solutions."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from itertools import pairwise


@dataclass(frozen=True)
class Participant:
    """A person or organisation that holds meetings; never busy in an `unavailable` slot."""

    id: str
    unavailable: frozenset[int] = frozenset()


@dataclass(frozen=True)
class Meeting:
    """A one-to-one meeting between participants `a` and `b`."""

    id: str
    a: str
    b: str
    session: int | None = None
    fixed_slot: int | None = None
    after: tuple[str, ...] = ()
    weight: int = 1


@dataclass(frozen=True)
class Rules:
    """Global rules: place every meeting or fail; fairness bound on breaks."""

    schedule_all: bool = False
    break_spread: int | None = None


@dataclass(frozen=True)
class Problem:
    """Slots `0..slots-1`, participants, meetings, inclusive session ranges and a per-slot capacity."""

    slots: int
    participants: tuple[Participant, ...]
    meetings: tuple[Meeting, ...]
    sessions: tuple[tuple[int, int], ...] = ()
    capacity: int | None = None
    rules: Rules = Rules()
    name: str = ""

    def participant(self, pid: str) -> Participant:
        """Return the participant with id `pid`."""
        for p in self.participants:
            if p.id == pid:
                return p
        raise KeyError(pid)

    def allowed_slots(self, meeting: Meeting) -> list[int]:
        """Slots where `meeting` may take place, ignoring precedences and capacity."""
        unavailable = {p.id: p.unavailable for p in self.participants}
        if meeting.fixed_slot is not None:
            candidates: Iterable[int] = [meeting.fixed_slot]
        elif meeting.session is not None:
            first, last = self.sessions[meeting.session]
            candidates = range(first, last + 1)
        else:
            candidates = range(self.slots)
        busy = unavailable.get(meeting.a, frozenset()) | unavailable.get(meeting.b, frozenset())
        out = [s for s in candidates if s not in busy and 0 <= s < self.slots]
        if meeting.fixed_slot is not None and meeting.session is not None:
            first, last = self.sessions[meeting.session]
            out = [s for s in out if first <= s <= last]
        return out


@dataclass(frozen=True)
class Unscheduled:
    """A meeting left out of the schedule and the human reason why."""

    meeting: str
    reason: str


@dataclass
class Solution:
    """Result of a solve; `status` is "optimal" | "feasible" | "infeasible" | "unknown"."""

    status: str
    scheduled: int
    weight: int
    breaks: int
    breaks_lower_bound: int | None
    seconds: float
    assignments: dict[str, int]
    unscheduled: list[Unscheduled] = field(default_factory=list)


class ProblemError(ValueError):
    """Malformed problem: message names the problem in one line."""


def validate(problem: Problem) -> None:
    """Raise ProblemError for the first structural mistake found in `problem`."""
    if problem.slots < 1:
        raise ProblemError(f"slots must be at least 1, got {problem.slots}")
    if problem.capacity is not None and problem.capacity < 0:
        raise ProblemError(f"capacity must be >= 0 or null, got {problem.capacity}")
    for i, (first, last) in enumerate(problem.sessions):
        if not (0 <= first <= last < problem.slots):
            raise ProblemError(f"session {i} [{first}, {last}] is outside slots 0..{problem.slots - 1}")
    pids: set[str] = set()
    for p in problem.participants:
        if p.id in pids:
            raise ProblemError(f"duplicate participant id {p.id!r}")
        pids.add(p.id)
        for s in p.unavailable:
            if not 0 <= s < problem.slots:
                raise ProblemError(
                    f"participant {p.id!r} unavailable slot {s} out of range 0..{problem.slots - 1}"
                )
    mids: set[str] = set()
    for m in problem.meetings:
        if m.id in mids:
            raise ProblemError(f"duplicate meeting id {m.id!r}")
        mids.add(m.id)
    for m in problem.meetings:
        for who in (m.a, m.b):
            if who not in pids:
                raise ProblemError(f"meeting {m.id!r} names unknown participant {who!r}")
        if m.a == m.b:
            raise ProblemError(f"meeting {m.id!r} is a meeting of participant {m.a!r} with itself")
        if m.fixed_slot is not None and not 0 <= m.fixed_slot < problem.slots:
            raise ProblemError(
                f"meeting {m.id!r} fixed slot {m.fixed_slot} out of range 0..{problem.slots - 1}"
            )
        if m.session is not None and not 0 <= m.session < len(problem.sessions):
            raise ProblemError(
                f"meeting {m.id!r} session {m.session} is not an index into {len(problem.sessions)} sessions"
            )
        if m.weight < 1:
            raise ProblemError(f"meeting {m.id!r} weight {m.weight} must be >= 1")
        for other in m.after:
            if other not in mids:
                raise ProblemError(f"meeting {m.id!r} comes after unknown meeting {other!r}")
            if other == m.id:
                raise ProblemError(f"meeting {m.id!r} comes after itself (precedence cycle)")
    cycle = _find_cycle({m.id: m.after for m in problem.meetings})
    if cycle:
        raise ProblemError("precedence cycle: " + " -> ".join(cycle))


def _find_cycle(after: Mapping[str, tuple[str, ...]]) -> list[str] | None:
    """Return one precedence cycle as a list of meeting ids, or None (iterative DFS)."""
    colour: dict[str, int] = {}
    for root in after:
        if colour.get(root):
            continue
        stack: list[tuple[str, int]] = [(root, 0)]
        path: list[str] = []
        while stack:
            node, i = stack.pop()
            if i == 0:
                colour[node] = 1
                path.append(node)
            deps = after.get(node, ())
            if i < len(deps):
                stack.append((node, i + 1))
                nxt = deps[i]
                state = colour.get(nxt, 0)
                if state == 1:
                    return [*path[path.index(nxt) :], nxt]
                if state == 0:
                    stack.append((nxt, 0))
            else:
                colour[node] = 2
                path.pop()
    return None


def count_breaks(slots_of_participant: Iterable[int]) -> int:
    """Count maximal idle runs strictly between the first and last busy slot."""
    busy = sorted(set(slots_of_participant))
    return sum(1 for x, y in pairwise(busy) if y - x > 1)


def breaks_by_participant(problem: Problem, assignments: Mapping[str, int]) -> dict[str, int]:
    """Breaks of every participant under `assignments` (meeting id -> slot)."""
    slots: dict[str, list[int]] = {p.id: [] for p in problem.participants}
    for m in problem.meetings:
        s = assignments.get(m.id)
        if s is not None:
            slots[m.a].append(s)
            slots[m.b].append(s)
    return {pid: count_breaks(ss) for pid, ss in slots.items()}


def check_solution(problem: Problem, assignments: Mapping[str, int]) -> list[str]:
    """Return every hard-rule violation of `assignments` (empty when it is valid)."""
    errors: list[str] = []
    unavailable = {p.id: p.unavailable for p in problem.participants}
    seen: dict[tuple[str, int], str] = {}
    per_slot: dict[int, int] = {}
    for m in problem.meetings:
        s = assignments.get(m.id)
        if s is None:
            continue
        if not 0 <= s < problem.slots:
            errors.append(f"meeting {m.id} in slot {s} out of range")
        if m.fixed_slot is not None and s != m.fixed_slot:
            errors.append(f"meeting {m.id} not in its fixed slot {m.fixed_slot}")
        if m.session is not None:
            first, last = problem.sessions[m.session]
            if not first <= s <= last:
                errors.append(f"meeting {m.id} outside session {m.session}")
        for who in (m.a, m.b):
            if s in unavailable[who]:
                errors.append(f"meeting {m.id} in slot {s} where {who} is unavailable")
            if (who, s) in seen:
                errors.append(f"{who} has meetings {seen[who, s]} and {m.id} in slot {s}")
            seen[who, s] = m.id
        per_slot[s] = per_slot.get(s, 0) + 1
        for other in m.after:
            t = assignments.get(other)
            if t is None:
                errors.append(f"meeting {m.id} placed but {other} it comes after is not")
            elif t >= s:
                errors.append(f"meeting {m.id} in slot {s} not after {other} in slot {t}")
    if problem.capacity is not None:
        errors += [
            f"slot {s} holds {n} > {problem.capacity}" for s, n in per_slot.items() if n > problem.capacity
        ]
    if problem.rules.schedule_all:
        errors += [f"meeting {m.id} not placed" for m in problem.meetings if m.id not in assignments]
    if problem.rules.break_spread is not None and problem.participants:
        counts = breaks_by_participant(problem, assignments).values()
        if max(counts) - min(counts) > problem.rules.break_spread:
            errors.append(f"break spread {max(counts) - min(counts)} > {problem.rules.break_spread}")
    return errors
