"""Compose the e-mails the platform sends and queue them in the caller's transaction.

Every ``queue_*`` function only writes outbox rows (``notify.outbox``); the job loop sends them.
Links and calendar URLs are written with ``BASE_URL_MARK`` and filled in with the sender's
``settings.base_url`` at delivery, because services never see the settings or a request.
Meeting mails with their iTIP invitations live in ``notify.invitations``; what all mails
share (recipients, templates, local times) in ``notify.compose``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from clockevents.accounts.models import User
from clockevents.agenda import ical
from clockevents.agenda.models import Meeting
from clockevents.agenda.problem import Person
from clockevents.errors import NotAuthenticated, ValidationFailed
from clockevents.events.models import Event, Slot
from clockevents.matchmaking.models import MeetingRequest
from clockevents.notify.compose import (
    BASE_URL_MARK,
    PREFERENCES_PATH,
    Recipient,
    agenda_link,
    labels_of,
    local,
    people_of,
    place_label,
    recipients,
    render,
)
from clockevents.notify.invitations import queue_meeting_mails, send_meeting_mail
from clockevents.notify.mail_models import MAIL_KINDS, MailPreference
from clockevents.notify.outbox import Draft, chunks, enqueue, enqueue_many
from clockevents.registration.models import Participant

# Names other modules import from here.
__all__ = [
    "BASE_URL_MARK",
    "KIND_LABELS",
    "PREFERENCES_PATH",
    "Recipient",
    "agenda_link",
    "get_preferences",
    "local",
    "queue_agenda_mails",
    "queue_meeting_mails",
    "queue_registration_mail",
    "queue_reminder",
    "queue_request_mail",
    "recipients",
    "render",
    "send_meeting_mail",
    "set_preferences",
]

KIND_LABELS = {
    "registration": "Registration received and approved",
    "requests": "Meeting requests received, accepted or declined",
    "agenda": "Agenda published or changed, meetings moved or cancelled",
    "reminders": "A reminder shortly before each meeting",
}


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


# -- requests, agenda summaries and reminders ---------------------------------------------------


async def queue_request_mail(db: AsyncSession, request_id: int, what: str) -> int:
    """Queue the mail for a request "received" (to the receiver), "accepted" or "declined" (to the sender)."""
    request = await db.get(MeetingRequest, request_id)
    if request is None:
        return 0
    event = await db.get(Event, request.event_id)
    assert event is not None
    labels = await labels_of(db, (request.sender_id, request.receiver_id))
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
    people = await people_of(db, {p for m, _ in found.values() for p in (m.a_id, m.b_id)})
    subject = f"Your agenda for {event.title} has changed"
    drafts: list[Draft] = []
    for r in readers:
        lines = [f"The organisers published the agenda for {event.title}. Your meetings:"]
        for starts_at, _, m in sorted(agenda.get(r.participant_id, []), key=lambda item: item[:2]):
            other = m.b_id if m.a_id == r.participant_id else m.a_id
            partner = people.get(other) or Person(other, f"Participant {other}", "", None)
            place = f", {place_label(event, m.table)}" if m.table else ""
            lines.append(f"{local(starts_at, r.timezone)} — Meeting with {partner.label}{place}")
        if len(lines) == 1:
            lines.append("You have no meetings on the agenda at the moment.")
        text, html = render(r.name, subject, lines, event, agenda_link(event), "Your agenda")
        drafts.append(Draft(to=r.email, subject=subject, text=text, html=html, kind="agenda"))
    return await enqueue_many(db, drafts)


async def queue_reminder(db: AsyncSession, meeting: Meeting, slot: Slot, event: Event, minutes: int) -> int:
    """Queue the reminder for ``meeting`` to both participants, at most once per meeting, time and person."""
    labels = await labels_of(db, (meeting.a_id, meeting.b_id))
    count = 0
    for r in await recipients(db, (meeting.a_id, meeting.b_id), "reminders"):
        other = labels.get(meeting.b_id if r.participant_id == meeting.a_id else meeting.a_id, "your partner")
        subject = f"In {minutes} minutes: meeting with {other}"
        lines = [f"Your meeting with {other} starts at {local(slot.starts_at, r.timezone)}."]
        if place := place_label(event, meeting.table):
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
