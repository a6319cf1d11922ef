"""Compose the e-mails the platform sends and queue them in the caller's transaction.

Every ``queue_*`` function only writes outbox rows (``notify.outbox``); the job loop sends them.
Links and calendar URLs are written with ``BASE_URL_MARK`` and filled in with the sender's
``settings.base_url`` at delivery, because services never see the settings or a request.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from clockevents.accounts.models import User
from clockevents.agenda import ical
from clockevents.agenda.models import Meeting
from clockevents.errors import NotAuthenticated, ValidationFailed
from clockevents.events.models import Event, Slot
from clockevents.matchmaking.models import MeetingRequest
from clockevents.notify.mail_models import MAIL_KINDS, MailPreference
from clockevents.notify.outbox import enqueue
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
    context = {
        "name": recipient_name,
        "subject": subject,
        "lines": lines,
        "link": link,
        "link_label": link_label,
        "event_title": event.title,
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
    if not wanted:
        return []
    rows = (
        await db.execute(
            select(Participant.id, User.id, User.email, User.name, Participant.timezone, Organisation.name)
            .join(User, User.id == Participant.user_id)
            .join(Organisation, Organisation.id == Participant.organisation_id)
            .where(Participant.id.in_(wanted), User.is_active.is_(True))
        )
    ).all()
    off = set(
        await db.scalars(
            select(MailPreference.user_id).where(
                MailPreference.user_id.in_([r[1] for r in rows]),
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


async def _invitation(
    db: AsyncSession, event: Event, meeting_id: int, participant_id: int, method: str
) -> str:
    """The iTIP calendar of one meeting for one participant ('' if it is not on their agenda)."""
    meetings = await ical.calendar_meetings(
        db, event, participant_id, base_url=BASE_URL_MARK, meeting_ids=[meeting_id]
    )
    if not meetings:
        return ""
    vevents = [ical.meeting_event(m, method=method) for m in meetings]
    return ical.calendar_for(vevents, name=event.title, method=method).decode()


async def _slot_of(db: AsyncSession, meeting: Meeting) -> Slot | None:
    return await db.get(Slot, meeting.slot_id) if meeting.slot_id is not None else None


async def _labels(db: AsyncSession, ids: Iterable[int]) -> dict[int, str]:
    rows = await db.execute(
        select(Participant.id, User.name, Organisation.name)
        .join(Organisation, Organisation.id == Participant.organisation_id)
        .outerjoin(User, User.id == Participant.user_id)
        .where(Participant.id.in_(list(ids)))
    )
    return {pid: f"{name} ({org})" if name else org for pid, name, org in rows.all()}


def _place(event: Event, table: int | None) -> str:
    if table is None:
        return ""
    return f"{'Room' if event.format == 'virtual' else 'Table'} {table}"


MEETING_SUBJECTS = {
    "scheduled": "Meeting with {other} on {when}",
    "moved": "Meeting with {other} moved to {when}",
    "cancelled": "Cancelled: meeting with {other} on {when}",
}


async def send_meeting_mail(
    db: AsyncSession, meeting: Meeting, kind: str, participant_ids: Iterable[int]
) -> int:
    """Queue an iTIP mail about ``meeting`` to each of ``participant_ids``; return mails queued.

    ``kind`` is "scheduled" or "moved" (METHOD:REQUEST) or "cancelled" (METHOD:CANCEL, the
    event STATUS:CANCELLED). UID and SEQUENCE are the feed's, so a calendar updates its copy.
    Keyed by meeting, sequence and participant: the same change never mails anyone twice.
    """
    method = "CANCEL" if kind == "cancelled" or meeting.status == "cancelled" else "REQUEST"
    event = await db.get(Event, meeting.event_id)
    assert event is not None
    slot = await _slot_of(db, meeting)
    labels = await _labels(db, (meeting.a_id, meeting.b_id))
    count = 0
    for r in await recipients(db, participant_ids, "agenda"):
        other = labels.get(meeting.b_id if r.participant_id == meeting.a_id else meeting.a_id, "your partner")
        when = local(slot.starts_at, r.timezone) if slot else "a time to be set"
        subject = MEETING_SUBJECTS.get(kind, MEETING_SUBJECTS["scheduled"]).format(other=other, when=when)
        lines = [subject + "."]
        if method == "CANCEL" and meeting.cancel_reason:
            lines.append(f"Reason: {meeting.cancel_reason}")
        if method == "REQUEST" and (place := _place(event, meeting.table)):
            lines.append(place)
        lines.append("Your calendar app can add this meeting from the attached invitation.")
        ics = await _invitation(db, event, meeting.id, r.participant_id, method)
        text, html = render(r.name, subject, lines, event, agenda_link(event), "Your agenda")
        key = f"meeting:{meeting.id}:seq:{meeting.sequence}:{method.lower()}:participant:{r.participant_id}"
        queued = await enqueue(
            db,
            to=r.email,
            subject=subject,
            text=text,
            html=html,
            ics=ics if ics else "",
            ics_method=method if ics else "",
            kind="agenda",
            dedupe_key=key,
        )
        count += queued is not None
    return count


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
    """Queue one "your agenda changed" mail per participant, listing their meetings in their zone."""
    event = await db.get(Event, event_id)
    assert event is not None
    subject = f"Your agenda for {event.title} has changed"
    count = 0
    for r in await recipients(db, participant_ids, "agenda"):
        meetings = await ical.calendar_meetings(db, event, r.participant_id, base_url=BASE_URL_MARK)
        lines = [f"The organisers published the agenda for {event.title}. Your meetings:"]
        lines += [
            f"{local(m.starts_at, r.timezone)} — {m.summary}{', ' + _place(event, m.table) if m.table else ''}"
            for m in meetings
            if m.status == "scheduled"
        ] or ["You have no meetings on the agenda at the moment."]
        text, html = render(r.name, subject, lines, event, agenda_link(event), "Your agenda")
        await enqueue(db, to=r.email, subject=subject, text=text, html=html, kind="agenda")
        count += 1
    return count


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
