"""Lists of meeting requests as each viewer may see them, with what they may do to each."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import Select

from clockevents.accounts.models import User
from clockevents.db import utcnow
from clockevents.errors import NotAuthenticated, PermissionDenied, ValidationFailed
from clockevents.events.models import Event, Slot
from clockevents.events.permissions import Access, access_for, require_staff
from clockevents.matchmaking import booking
from clockevents.matchmaking.models import REQUEST_STATUSES, MeetingRequest
from clockevents.matchmaking.parties import Party, load_parties, own_participant
from clockevents.matchmaking.requests import expire_pending
from clockevents.registration.models import Participant

DIRECTIONS = ("sent", "received")


@dataclass(frozen=True)
class RequestRow:
    """One request as a viewer sees it: both sides, its slot, and the actions open to the viewer."""

    request: MeetingRequest
    sender: Party
    receiver: Party
    slot: Slot | None
    meeting_status: str | None  # "held" | "scheduled" | None
    direction: str | None  # "sent" | "received" for the viewer's own requests
    actions: frozenset[str]  # among "accept", "decline", "cancel", "priority"


def _check_filters(status: str | None, direction: str | None) -> None:
    errors: dict[str, str] = {}
    if status and status not in REQUEST_STATUSES:
        errors["status"] = f"Choose a status: {', '.join(REQUEST_STATUSES)}."
    if direction and direction not in DIRECTIONS:
        errors["direction"] = "Choose 'sent' or 'received'."
    if errors:
        raise ValidationFailed(errors)


def _scope(
    query: Select[tuple[MeetingRequest]], access: Access, me: int | None, direction: str | None
) -> Select[tuple[MeetingRequest]]:
    """Own requests for participants (or with a direction); all or one cluster's for staff."""
    if direction == "sent":
        return query.where(MeetingRequest.sender_id == (me or -1))
    if direction == "received":
        return query.where(MeetingRequest.receiver_id == (me or -1))
    if access.is_organiser:
        return query
    if access.role == "cluster_partner":
        in_cluster = select(Participant.id).where(Participant.cluster_id == access.cluster_id)
        conditions = [MeetingRequest.sender_id.in_(in_cluster), MeetingRequest.receiver_id.in_(in_cluster)]
        if me is not None:
            conditions += [MeetingRequest.sender_id == me, MeetingRequest.receiver_id == me]
        return query.where(or_(*conditions))
    return query.where(or_(MeetingRequest.sender_id == me, MeetingRequest.receiver_id == me))


async def list_requests(
    db: AsyncSession,
    event: Event,
    user: User | None,
    *,
    status: str | None = None,
    direction: str | None = None,
    now: datetime | None = None,
) -> list[RequestRow]:
    """The caller's sent and received requests; all for organisers, their cluster's for partners.

    ``direction`` ("sent"/"received") always narrows to the caller's own requests.
    """
    if user is None:
        raise NotAuthenticated()
    _check_filters(status, direction)
    access = await access_for(db, event, user)
    mine = await own_participant(db, event, user)
    me = mine.id if mine else None
    if me is None and not access.is_staff:
        raise PermissionDenied("Only this event's participants and organisers see its meeting requests.")
    await expire_pending(db, now or utcnow(), event_id=event.id)
    query = _scope(select(MeetingRequest).where(MeetingRequest.event_id == event.id), access, me, direction)
    if status:
        query = query.where(MeetingRequest.status == status)
    requests = list(
        await db.scalars(query.order_by(MeetingRequest.created_at.desc(), MeetingRequest.id.desc()))
    )
    return await _rows(db, requests, access, me)


async def _rows(
    db: AsyncSession, requests: list[MeetingRequest], access: Access, me: int | None
) -> list[RequestRow]:
    parties = await load_parties(db, [r.sender_id for r in requests] + [r.receiver_id for r in requests])
    meetings = await booking.live_meetings(db, [r.id for r in requests])
    slot_ids = {m.slot_id for m in meetings.values() if m.slot_id is not None}
    slots = {s.id: s for s in await db.scalars(select(Slot).where(Slot.id.in_(slot_ids)))} if slot_ids else {}
    rows = []
    for r in requests:
        meeting = meetings.get(r.id)
        actions: set[str] = set()
        if r.status == "pending" and r.receiver_id == me:
            actions |= {"accept", "decline"}
        scheduled = meeting is not None and meeting.status == "scheduled"
        if (r.status == "pending" or (r.status == "accepted" and not scheduled)) and (
            r.sender_id == me or access.is_organiser
        ):
            actions.add("cancel")
        if access.is_organiser:
            actions.add("priority")
        direction = "sent" if r.sender_id == me else "received" if r.receiver_id == me else None
        rows.append(
            RequestRow(
                request=r,
                sender=parties[r.sender_id],
                receiver=parties[r.receiver_id],
                slot=slots.get(meeting.slot_id) if meeting and meeting.slot_id else None,
                meeting_status=meeting.status if meeting else None,
                direction=direction,
                actions=frozenset(actions),
            )
        )
    return rows


async def request_counts(db: AsyncSession, event: Event, user: User | None) -> dict[str, int]:
    """How many of the event's requests are in each status (staff; partners their cluster's)."""
    access = await require_staff(db, event, user)
    await expire_pending(db, utcnow(), event_id=event.id)
    query = _scope(select(MeetingRequest).where(MeetingRequest.event_id == event.id), access, None, None)
    sub = query.subquery()
    rows = await db.execute(select(sub.c.status, func.count()).group_by(sub.c.status))
    counts: Counter[str] = Counter({s: 0 for s in REQUEST_STATUSES})
    for status, count in rows:
        counts[status] = count
    return {s: counts[s] for s in REQUEST_STATUSES}


async def describe_request(
    db: AsyncSession, event: Event, user: User | None, request: MeetingRequest
) -> RequestRow:
    """One request as the caller sees it (after they sent, answered or changed it)."""
    access = await access_for(db, event, user)
    mine = await own_participant(db, event, user)
    return (await _rows(db, [request], access, mine.id if mine else None))[0]
