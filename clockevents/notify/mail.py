"""Compose the e-mails the platform sends and queue them in the caller's transaction.

Every ``queue_*`` function only writes outbox rows (``notify.outbox``); the job loop sends them.
Links and calendar URLs are written with ``BASE_URL_MARK`` and filled in with the sender's
``settings.base_url`` at delivery, because services never see the settings or a request.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import icalendar
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from clockevents.accounts.models import User
from clockevents.agenda import ical
from clockevents.agenda.models import Meeting
from clockevents.agenda.problem import Person, load_people
from clockevents.errors import NotAuthenticated, ValidationFailed
from clockevents.events.models import Event, Slot
from clockevents.matchmaking.models import MeetingRequest
from clockevents.notify.mail_models import MAIL_KINDS, MailPreference
from clockevents.notify.outbox import Draft, chunks, enqueue, enqueue_many, taken_keys
from clockevents.notify.transport import BASE_URL_MARK
from clockevents.registration.models import Organisation, Participant

PREFERENCES_PATH = "/account/mail"
KIND_LABELS = {
    "registration": "Registration received and approved",
    "requests": "Meeting requests received, accepted or declined",
    "agenda": "Agenda published or changed, meetings moved or cancelled",
    "reminders": "A reminder shortly before each meeting",
}

_templates = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)


@dataclass(frozen=True)
class Recipient:
    """A participant who wants this kind of mail, with where and how to write to them."""

    participant_id: int
    user_id: int
    email: str
    name: str
    timezone: str
    organisation: str


def agenda_link(event: Event) -> str:
    return f"{BASE_URL_MARK}/events/{event.slug}/agenda"


def local(value: datetime, zone: str) -> str:
    """'Mon 12 Oct 2026, 10:00 CEST' in the reader's zone."""
    try:
        tz = ZoneInfo(zone)
    except (KeyError, ValueError):
        tz = ZoneInfo("UTC")
    return value.astimezone(tz).strftime("%a %d %b %Y, %H:%M %Z")


def render(
    recipient_name: str, subject: str, lines: list[str], event: Event, link: str, link_label: str
) -> tuple[str, str]:
    """Render the plain-text and HTML bodies of one mail."""
    return _render(recipient_name, subject, lines, event.title, link, link_label)


def _render(
    recipient_name: str, subject: str, lines: list[str], event_title: str, link: str, link_label: str
) -> tuple[str, str]:
    context = {
        "name": recipient_name,
        "subject": subject,
        "lines": lines,
        "link": link,
        "link_label": link_label,
        "event_title": event_title,
        "preferences_url": f"{BASE_URL_MARK}{PREFERENCES_PATH}",
    }
    return (
        _templates.get_template("mail.txt").render(context),
        _templates.get_template("mail.html").render(context),
    )


# -- preferences ------------------------------------------------------------------------------


async def get_preferences(db: AsyncSession, user: User | None) -> dict[str, bool]:
    """The caller's choice for every kind of mail (all on unless switched off)."""
    if user is None:
        raise NotAuthenticated()
    rows = await db.execute(
        select(MailPreference.kind, MailPreference.enabled).where(MailPreference.user_id == user.id)
    )
    chosen = {kind: enabled for kind, enabled in rows.all()}
    return {kind: chosen.get(kind, True) for kind in MAIL_KINDS}


async def set_preferences(db: AsyncSession, user: User | None, data: Mapping[str, Any]) -> dict[str, bool]:
    """Store the caller's choices: ``data`` maps kinds to booleans; a kind left out is off.

    Unknown kinds and values that are not booleans are refused together, before anything is written.
    """
    if user is None:
        raise NotAuthenticated()
    errors = {str(key): "Unknown kind of e-mail." for key in data if key not in MAIL_KINDS} | {
        key: "Choose on or off."
        for key, value in data.items()
        if key in MAIL_KINDS and not isinstance(value, bool)
    }
    if errors:
        raise ValidationFailed(errors)
    rows = {
        row.kind: row
        for row in await db.scalars(select(MailPreference).where(MailPreference.user_id == user.id))
    }
    for kind in MAIL_KINDS:
        enabled = bool(data.get(kind, False))
        if kind in rows:
            rows[kind].enabled = enabled
        else:
            db.add(MailPreference(user_id=user.id, kind=kind, enabled=enabled))
    await db.flush()
    return await get_preferences(db, user)


