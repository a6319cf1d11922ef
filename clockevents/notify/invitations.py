"""Meeting mails with an iTIP invitation (REQUEST, or CANCEL), for one meeting or a whole published agenda."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import icalendar
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from clockevents.agenda import ical
from clockevents.agenda.models import Meeting
from clockevents.agenda.problem import Person
from clockevents.events.models import Event, Slot
from clockevents.matchmaking.models import MeetingRequest
from clockevents.notify.compose import (
    Recipient,
    agenda_link,
    labels_of,
    local,
    people_of,
    place_label,
    recipients,
    render_bodies,
)
from clockevents.notify.outbox import Draft, chunks, enqueue_many, taken_keys
from clockevents.notify.transport import BASE_URL_MARK


def _calendar_view(
    event: Event,
    meeting: Meeting,
    slot: Slot,
    me: int,
    people: Mapping[int, Person],
    message: str,
) -> ical.CalendarMeeting:
    """What participant ``me``'s calendar shows of ``meeting``: the feed's entry, built from rows in hand."""
    other = meeting.b_id if meeting.a_id == me else meeting.a_id
    return ical.CalendarMeeting(
        id=meeting.id,
        uid=meeting.uid,
        sequence=meeting.sequence,
        status=meeting.status,
        starts_at=slot.starts_at,
        ends_at=slot.ends_at,
        zone=event.timezone,
        event_title=event.title,
        event_format=event.format,
        table=meeting.table,
        room_url=ical.room_url(BASE_URL_MARK, meeting.id),
        me=people.get(me) or Person(me, "You", "", None),
        partner=people.get(other) or Person(other, f"Participant {other}", "", None),
        message=message,
        created=meeting.published_at or meeting.created_at,
        last_modified=meeting.updated_at,
    )


def _on_agenda(meeting: Meeting) -> bool:
    """Whether the meeting is in its participants' feeds (so an invitation can match it)."""
    return meeting.published_at is not None and meeting.status in ical.FEED_STATUSES


MEETING_SUBJECTS = {
    "scheduled": "Meeting with {other} on {when}",
    "moved": "Meeting with {other} moved to {when}",
    "cancelled": "Cancelled: meeting with {other} on {when}",
}


@dataclass(frozen=True)
class _Invitation:
    """One meeting mail to compose: everything read from the database, as plain values."""

    recipient: Recipient
    subject: str
    lines: list[str]
    view: ical.CalendarMeeting | None  # None: the meeting is not on the agenda, no calendar part
    method: str
    key: str


