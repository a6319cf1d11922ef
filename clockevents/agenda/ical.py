"""iCalendar for meetings: one VEVENT per meeting, and the VCALENDAR that wraps them.

Calendar clients track a meeting by its UID and believe the highest SEQUENCE, so the UID is
Meeting.uid (never reused) and SEQUENCE is Meeting.sequence (only grows). Times carry the
event's TZID with a matching VTIMEZONE, never floating. A cancelled meeting stays in a feed
with STATUS:CANCELLED so subscribed clients strike it out instead of keeping a stale copy.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import icalendar
from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from clockevents.agenda.models import Meeting
from clockevents.agenda.problem import Person, load_people
from clockevents.events.models import Event, Slot
from clockevents.matchmaking.models import MeetingRequest

PRODID = "-//clockevents//clockevents 0.1//EN"
# Meetings that ever reached someone's agenda: held self-bookings are not in it yet.
FEED_STATUSES = ("scheduled", "cancelled")


@dataclass
class CalendarMeeting:
    """What one participant's calendar shows of one meeting (times in UTC)."""

    id: int
    uid: str
    sequence: int
    status: str
    starts_at: datetime
    ends_at: datetime
    zone: str  # the event's IANA zone: the TZID of DTSTART/DTEND
    event_title: str
    event_format: str  # virtual | in_person | hybrid
    table: int | None
    room_url: str
    me: Person
    partner: Person
    message: str
    created: datetime
    last_modified: datetime

    @property
    def summary(self) -> str:
        """'Meeting with Anna Rossi (Grafene Verdi Srl)'."""
        return f"Meeting with {self.partner.label}"

    @property
    def location(self) -> str:
        """The room link online, the table in person, both for hybrid events."""
        table = f"Table {self.table}" if self.table is not None else ""
        if self.event_format == "in_person":
            return table
        if self.event_format == "hybrid" and table:
            return f"{table} / {self.room_url}"
        return self.room_url

    @property
    def description(self) -> str:
        """Both organisations and the request message, in plain text."""
        lines = [
            self.event_title,
            f"{self.me.name} ({self.me.organisation or '-'}) and {self.partner.name} "
            f"({self.partner.organisation or '-'})",
        ]
        if self.table is not None:
            lines.append(f"Table {self.table}")
        if self.event_format != "in_person":
            lines.append(f"Room: {self.room_url}")
        if self.message:
            lines += ["", "Request message:", self.message]
        return "\n".join(lines)


