"""The iCalendar builder: exact fields, read back by icalendar and by vobject."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import icalendar
import vobject
from sqlalchemy.ext.asyncio import AsyncSession

from clockevents.agenda.ical import (
    PRODID,
    CalendarMeeting,
    calendar_for,
    calendar_meetings,
    meeting_event,
    participant_calendar,
)
from clockevents.agenda.problem import Person
from tests.integration.agenda import calendar_scenario

BASE = "https://events.example.org"
NOW = datetime(2026, 10, 1, 12, 0, tzinfo=UTC)


def _meeting(**overrides: object) -> CalendarMeeting:
    values: dict[str, object] = {
        "id": 7,
        "uid": "meeting-7@clockevents",
        "sequence": 3,
        "status": "scheduled",
        "starts_at": datetime(2026, 10, 25, 9, 0, tzinfo=UTC),
        "ends_at": datetime(2026, 10, 25, 9, 30, tzinfo=UTC),
        "zone": "Europe/Rome",
        "event_title": "Autumn Matchmaking",
        "event_format": "virtual",
        "table": 4,
        "room_url": f"{BASE}/meetings/7/room",
        "me": Person(1, "Bob Smith", "Hudson Robotics Inc", 1),
        "partner": Person(2, "Anna Rossi", "Grafene Verdi Srl", 2),
        "message": "Let's talk, about; graphene.",
        "created": datetime(2026, 9, 1, 8, 0, tzinfo=UTC),
        "last_modified": datetime(2026, 9, 2, 8, 30, tzinfo=UTC),
    }
    values.update(overrides)
    return CalendarMeeting(**values)  # type: ignore[arg-type]


def test_calendar_for_without_meetings_is_an_empty_valid_calendar() -> None:
    body = calendar_for([], name="Autumn Matchmaking")

    cal = icalendar.Calendar.from_ical(body)
    assert cal.walk("VEVENT") == []
    assert str(cal["PRODID"]) == PRODID
    assert str(cal["VERSION"]) == "2.0"
    assert str(cal["CALSCALE"]) == "GREGORIAN"
    assert str(cal["X-WR-CALNAME"]) == "Autumn Matchmaking"
    assert b"REFRESH-INTERVAL;VALUE=DURATION:PT1H\r\n" in body
    assert b"X-PUBLISHED-TTL:PT1H\r\n" in body
    assert vobject.readOne(body.decode()).prodid.value == PRODID


def test_meeting_event_fields_exact_in_icalendar() -> None:
    body = calendar_for([meeting_event(_meeting(), now=NOW)], name="Autumn Matchmaking")

    cal = icalendar.Calendar.from_ical(body)
    (vevent,) = cal.walk("VEVENT")
    assert str(vevent["UID"]) == "meeting-7@clockevents"
    assert vevent["SEQUENCE"] == 3
    assert vevent.decoded("DTSTAMP") == NOW
    assert vevent.decoded("CREATED") == datetime(2026, 9, 1, 8, 0, tzinfo=UTC)
    assert vevent.decoded("LAST-MODIFIED") == datetime(2026, 9, 2, 8, 30, tzinfo=UTC)
    assert vevent["DTSTART"].params["TZID"] == "Europe/Rome"
    assert vevent.decoded("DTSTART") == datetime(2026, 10, 25, 10, 0, tzinfo=ZoneInfo("Europe/Rome"))
    assert vevent.decoded("DTEND") == datetime(2026, 10, 25, 10, 30, tzinfo=ZoneInfo("Europe/Rome"))
    assert str(vevent["STATUS"]) == "CONFIRMED"
    assert str(vevent["SUMMARY"]) == "Meeting with Anna Rossi (Grafene Verdi Srl)"
    assert str(vevent["LOCATION"]) == f"{BASE}/meetings/7/room"
    assert str(vevent["URL"]) == f"{BASE}/meetings/7/room"
    assert str(vevent["DESCRIPTION"]) == (
        "Autumn Matchmaking\n"
        "Bob Smith (Hudson Robotics Inc) and Anna Rossi (Grafene Verdi Srl)\n"
        "Table 4\n"
        f"Room: {BASE}/meetings/7/room\n"
        "\n"
        "Request message:\n"
        "Let's talk, about; graphene."
    )
    assert [str(tz["TZID"]) for tz in cal.walk("VTIMEZONE")] == ["Europe/Rome"]
    assert body.index(b"BEGIN:VTIMEZONE") < body.index(b"BEGIN:VEVENT")


def test_meeting_event_utc_event_is_utc_not_floating() -> None:
    body = calendar_for([meeting_event(_meeting(zone="UTC"), now=NOW)], name="x")

    assert b"DTSTART:20261025T090000Z\r\n" in body
    assert b"BEGIN:VTIMEZONE" not in body


def test_meeting_event_fields_exact_in_vobject() -> None:
    body = calendar_for([meeting_event(_meeting(), now=NOW)], name="Autumn Matchmaking").decode()

    vevent = vobject.readOne(body).vevent
    assert vevent.uid.value == "meeting-7@clockevents"
    assert vevent.sequence.value == "3"
    assert vevent.status.value == "CONFIRMED"
    assert vevent.summary.value == "Meeting with Anna Rossi (Grafene Verdi Srl)"
    assert vevent.dtstart.value.astimezone(UTC) == datetime(2026, 10, 25, 9, 0, tzinfo=UTC)
    assert vevent.dtend.value.astimezone(UTC) == datetime(2026, 10, 25, 9, 30, tzinfo=UTC)
    # vobject builds the zone from our VTIMEZONE, not from its own database.
    assert vevent.dtstart.value.utcoffset().total_seconds() == 3600
    assert vevent.dtstamp.value == NOW
    assert vevent.description.value.endswith("Request message:\nLet's talk, about; graphene.")


def test_meeting_event_cancelled_keeps_uid_and_says_cancelled() -> None:
    vevent = meeting_event(_meeting(status="cancelled", sequence=5), now=NOW)

    assert (str(vevent["UID"]), vevent["SEQUENCE"], str(vevent["STATUS"])) == (
        "meeting-7@clockevents",
        5,
        "CANCELLED",
    )


def test_meeting_event_cancel_method_marks_cancelled() -> None:
    vevent = meeting_event(_meeting(), method="CANCEL", now=NOW)

    assert str(vevent["STATUS"]) == "CANCELLED"


def test_calendar_for_method_is_on_the_calendar() -> None:
    body = calendar_for([meeting_event(_meeting(), method="REQUEST", now=NOW)], name="x", method="request")

    assert str(icalendar.Calendar.from_ical(body)["METHOD"]) == "REQUEST"


def test_meeting_event_location_in_person_is_the_table() -> None:
    vevent = meeting_event(_meeting(event_format="in_person"), now=NOW)

    assert str(vevent["LOCATION"]) == "Table 4"
    assert "URL" not in vevent
    assert "Room:" not in str(vevent["DESCRIPTION"])


def test_meeting_event_location_hybrid_is_table_and_room() -> None:
    vevent = meeting_event(_meeting(event_format="hybrid"), now=NOW)

    assert str(vevent["LOCATION"]) == f"Table 4 / {BASE}/meetings/7/room"
    assert str(vevent["URL"]) == f"{BASE}/meetings/7/room"


def test_meeting_event_without_message_has_no_message_block() -> None:
    vevent = meeting_event(_meeting(message=""), now=NOW)

    assert "Request message" not in str(vevent["DESCRIPTION"])


async def test_calendar_meetings_lists_published_own_meetings_in_time_order(db: AsyncSession) -> None:
    s = await calendar_scenario.build(db)

    meetings = await calendar_meetings(db, s.event, s.bob.id, base_url=BASE)

    assert [(m.uid, m.summary, m.table) for m in meetings] == [
        (s.bob_anna.uid, "Meeting with Anna Rossi (Grafene Verdi Srl)", 1),
        (s.bob_carla.uid, "Meeting with Carla Sousa (Lisboa Bio Lda)", 2),
    ]
    assert meetings[0].message == "Let's talk about graphene sensors."
    assert meetings[0].room_url == f"{BASE}/meetings/{s.bob_anna.id}/room"


async def test_calendar_meetings_keeps_cancelled_meetings(db: AsyncSession) -> None:
    s = await calendar_scenario.build(db)
    s.bob_carla.status = "cancelled"
    s.bob_carla.sequence += 1
    await db.commit()

    meetings = await calendar_meetings(db, s.event, s.bob.id, base_url=BASE)

    assert [(m.uid, m.status, m.sequence) for m in meetings] == [
        (s.bob_anna.uid, "scheduled", 0),
        (s.bob_carla.uid, "cancelled", 1),
    ]


async def test_participant_calendar_across_dst_end_has_right_instants(db: AsyncSession) -> None:
    s = await calendar_scenario.build(db)

    body = await participant_calendar(db, s.event, s.bob.id, base_url=BASE, now=NOW)

    starts = [e.decoded("DTSTART") for e in icalendar.Calendar.from_ical(body).walk("VEVENT")]
    assert [d.astimezone(UTC) for d in starts] == [
        datetime(2026, 10, 24, 8, 0, tzinfo=UTC),  # 10:00 CEST
        datetime(2026, 10, 25, 9, 0, tzinfo=UTC),  # 10:00 CET, after the change
    ]
    parsed = [e.dtstart.value for e in vobject.readOne(body.decode()).vevent_list]
    assert [d.astimezone(ZoneInfo("America/New_York")).strftime("%d %H:%M") for d in parsed] == [
        "24 04:00",
        "25 05:00",
    ]
    assert [d.astimezone(ZoneInfo("Europe/Lisbon")).strftime("%d %H:%M") for d in parsed] == [
        "24 09:00",
        "25 09:00",
    ]
    assert [d.strftime("%d %H:%M %z") for d in parsed] == ["24 10:00 +0200", "25 10:00 +0100"]
