from __future__ import annotations

from datetime import UTC, date, datetime, time
from itertools import pairwise

from clockevents.events.grid import SessionSpec, compute_slots, validate_sessions

ROME = "Europe/Rome"


def _validate(rows: list[dict[str, str]], meeting: int = 20) -> tuple[list[SessionSpec], dict[str, str]]:
    pairs, errors = validate_sessions(
        rows, starts_on=date(2026, 10, 24), ends_on=date(2026, 10, 26), timezone=ROME, meeting_minutes=meeting
    )
    return [spec for _, spec in pairs], errors


def test_compute_slots_fill_sessions_in_time_order_across_days() -> None:
    specs = [
        SessionSpec(date(2026, 10, 26), time(9, 0), time(10, 0)),
        SessionSpec(date(2026, 10, 24), time(14, 0), time(14, 45)),
        SessionSpec(date(2026, 10, 24), time(9, 0), time(9, 50)),
    ]
    slots = compute_slots(specs, timezone=ROME, meeting_minutes=20, gap_minutes=5)
    assert [(s.index, s.session, s.starts_at) for s in slots] == [
        (0, 2, datetime(2026, 10, 24, 7, 0, tzinfo=UTC)),
        (1, 2, datetime(2026, 10, 24, 7, 25, tzinfo=UTC)),
        (2, 1, datetime(2026, 10, 24, 12, 0, tzinfo=UTC)),
        (3, 1, datetime(2026, 10, 24, 12, 25, tzinfo=UTC)),
        # After the clocks go back on Sunday 25 October, 09:00 in Rome is 08:00 UTC.
        (4, 0, datetime(2026, 10, 26, 8, 0, tzinfo=UTC)),
        (5, 0, datetime(2026, 10, 26, 8, 25, tzinfo=UTC)),
    ]
    assert all((s.ends_at - s.starts_at).total_seconds() == 20 * 60 for s in slots)


def test_compute_slots_session_across_dst_change_lasts_real_hours() -> None:
    # 01:00 CEST (23:00 UTC the day before) to 04:00 CET (03:00 UTC) is four real hours.
    spec = SessionSpec(date(2026, 10, 25), time(1, 0), time(4, 0))
    slots = compute_slots([spec], timezone=ROME, meeting_minutes=20, gap_minutes=5)
    assert len(slots) == 9
    assert slots[0].starts_at == datetime(2026, 10, 24, 23, 0, tzinfo=UTC)
    assert slots[-1].ends_at == datetime(2026, 10, 25, 2, 40, tzinfo=UTC)
    # Consecutive slots stay 25 real minutes apart through the change.
    steps = {(b.starts_at - a.starts_at).total_seconds() for a, b in pairwise(slots)}
    assert steps == {25 * 60}


def test_compute_slots_gap_zero_and_exact_fit() -> None:
    spec = SessionSpec(date(2026, 10, 24), time(9, 0), time(10, 0))
    slots = compute_slots([spec], timezone="UTC", meeting_minutes=20, gap_minutes=0)
    assert [s.starts_at.minute for s in slots] == [0, 20, 40]


def test_validate_sessions_accepts_morning_and_afternoon() -> None:
    specs, errors = _validate(
        [
            {"day": "2026-10-24", "starts_at": "09:00", "ends_at": "12:30", "name": " Morning "},
            {"day": "2026-10-24", "starts_at": "14:00", "ends_at": "17:00", "name": ""},
        ]
    )
    assert errors == {}
    assert specs == [
        SessionSpec(date(2026, 10, 24), time(9, 0), time(12, 30), "Morning"),
        SessionSpec(date(2026, 10, 24), time(14, 0), time(17, 0), ""),
    ]


def test_validate_sessions_skips_blank_rows_and_keys_errors_by_row() -> None:
    _, errors = _validate(
        [
            {"day": "", "starts_at": "", "ends_at": "", "name": ""},
            {"day": "2026-11-02", "starts_at": "09:00", "ends_at": "10:00"},
            {"day": "2026-10-24", "starts_at": "25:00", "ends_at": "10:00"},
            {"day": "2026-10-24", "starts_at": "11:00", "ends_at": "10:00"},
            {"day": "2026-10-24", "starts_at": "12:00", "ends_at": "12:10"},
            {"day": "2026-10-24", "starts_at": "13:00", "ends_at": "14:00", "name": "x" * 81},
        ]
    )
    assert errors == {
        "sessions[1].day": "Choose a day from 2026-10-24 to 2026-10-26.",
        "sessions[2].starts_at": "Enter a time as HH:MM.",
        "sessions[3].ends_at": "End after the start.",
        "sessions[4].ends_at": "Too short for one 20-minute meeting.",
        "sessions[5].name": "Use at most 80 characters.",
    }


def test_validate_sessions_overlap_reported_on_later_row() -> None:
    _, errors = _validate(
        [
            {"day": "2026-10-24", "starts_at": "09:00", "ends_at": "17:00"},
            {"day": "2026-10-24", "starts_at": "10:00", "ends_at": "11:00"},
            {"day": "2026-10-24", "starts_at": "12:00", "ends_at": "13:00"},
            {"day": "2026-10-25", "starts_at": "12:00", "ends_at": "13:00"},
        ]
    )
    assert errors == {
        "sessions[1].starts_at": "Overlaps the session 09:00-17:00 on 2026-10-24.",
        "sessions[2].starts_at": "Overlaps the session 09:00-17:00 on 2026-10-24.",
    }


def test_validate_sessions_needs_one_session() -> None:
    _, errors = _validate([{"day": "", "starts_at": "", "ends_at": ""}])
    assert errors == {"sessions": "Add at least one session."}
