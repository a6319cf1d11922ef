"""What organisers do with requests: match two participants, set the scheduler's priority."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from clockevents.accounts.models import User
from clockevents.db import utcnow
from clockevents.errors import ValidationFailed
from clockevents.events.models import Event
from clockevents.events.permissions import require_organiser
from clockevents.matchmaking import booking
from clockevents.matchmaking.models import MeetingRequest
from clockevents.matchmaking.parties import load_parties, lock_participants
from clockevents.matchmaking.requests import (
    approved_participant,
    check_event_active,
    check_no_open_pair,
    expire_pending,
    get_request,
    requests_url,
)
from clockevents.matchmaking.settings import parse_optional_int
from clockevents.notify.services import notify

PRIORITIES = (1, 2, 3)


def _clean_priority(value: Any, errors: dict[str, str], default: int | None) -> int:
    try:
        priority = parse_optional_int(value)
    except ValueError:
        priority = 0
    if priority is None and default is not None:
        return default
    if priority not in PRIORITIES:
        errors["priority"] = "Choose a priority of 1, 2 or 3."
        return default or 1
    return priority


async def organiser_meeting(
    db: AsyncSession, event: Event, user: User | None, data: Mapping[str, Any], now: datetime | None = None
) -> MeetingRequest:
    """An organiser matches ``a`` and ``b`` (accepted at once) with ``priority`` 1..3 (default 1)."""
    await require_organiser(db, event, user)
    assert user is not None
    now = now or utcnow()
    errors: dict[str, str] = {}
    a = await approved_participant(db, event, data.get("a"), "a", errors)
    b = await approved_participant(db, event, data.get("b"), "b", errors)
    if a is not None and b is not None and a.id == b.id:
        errors["b"] = "Choose two different participants."
    priority = _clean_priority(data.get("priority"), errors, default=1)
    if errors:
        raise ValidationFailed(errors)
    assert a is not None and b is not None
    check_event_active(event)
    await expire_pending(db, now, event_id=event.id)
    await lock_participants(db, a.id, b.id)
    await check_no_open_pair(db, event, a.id, b.id)
    request = MeetingRequest(
        event_id=event.id,
        sender_id=a.id,
        receiver_id=b.id,
        status="accepted",
        origin="organiser",
        priority=priority,
        responded_at=now,
        created_by_id=user.id,
    )
    db.add(request)
    await db.flush()
    parties = await load_parties(db, [a.id, b.id])
    for me, other in ((a.id, b.id), (b.id, a.id)):
        await notify(
            db,
            parties[me].user_id,
            event.id,
            "organiser_match",
            f"The organisers matched you with {parties[other].label}.",
            requests_url(event),
        )
    await db.flush()
    return request


async def set_priority(
    db: AsyncSession, user: User | None, request_id: int, data: Mapping[str, Any]
) -> MeetingRequest:
    """Organisers change a request's ``priority`` (the scheduler's weight, 1..3)."""
    request, event = await get_request(db, request_id)
    await require_organiser(db, event, user)
    errors: dict[str, str] = {}
    if data.get("priority") in (None, ""):
        errors["priority"] = "Choose a priority of 1, 2 or 3."
    priority = _clean_priority(data.get("priority"), errors, default=None)
    if errors:
        raise ValidationFailed(errors)
    request.priority = priority
    meeting = (await booking.live_meetings(db, [request.id])).get(request.id)
    if meeting is not None:
        meeting.weight = priority
    await db.flush()
    return request
