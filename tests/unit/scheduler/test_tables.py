"""Table assignment: one meeting per table and slot, participants keep their table."""

from __future__ import annotations

import random

import pytest

from scheduler.greedy import solve_greedy
from scheduler.problem import Meeting, Participant, Problem
from scheduler.tables import assign_tables, naive_tables, table_changes


def make(meetings: list[tuple[str, str, str]]) -> Problem:
    """Meetings given as (id, a, b) on a 10-slot day."""
    people = sorted({p for _, a, b in meetings for p in (a, b)})
    return Problem(10, tuple(Participant(p) for p in people), tuple(Meeting(i, a, b) for i, a, b in meetings))


def clashes(assignments: dict[str, int], tables_of: dict[str, int]) -> list[tuple[int, int]]:
    """(slot, table) pairs holding more than one meeting."""
    seen: dict[tuple[int, int], int] = {}
    for mid, s in assignments.items():
        key = (s, tables_of[mid])
        seen[key] = seen.get(key, 0) + 1
    return sorted(k for k, n in seen.items() if n > 1)


def test_assign_tables_host_keeps_table_and_guests_come() -> None:
    problem = make([("h1", "host", "a"), ("h2", "host", "b"), ("h3", "host", "c")])
    assignments = {"h1": 0, "h2": 1, "h3": 2}
    tables_of = assign_tables(problem, assignments, 2)
    assert len(set(tables_of.values())) == 1
    assert table_changes(problem, assignments, tables_of) == 0


def test_assign_tables_newcomers_avoid_an_idle_regulars_table() -> None:
    # x sits at a table in slot 0, is idle in slot 1 and back in slot 2; y-z arrive in slot 1.
    problem = make([("x0", "x", "p"), ("yz", "y", "z"), ("x2", "x", "p")])
    assignments = {"x0": 0, "yz": 1, "x2": 2}
    tables_of = assign_tables(problem, assignments, 2)
    assert tables_of["yz"] != tables_of["x0"]
    assert tables_of["x2"] == tables_of["x0"]
    assert table_changes(problem, assignments, tables_of) == 0


def test_assign_tables_too_many_meetings_in_a_slot_raises() -> None:
    problem = make([("m1", "a", "b"), ("m2", "c", "d"), ("m3", "e", "f")])
    with pytest.raises(ValueError, match="slot 4 holds 3 meetings but there are only 2 tables"):
        assign_tables(problem, {"m1": 4, "m2": 4, "m3": 4}, 2)


def test_table_changes_counts_moves_between_consecutive_meetings() -> None:
    problem = make([("m1", "a", "b"), ("m2", "a", "c"), ("m3", "a", "b")])
    assignments = {"m1": 0, "m2": 1, "m3": 5}
    # a: 0 -> 1 -> 0 is two changes; b: 0 -> 0 none; c has one meeting.
    assert table_changes(problem, assignments, {"m1": 0, "m2": 1, "m3": 0}) == 2


def test_assign_tables_random_events_valid_and_better_than_naive() -> None:
    rng = random.Random(3)
    people = [f"p{i}" for i in range(40)]
    meetings = []
    for i in range(150):
        a, b = rng.sample(people, 2)
        meetings.append((f"m{i}", a, b))
    problem = make(meetings)
    assignments = solve_greedy(problem).assignments
    tables = max(list(assignments.values()).count(s) for s in set(assignments.values()))
    tables_of = assign_tables(problem, assignments, tables)
    assert tables_of.keys() == assignments.keys()
    assert all(0 <= t < tables for t in tables_of.values())
    assert clashes(assignments, tables_of) == []
    naive = naive_tables(problem, assignments)
    assert clashes(assignments, naive) == []
    assert table_changes(problem, assignments, tables_of) < table_changes(problem, assignments, naive)
