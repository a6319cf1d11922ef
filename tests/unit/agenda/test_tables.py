from __future__ import annotations

import scheduler
from clockevents.agenda.problem import Built
from clockevents.agenda.publish import table_numbers


def _built(meetings: list[tuple[str, str, str]], capacity: int | None = 3) -> Built:
    people = sorted({p for _, a, b in meetings for p in (a, b)})
    return Built(
        problem=scheduler.Problem(
            slots=3,
            participants=tuple(scheduler.Participant(p) for p in people),
            meetings=tuple(scheduler.Meeting(m, a, b) for m, a, b in meetings),
            capacity=capacity,
        ),
        slot_ids=[100, 101, 102],
    )


def test_table_numbers_busy_participant_keeps_their_table() -> None:
    built = _built([("r1", "p1", "p2"), ("r2", "p3", "p4"), ("r3", "p3", "p5"), ("r4", "p1", "p6")])
    assignments = {"r1": 100, "r2": 100, "r3": 101, "r4": 101}

    tables = table_numbers(built, assignments, keep={})

    assert sorted(tables[m] for m in ("r1", "r2")) == [1, 2]
    assert tables["r3"] == tables["r2"]
    assert tables["r4"] == tables["r1"]


def test_table_numbers_kept_table_wins_and_others_tables_are_avoided() -> None:
    built = _built([("m1", "p1", "p2"), ("r2", "p3", "p4"), ("r3", "p5", "p6")])
    assignments = {"m1": 100, "r2": 100, "r3": 100}

    tables = table_numbers(built, assignments, keep={"m1": 3}, taken={100: {1}})

    assert tables == {"m1": 3, "r2": 2, "r3": 4}


def test_table_numbers_without_capacity_numbers_from_one() -> None:
    built = _built([("r1", "p1", "p2"), ("r2", "p3", "p4")], capacity=None)

    tables = table_numbers(built, {"r1": 102, "r2": 102}, keep={})

    assert sorted(tables.values()) == [1, 2]
