"""Matchmaking settings and requests for tests, written through the services where a rule applies."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from clockevents.events.models import Event
from clockevents.matchmaking.models import MatchmakingSettings, MeetingRequest
from clockevents.registration.models import Participant


async def set_matchmaking(db: AsyncSession, event: Event, **values: Any) -> MatchmakingSettings:
    """Store the event's matchmaking settings (request_mode, scheduling_mode, max_sent, ...)."""
    row = await db.get(MatchmakingSettings, event.id)
    if row is None:
        row = MatchmakingSettings(event_id=event.id)
        db.add(row)
    for name, value in values.items():
        setattr(row, name, value)
    await db.commit()
    return row


async def make_request(
    db: AsyncSession,
    sender: Participant,
    receiver: Participant,
    *,
    status: str = "pending",
    origin: str = "participant",
    priority: int = 1,
    message: str = "Shall we meet?",
) -> MeetingRequest:
    """A request row as the service would leave it (no rules checked: arrange states directly)."""
    request = MeetingRequest(
        event_id=sender.event_id,
        sender_id=sender.id,
        receiver_id=receiver.id,
        message=message,
        status=status,
        origin=origin,
        priority=priority,
    )
    db.add(request)
    await db.commit()
    return request