class _Envelopes:
    """Wrap VEVENTs in ``ical.calendar_for``'s VCALENDAR, serialising each envelope only once.

    The envelope (header and VTIMEZONE) is the same for every invitation of one event, method and
    year, and serialising the VTIMEZONE costs more than the VEVENT: the first calendar of each
    kind is built whole by ``calendar_for`` and split around its VEVENT; later VEVENTs go in
    between the same two halves.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self.halves: dict[tuple[str, str, int], tuple[str, str]] = {}

    def wrap(self, vevent: icalendar.Event, method: str) -> str:
        start = vevent["DTSTART"]
        key = (method, str(start.params.get("TZID", "")), start.dt.year)
        if key in self.halves:
            head, tail = self.halves[key]
            return head + vevent.to_ical().decode() + tail
        whole = ical.calendar_for([vevent], name=self.name, method=method).decode()
        head, _, rest = whole.partition("\r\nBEGIN:VEVENT\r\n")
        _, _, tail = rest.rpartition("\r\nEND:VEVENT\r\n")
        self.halves[key] = (head + "\r\n", tail)  # VEVENT.to_ical() ends with its own CRLF
        return whole


def _compose(invitations: Sequence[_Invitation], event_title: str, link: str) -> list[Draft]:
    """Render the bodies and calendars of ``invitations`` (pure work: no database, safe in a thread)."""
    envelopes = _Envelopes(event_title)
    drafts = []
    for item in invitations:
        ics = ""
        if item.view is not None:
            ics = envelopes.wrap(ical.meeting_event(item.view, method=item.method), item.method)
        text, html = render_bodies(
            item.recipient.name, item.subject, item.lines, event_title, link, "Your agenda"
        )
        drafts.append(
            Draft(
                to=item.recipient.email,
                subject=item.subject,
                text=text,
                html=html,
                ics=ics,
                ics_method=item.method if ics else "",
                kind="agenda",
                dedupe_key=item.key,
            )
        )
    return drafts


COMPOSE_INLINE = 50  # more mails than this are composed in a worker thread, off the event loop


async def queue_meeting_mails(
    db: AsyncSession,
    event: Event,
    changes: Sequence[tuple[Meeting, str]],
    participant_ids: Iterable[int] | None = None,
) -> int:
    """Queue one iTIP mail per participant per ``(meeting, kind)`` of ``event``; return mails queued.

    ``kind`` is "scheduled" or "moved" (METHOD:REQUEST) or "cancelled" (METHOD:CANCEL, the
    event STATUS:CANCELLED); a cancelled meeting always gets a CANCEL. UID and SEQUENCE are the
    feed's, so a calendar updates its copy. Both sides are written to unless ``participant_ids``
    narrows them, each only if they want "agenda" mail. Keyed by meeting, sequence, method and
    participant: the same change never mails anyone twice (and is not even composed again).

    The queries do not grow with the number of meetings (a few, chunked by 500 ids), and a
    large batch is rendered in a worker thread so the event loop keeps serving other requests.
    """
    if not changes:
        return 0
    wanted = set(participant_ids) if participant_ids is not None else None
    sides = {p for m, _ in changes for p in (m.a_id, m.b_id) if wanted is None or p in wanted}
    readers = {r.participant_id: r for r in await recipients(db, sides, "agenda")}
    if not readers:
        return 0
    keyed = []
    for meeting, kind in changes:
        method = "CANCEL" if kind == "cancelled" or meeting.status == "cancelled" else "REQUEST"
        for me in (meeting.a_id, meeting.b_id):
            if me in readers:
                key = f"meeting:{meeting.id}:seq:{meeting.sequence}:{method.lower()}:participant:{me}"
                keyed.append((meeting, kind, method, me, key))
    taken = await taken_keys(db, [item[-1] for item in keyed])
    keyed = [item for item in keyed if item[-1] not in taken]
    if not keyed:
        return 0
    slots = {s.id: s for s in await db.scalars(select(Slot).where(Slot.event_id == event.id))}
    labels = await labels_of(db, {p for m, *_ in keyed for p in (m.a_id, m.b_id)})
    shown = {m.id: m for m, *_ in keyed if _on_agenda(m) and m.slot_id in slots}
    people = await people_of(db, {p for m in shown.values() for p in (m.a_id, m.b_id)})
    messages: dict[int, str] = {}
    for part in chunks(sorted({m.request_id for m in shown.values() if m.request_id is not None})):
        rows = await db.execute(
            select(MeetingRequest.id, MeetingRequest.message).where(MeetingRequest.id.in_(part))
        )
        messages.update({rid: message or "" for rid, message in rows.all()})
    invitations = []
    for meeting, kind, method, me, key in keyed:
        r = readers[me]
        slot = slots.get(meeting.slot_id) if meeting.slot_id is not None else None
        other = labels.get(meeting.b_id if me == meeting.a_id else meeting.a_id, "your partner")
        when = local(slot.starts_at, r.timezone) if slot else "a time to be set"
        subject = MEETING_SUBJECTS.get(kind, MEETING_SUBJECTS["scheduled"]).format(other=other, when=when)
        lines = [subject + "."]
        if method == "CANCEL" and meeting.cancel_reason:
            lines.append(f"Reason: {meeting.cancel_reason}")
        if method == "REQUEST" and (place := place_label(event, meeting.table)):
            lines.append(place)
        view = None
        if slot is not None and meeting.id in shown:
            view = _calendar_view(event, meeting, slot, me, people, messages.get(meeting.request_id or 0, ""))
            lines.append("Your calendar app can add this meeting from the attached invitation.")
        invitations.append(_Invitation(r, subject, lines, view, method, key))
    if len(invitations) > COMPOSE_INLINE:
        drafts = await asyncio.to_thread(_compose, invitations, event.title, agenda_link(event))
    else:
        drafts = _compose(invitations, event.title, agenda_link(event))
    return await enqueue_many(db, drafts, taken=taken)


async def send_meeting_mail(
    db: AsyncSession, meeting: Meeting, kind: str, participant_ids: Iterable[int]
) -> int:
    """Queue an iTIP mail about one ``meeting`` to each of ``participant_ids`` (see ``queue_meeting_mails``)."""
    event = await db.get(Event, meeting.event_id)
    assert event is not None
    return await queue_meeting_mails(db, event, [(meeting, kind)], participant_ids)
