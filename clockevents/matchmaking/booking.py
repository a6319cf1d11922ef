"""Self-booking: hold a slot free for both sides, confirm it on accept, release it otherwise.

The friendly checks here only explain the usual case; the unique (participant, slot) constraint
on meeting seats is what makes a double booking impossible when requests race.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import uuid4

from sqlalchemy import delete, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from clockevents.accounts.models import User
from clockevents.agenda.models import Meeting, MeetingSeat
from clockevents.db import utcnow
from clockevents.errors import Conflict, NotAuthenticated, NotFound, PermissionDenied, ValidationFailed
from clockevents.events.models import Event, Slot
from clockevents.live.workshops import blocked_slots
from clockevents.matchmaking.models import MeetingRequest
from clockevents.matchmaking.parties import own_participant
from clockevents.notify.mail import send_meeting_mail
from clockevents.registration.models import Participant
from clockevents.registration.validation import MAX_ID, is_id

SLOT_TAKEN = "That slot was just taken; please pick another one."


def new_uid() -> str:
    """A calendar UID for a new meeting: stable for its life and never reused."""
    return f"meeting-{uuid4()}@clockevents"


async def free_slots(
    db: AsyncSession, event: Event, a: Participant, b: Participant, now: datetime | None = None
) -> list[Slot]:
    """The event's future slots where neither ``a`` nor ``b`` has a seat, a workshop or is unavailable."""
    now = now or utcnow()
    busy = set(
        await db.scalars(select(MeetingSeat.slot_id).where(MeetingSeat.participant_id.in_((a.id, b.id))))
    )
    for slot_ids in (await blocked_slots(db, [a.id, b.id])).values():
        busy |= slot_ids  # workshops they attend or present
    unavailable = set(a.unavailable_slots or []) | set(b.unavailable_slots or [])
    slots = await db.scalars(
        select(Slot).where(Slot.event_id == event.id, Slot.starts_at > now).order_by(Slot.index)
    )
    return [s for s in slots if s.id not in busy and s.index not in unavailable]


async def find_slot(db: AsyncSession, event: Event, value: Any) -> Slot | None:
    """The event's slot with index ``value`` (a number or its text), or None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if not isinstance(value, int) or not 0 <= value <= MAX_ID:  # PostgreSQL refuses wider numbers
        return None
    return await db.scalar(select(Slot).where(Slot.event_id == event.id, Slot.index == value))


async def slot_problem(
    db: AsyncSession, slot: Slot, sender: Participant, receiver: Participant, now: datetime | None = None
) -> str | None:
    """Why ``slot`` cannot be booked for these two, or None when it looks free."""
    if slot.starts_at <= (now or utcnow()):
        return "That slot has already started."
    if slot.index in (sender.unavailable_slots or []):
        return "You marked yourself unavailable in that slot."
    if slot.index in (receiver.unavailable_slots or []):
        return "They are not available in that slot."
    taken = await db.scalar(
        select(MeetingSeat.participant_id).where(
            MeetingSeat.slot_id == slot.id, MeetingSeat.participant_id.in_((sender.id, receiver.id))
        )
    )
    if taken == sender.id:
        return "You already have a meeting in that slot."
    if taken is not None:
        return "They already have a meeting in that slot."
    in_workshops = await blocked_slots(db, [sender.id, receiver.id])
    if slot.id in in_workshops.get(sender.id, ()):
        return "You are in a workshop in that slot."
    if slot.id in in_workshops.get(receiver.id, ()):
        return "They are in a workshop in that slot."
    return None


async def hold_slot(db: AsyncSession, request: MeetingRequest, slot: Slot, status: str) -> Meeting:
    """Create the request's meeting in ``slot`` with both seats ("held" or "scheduled").

    A lost race surfaces as the seat constraint's IntegrityError: the whole transaction is rolled
    back (no half-written request) and the caller gets Conflict.
    """
    meeting = Meeting(
        event_id=request.event_id,
        request_id=request.id,
        a_id=request.sender_id,
        b_id=request.receiver_id,
        slot_id=slot.id,
        status=status,
        weight=request.priority,
        uid=new_uid(),
    )
    db.add(meeting)
    try:
        await db.flush()
        db.add_all(
            [
                MeetingSeat(meeting_id=meeting.id, participant_id=request.sender_id, slot_id=slot.id),
                MeetingSeat(meeting_id=meeting.id, participant_id=request.receiver_id, slot_id=slot.id),
            ]
        )
        await db.flush()
    except IntegrityError as exc:
        await db.rollback()
        raise Conflict(SLOT_TAKEN, {"slot": SLOT_TAKEN}) from exc
    request.held_slot_id = slot.id
    if status == "scheduled":
        await _put_on_agenda(db, meeting)
    return meeting


async def _put_on_agenda(db: AsyncSession, meeting: Meeting) -> None:
    """A confirmed self-booking is on both agendas at once: into the feeds, and invite both."""
    meeting.published_at = utcnow()
    await db.flush()
    await send_meeting_mail(db, meeting, "scheduled", [meeting.a_id, meeting.b_id])


async def live_meetings(db: AsyncSession, request_ids: list[int]) -> dict[int, Meeting]:
    """The held or scheduled meeting of each request that has one."""
    if not request_ids:
        return {}
    result = await db.scalars(
        select(Meeting).where(
            Meeting.request_id.in_(request_ids), or_(Meeting.status == "held", Meeting.status == "scheduled")
        )
    )
    return {m.request_id: m for m in result if m.request_id is not None}


async def confirm_hold(db: AsyncSession, request: MeetingRequest) -> Meeting | None:
    """Turn the request's held meeting into a scheduled one (on accept)."""
    meeting = (await live_meetings(db, [request.id])).get(request.id)
    if meeting is not None and meeting.status == "held":
        meeting.status = "scheduled"
        meeting.sequence += 1
        await _put_on_agenda(db, meeting)
    return meeting


async def release_hold(db: AsyncSession, request: MeetingRequest, reason: str) -> None:
    """Cancel the request's held meeting and free both seats (decline, cancel, expiry)."""
    meeting = (await live_meetings(db, [request.id])).get(request.id)
    if meeting is None:
        return
    await db.execute(delete(MeetingSeat).where(MeetingSeat.meeting_id == meeting.id))
    meeting.status = "cancelled"
    meeting.cancelled_at = utcnow()
    meeting.cancel_reason = reason
    meeting.sequence += 1
    request.held_slot_id = None


async def free_slots_for(
    db: AsyncSession, event: Event, user: User | None, other_id: int | None
) -> list[Slot]:
    """Slots free for both the caller and participant ``other_id`` (the self-booking picker)."""
    if user is None:
        raise NotAuthenticated()
    if other_id is None:
        raise ValidationFailed({"with": "Say whom you want to meet (a participant id)."})
    me = await own_participant(db, event, user)
    if me is None:
        raise PermissionDenied("Register for this event to book meetings.")
    other = None
    if is_id(other_id):  # PostgreSQL refuses ids past 32 bits: no such participant either way
        other = await db.scalar(
            select(Participant).where(Participant.id == other_id, Participant.event_id == event.id)
        )
    if other is None:
        raise NotFound("No such participant in this event.")
    if other.id == me.id:
        raise ValidationFailed({"with": "You cannot book a meeting with yourself."})
    return await free_slots(db, event, me, other)