async def recipients(db: AsyncSession, participant_ids: Iterable[int], kind: str) -> list[Recipient]:
    """The participants among ``participant_ids`` with an active account who want ``kind`` mail."""
    wanted = sorted(set(participant_ids))
    rows: list[Any] = []
    for part in chunks(wanted):
        rows += (
            await db.execute(
                select(
                    Participant.id, User.id, User.email, User.name, Participant.timezone, Organisation.name
                )
                .join(User, User.id == Participant.user_id)
                .join(Organisation, Organisation.id == Participant.organisation_id)
                .where(Participant.id.in_(part), User.is_active.is_(True))
            )
        ).all()
    off: set[int] = set()
    for part in chunks(sorted({row[1] for row in rows})):
        off.update(
            await db.scalars(
                select(MailPreference.user_id).where(
                    MailPreference.user_id.in_(part),
                    MailPreference.kind == kind,
                    MailPreference.enabled.is_(False),
                )
            )
        )
    return [Recipient(*row) for row in rows if row[1] not in off]


# -- registration -----------------------------------------------------------------------------


async def queue_registration_mail(db: AsyncSession, participant_id: int, what: str) -> int:
    """Queue "registration received" (``what`` "pending") or "approved" for one participant.

    Any other status (a rejected import) sends nothing. Returns how many mails were queued.
    """
    participant = await db.get(Participant, participant_id)
    if participant is None or what not in ("pending", "approved"):
        return 0
    event = await db.get(Event, participant.event_id)
    assert event is not None
    if what == "approved":
        subject = f"You are registered for {event.title}"
        lines = [
            f"Your registration for {event.title} is approved.",
            "You can now publish what you offer and seek, and ask other participants for meetings.",
        ]
    else:
        subject = f"We received your registration for {event.title}"
        lines = [
            f"Thank you for registering for {event.title}.",
            "The organisers will review it; we will write again once it is approved.",
        ]
    count = 0
    for r in await recipients(db, [participant_id], "registration"):
        text, html = render(r.name, subject, lines, event, agenda_link(event), "Your agenda")
        key = f"registration:{what}:participant:{r.participant_id}"
        count += bool(
            await enqueue(
                db, to=r.email, subject=subject, text=text, html=html, kind="registration", dedupe_key=key
            )
        )
    return count


# -- meetings and requests --------------------------------------------------------------------


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


async def _people(db: AsyncSession, ids: Iterable[int]) -> dict[int, Person]:
    people: dict[int, Person] = {}
    for part in chunks(sorted(set(ids))):
        people.update(await load_people(db, part))
    return people


async def _labels(db: AsyncSession, ids: Iterable[int]) -> dict[int, str]:
    labels: dict[int, str] = {}
    for part in chunks(sorted(set(ids))):
        rows = await db.execute(
            select(Participant.id, User.name, Organisation.name)
            .join(Organisation, Organisation.id == Participant.organisation_id)
            .outerjoin(User, User.id == Participant.user_id)
            .where(Participant.id.in_(part))
        )
        labels.update({pid: f"{name} ({org})" if name else org for pid, name, org in rows.all()})
    return labels


def _place(event: Event, table: int | None) -> str:
    if table is None:
        return ""
    return f"{'Room' if event.format == 'virtual' else 'Table'} {table}"


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
        text, html = _render(item.recipient.name, item.subject, item.lines, event_title, link, "Your agenda")
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
    labels = await _labels(db, {p for m, *_ in keyed for p in (m.a_id, m.b_id)})
    shown = {m.id: m for m, *_ in keyed if _on_agenda(m) and m.slot_id in slots}
    people = await _people(db, {p for m in shown.values() for p in (m.a_id, m.b_id)})
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
        if method == "REQUEST" and (place := _place(event, meeting.table)):
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