def _utc(value: datetime) -> datetime:
    """Read naive values (SQLite before the UTC type ran) as UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


@lru_cache(maxsize=64)
def _vtimezone(tzid: str, first_year: int, last_year: int) -> icalendar.Timezone:
    """Build (once per zone and years) the VTIMEZONE for the meetings' years and a year around.

    Whole years keep the cache small and the transitions complete; generating 1970-2038 for
    every feed request would cost more than the rest of the feed. Callers must not mutate it.
    """
    return icalendar.Timezone.from_tzinfo(
        _zone(tzid), tzid=tzid, first_date=date(first_year - 1, 1, 1), last_date=date(last_year + 2, 1, 1)
    )


def room_url(base_url: str, meeting_id: int) -> str:
    """The live room of a meeting."""
    return f"{base_url.rstrip('/')}/meetings/{meeting_id}/room"


def meeting_event(
    meeting: CalendarMeeting, *, method: str | None = None, now: datetime | None = None
) -> icalendar.Event:
    """Build the VEVENT of one meeting as its participant sees it.

    ``method`` (iTIP: REQUEST, CANCEL) only changes the status a CANCEL must carry; the method
    itself belongs on the VCALENDAR (``calendar_for``).
    """
    zone = _zone(meeting.zone)
    vevent = icalendar.Event()
    vevent.add("uid", meeting.uid)
    vevent.add("sequence", meeting.sequence)
    vevent.add("dtstamp", _utc(now or datetime.now(UTC)))
    vevent.add("created", _utc(meeting.created))
    vevent.add("last-modified", _utc(meeting.last_modified))
    vevent.add("dtstart", _utc(meeting.starts_at).astimezone(zone))
    vevent.add("dtend", _utc(meeting.ends_at).astimezone(zone))
    vevent.add("summary", meeting.summary)
    cancelled = meeting.status == "cancelled" or (method or "").upper() == "CANCEL"
    vevent.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    vevent.add("transp", "OPAQUE")
    if meeting.location:
        vevent.add("location", meeting.location)
    if meeting.event_format != "in_person":
        vevent.add("url", meeting.room_url)
    vevent.add("description", meeting.description)
    return vevent


def calendar_for(events: Iterable[icalendar.Event], *, name: str, method: str | None = None) -> bytes:
    """Wrap VEVENTs in a VCALENDAR with a VTIMEZONE for every TZID; empty calendars stay valid."""
    cal = icalendar.Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    if method:
        cal.add("method", method.upper())
    cal.add("x-wr-calname", name)
    cal.add("refresh-interval", timedelta(hours=1), parameters={"VALUE": "DURATION"})
    cal.add("x-published-ttl", "PT1H")
    vevents = list(events)
    zones: dict[str, list[int]] = {}
    for vevent in vevents:
        start = vevent["DTSTART"]
        tzid = start.params.get("TZID")
        if tzid:
            zones.setdefault(str(tzid), []).append(start.dt.year)
    # VTIMEZONE before the VEVENTs that use it: some clients (Outlook) read in one pass.
    for tzid, years in sorted(zones.items()):
        cal.add_component(_vtimezone(tzid, min(years), max(years)))
    for vevent in vevents:
        cal.add_component(vevent)
    return cal.to_ical()


async def calendar_meetings(
    db: AsyncSession,
    event: Event,
    participant_id: int,
    *,
    base_url: str,
    meeting_ids: Iterable[int] | None = None,
) -> list[CalendarMeeting]:
    """Load a participant's published meetings (scheduled and cancelled ones) in time order.

    ``meeting_ids`` narrows the list (e-mail invitations for a single meeting).
    """
    query = (
        select(Meeting, Slot.starts_at, Slot.ends_at, MeetingRequest.message)
        .join(Slot, Slot.id == Meeting.slot_id)
        .outerjoin(MeetingRequest, MeetingRequest.id == Meeting.request_id)
        .where(
            Meeting.event_id == event.id,
            or_(Meeting.a_id == participant_id, Meeting.b_id == participant_id),
            Meeting.status.in_(FEED_STATUSES),
            Meeting.published_at.is_not(None),
        )
        .order_by(Slot.starts_at, Meeting.id)
    )
    if meeting_ids is not None:
        query = query.where(Meeting.id.in_(list(meeting_ids)))
    rows = (await db.execute(query)).all()
    people = await load_people(db, {p for m, *_ in rows for p in (m.a_id, m.b_id)})
    result = []
    for meeting, starts_at, ends_at, message in rows:
        other = meeting.b_id if meeting.a_id == participant_id else meeting.a_id
        result.append(
            CalendarMeeting(
                id=meeting.id,
                uid=meeting.uid,
                sequence=meeting.sequence,
                status=meeting.status,
                starts_at=starts_at,
                ends_at=ends_at,
                zone=event.timezone,
                event_title=event.title,
                event_format=event.format,
                table=meeting.table,
                room_url=room_url(base_url, meeting.id),
                me=people.get(participant_id) or Person(participant_id, "You", "", None),
                partner=people.get(other) or Person(other, f"Participant {other}", "", None),
                message=message or "",
                created=meeting.published_at or meeting.created_at,
                last_modified=meeting.updated_at,
            )
        )
    return result


async def participant_calendar(
    db: AsyncSession, event: Event, participant_id: int, *, base_url: str, now: datetime | None = None
) -> bytes:
    """The whole .ics of a participant's published meetings in one event."""
    meetings = await calendar_meetings(db, event, participant_id, base_url=base_url)
    return calendar_for((meeting_event(m, now=now) for m in meetings), name=event.title)
