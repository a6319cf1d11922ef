"""Accepted requests and placed meetings for agenda tests (models, as the services write them)."""

from __future__ import annotations

from uuid import uuid4

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from clockevents.agenda.models import Meeting, MeetingSeat, TableBooking
from clockevents.db import utcnow
from clockevents.events.models import Event, Slot
from clockevents.matchmaking.models import MeetingRequest
from clockevents.registration.models import Participant


async def make_request(
    db: AsyncSession,
    sender: Participant,
    receiver: Participant,
    *,
    status: str = "accepted",
    priority: int = 1,
) -> MeetingRequest:
    request = MeetingRequest(
        event_id=sender.event_id,
        sender_id=sender.id,
        receiver_id=receiver.id,
        status=status,
        priority=priority,
        responded_at=utcnow() if status != "pending" else None,
    )
    db.add(request)
    await db.commit()
    return request


async def slot_at(db: AsyncSession, event: Event, index: int) -> Slot:
    slot = await db.scalar(select(Slot).where(Slot.event_id == event.id, Slot.index == index))
    assert slot is not None, f"event {event.slug} has no slot {index}"
    return slot


async def make_meeting(
    db: AsyncSession,
    request: MeetingRequest,
    slot: Slot,
    *,
    table: int | None = 1,
    status: str = "scheduled",
    published: bool = True,
) -> Meeting:
    """A meeting in ``slot`` with its seats (and table booking when it has a table)."""
    meeting = Meeting(
        event_id=request.event_id,
        request_id=request.id,
        a_id=request.sender_id,
        b_id=request.receiver_id,
        slot_id=slot.id,
        table=table,
        status=status,
        weight=request.priority,
        uid=f"meeting-{uuid4()}@clockevents",
        published_at=utcnow() if published else None,
    )
    db.add(meeting)
    await db.flush()
    db.add_all(
        [
            MeetingSeat(meeting_id=meeting.id, participant_id=request.sender_id, slot_id=slot.id),
            MeetingSeat(meeting_id=meeting.id, participant_id=request.receiver_id, slot_id=slot.id),
        ]
    )
    if table is not None:
        db.add(TableBooking(meeting_id=meeting.id, slot_id=slot.id, table=table))
    await db.commit()
    return meeting