async def queue_request_mail(db: AsyncSession, request_id: int, what: str) -> int:
    """Queue the mail for a request "received" (to the receiver), "accepted" or "declined" (to the sender)."""
    request = await db.get(MeetingRequest, request_id)
    if request is None:
        return 0
    event = await db.get(Event, request.event_id)
    assert event is not None
    labels = await _labels(db, (request.sender_id, request.receiver_id))
    to_id, other = (
        (request.receiver_id, labels.get(request.sender_id, ""))
        if what == "received"
        else (request.sender_id, labels.get(request.receiver_id, ""))
    )
    subject = {
        "received": f"{other} asks you for a meeting",
        "accepted": f"{other} accepted your meeting request",
        "declined": f"{other} declined your meeting request",
    }[what]
    lines = [subject + f" at {event.title}."]
    if what == "received" and request.message:
        lines.append(f"Their message: {request.message}")
    if what == "declined" and request.decline_reason:
        lines.append(f"Reason: {request.decline_reason}")
    link = f"{BASE_URL_MARK}/events/{event.slug}/requests"
    count = 0
    for r in await recipients(db, [to_id], "requests"):
        text, html = render(
            r.name,
            subject,
            [*lines, f"Your agenda: {agenda_link(event)}"],
            event,
            link,
            "Your meeting requests",
        )
        key = f"request:{request.id}:{what}:participant:{r.participant_id}"
        count += bool(
            await enqueue(
                db, to=r.email, subject=subject, text=text, html=html, kind="requests", dedupe_key=key
            )
        )
    return count


async def queue_agenda_mails(db: AsyncSession, event_id: int, participant_ids: Iterable[int]) -> int:
    """Queue one "your agenda changed" mail per participant, listing their meetings in their zone.

    The meetings of all the participants are read at once, so the cost does not grow by a query
    per participant.
    """
    event = await db.get(Event, event_id)
    assert event is not None
    readers = await recipients(db, participant_ids, "agenda")
    if not readers:
        return 0
    ids = sorted({r.participant_id for r in readers})
    found: dict[int, tuple[Meeting, datetime]] = {}
    for part in chunks(ids):
        rows = await db.execute(
            select(Meeting, Slot.starts_at)
            .join(Slot, Slot.id == Meeting.slot_id)
            .where(
                Meeting.event_id == event.id,
                Meeting.status == "scheduled",
                Meeting.published_at.is_not(None),
                or_(Meeting.a_id.in_(part), Meeting.b_id.in_(part)),
            )
        )
        found.update({meeting.id: (meeting, starts_at) for meeting, starts_at in rows.all()})
    agenda: dict[int, list[tuple[datetime, int, Meeting]]] = {}
    for meeting, starts_at in found.values():
        for me in (meeting.a_id, meeting.b_id):
            agenda.setdefault(me, []).append((starts_at, meeting.id, meeting))
    people = await _people(db, {p for m, _ in found.values() for p in (m.a_id, m.b_id)})
    subject = f"Your agenda for {event.title} has changed"
    drafts: list[Draft] = []
    for r in readers:
        lines = [f"The organisers published the agenda for {event.title}. Your meetings:"]
        for starts_at, _, m in sorted(agenda.get(r.participant_id, []), key=lambda item: item[:2]):
            other = m.b_id if m.a_id == r.participant_id else m.a_id
            partner = people.get(other) or Person(other, f"Participant {other}", "", None)
            place = f", {_place(event, m.table)}" if m.table else ""
            lines.append(f"{local(starts_at, r.timezone)} — Meeting with {partner.label}{place}")
        if len(lines) == 1:
            lines.append("You have no meetings on the agenda at the moment.")
        text, html = render(r.name, subject, lines, event, agenda_link(event), "Your agenda")
        drafts.append(Draft(to=r.email, subject=subject, text=text, html=html, kind="agenda"))
    return await enqueue_many(db, drafts)


async def queue_reminder(db: AsyncSession, meeting: Meeting, slot: Slot, event: Event, minutes: int) -> int:
    """Queue the reminder for ``meeting`` to both participants, at most once per meeting, time and person."""
    labels = await _labels(db, (meeting.a_id, meeting.b_id))
    count = 0
    for r in await recipients(db, (meeting.a_id, meeting.b_id), "reminders"):
        other = labels.get(meeting.b_id if r.participant_id == meeting.a_id else meeting.a_id, "your partner")
        subject = f"In {minutes} minutes: meeting with {other}"
        lines = [f"Your meeting with {other} starts at {local(slot.starts_at, r.timezone)}."]
        if place := _place(event, meeting.table):
            lines.append(place)
        if event.format != "in_person":
            lines.append(f"Join the room: {ical.room_url(BASE_URL_MARK, meeting.id)}")
        text, html = render(r.name, subject, lines, event, agenda_link(event), "Your agenda")
        key = f"reminder:meeting:{meeting.id}:seq:{meeting.sequence}:participant:{r.participant_id}"
        count += bool(
            await enqueue(
                db, to=r.email, subject=subject, text=text, html=html, kind="reminders", dedupe_key=key
            )
        )
    return count
