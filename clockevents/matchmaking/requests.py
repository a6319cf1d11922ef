"""Meeting requests: send, accept, decline, cancel, organiser matches, priority, expiry.

Every rule lives here (the web layer only translates); lists and counts are in ``listing.py``,
slot holds for self-booking in ``booking.py``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from clockevents.accounts.models import User
from clockevents.db import utcnow
from clockevents.errors import Conflict, NotAuthenticated, NotFound, PermissionDenied, ValidationFailed
from clockevents.events.models import Event, Slot
from clockevents.events.permissions import access_for
from clockevents.matchmaking import booking
from clockevents.matchmaking.models import MatchmakingSettings, MeetingRequest
from clockevents.matchmaking.parties import Party, load_parties, lock_participants, own_participant
from clockevents.matchmaking.settings import load_settings, parse_optional_int
from clockevents.notify.mail import queue_request_mail
from clockevents.notify.services import notify
from clockevents.registration.models import Participant
from clockevents.registration.validation import is_id

OPEN_STATUSES = ("pending", "accepted")
ACTIVE_EVENT_STATUSES = ("open", "live")
MESSAGE_MAX = 2000
REASON_MAX = 500


def requests_url(event: Event) -> str:
    return f"/events/{event.slug}/requests"


def check_event_active(event: Event) -> None:
    if event.status not in ACTIVE_EVENT_STATUSES:
        raise Conflict("Meeting requests are possible only while the event is open or live.")


async def expire_pending(
    db: AsyncSession, now: datetime | None = None, *, event_id: int | None = None
) -> int:
    """Mark pending requests past their ``expires_at`` as expired and free their held slots.

    Called lazily before lists and answers, and from the periodic task; returns how many expired.
    """
    now = now or utcnow()
    query = select(MeetingRequest).where(
        MeetingRequest.status == "pending",
        MeetingRequest.expires_at.is_not(None),
        MeetingRequest.expires_at <= now,
    )
    if event_id is not None:
        query = query.where(MeetingRequest.event_id == event_id)
    expired = list(await db.scalars(query.with_for_update(skip_locked=True)))
    for request in expired:
        request.status = "expired"
        await booking.release_hold(db, request, "The request expired.")
    if expired:
        await db.flush()
    return len(expired)


async def approved_participant(
    db: AsyncSession, event: Event, value: Any, name: str, errors: dict[str, str]
) -> Participant | None:
    """Read the participant id in field ``name``; record a message in ``errors`` if unusable."""
    try:
        participant_id = parse_optional_int(value)
    except ValueError:
        errors[name] = "Give a participant's id (a number)."
        return None
    if participant_id is None:
        errors[name] = "Choose a participant."
        return None
    if not is_id(participant_id):  # no row has it, and PostgreSQL would refuse the number
        errors[name] = "No such participant in this event."
        return None
    participant = await db.scalar(
        select(Participant).where(Participant.id == participant_id, Participant.event_id == event.id)
    )
    if participant is None:
        errors[name] = "No such participant in this event."
        return None
    if participant.status != "approved":
        errors[name] = "This participant's registration is not approved."
        return None
    return participant


async def check_no_open_pair(db: AsyncSession, event: Event, a_id: int, b_id: int) -> None:
    existing = await db.scalar(
        select(MeetingRequest.id).where(
            MeetingRequest.event_id == event.id,
            MeetingRequest.status.in_(OPEN_STATUSES),
            or_(
                and_(MeetingRequest.sender_id == a_id, MeetingRequest.receiver_id == b_id),
                and_(MeetingRequest.sender_id == b_id, MeetingRequest.receiver_id == a_id),
            ),
        )
    )
    if existing is not None:
        raise Conflict("There is already an open meeting request between these two participants.")


async def _open_count(db: AsyncSession, column: Any, participant_id: int) -> int:
    """Requests sent or received (by ``column``) that are pending or accepted; organiser matches excluded."""
    count = await db.scalar(
        select(func.count())
        .select_from(MeetingRequest)
        .where(
            column == participant_id,
            MeetingRequest.status.in_(OPEN_STATUSES),
            MeetingRequest.origin == "participant",
        )
    )
    return count or 0


async def _check_caps(
    db: AsyncSession, rules: MatchmakingSettings, sender: Participant, receiver: Participant
) -> None:
    if (
        rules.max_sent is not None
        and await _open_count(db, MeetingRequest.sender_id, sender.id) >= rules.max_sent
    ):
        raise Conflict(
            f"You have reached this event's limit of {rules.max_sent} open meeting requests sent; "
            "cancel one or wait for answers."
        )
    if (
        rules.max_received is not None
        and await _open_count(db, MeetingRequest.receiver_id, receiver.id) >= rules.max_received
    ):
        raise Conflict(
            f"This participant has reached this event's limit of {rules.max_received} open meeting "
            "requests received; please try someone else."
        )


def _clean_text(value: Any, name: str, limit: int, errors: dict[str, str]) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        errors[name] = "Enter text."
        return ""
    value = value.strip()
    if len(value) > limit:
        errors[name] = f"Use at most {limit} characters."
    return value


async def send_request(
    db: AsyncSession, event: Event, user: User | None, data: Mapping[str, Any], now: datetime | None = None
) -> MeetingRequest:
    """Ask another participant for a meeting: ``to`` (participant id), ``message``, ``slot`` (index).

    ``slot`` is required in self-booking events (it is held for both sides until the answer) and
    refused otherwise. In "auto" events the request is accepted at once.
    """
    if user is None:
        raise NotAuthenticated()
    now = now or utcnow()
    sender = await own_participant(db, event, user)
    if sender is None:
        raise PermissionDenied("Register for this event to request meetings.")
    if sender.status != "approved":
        raise PermissionDenied("Your registration must be approved before you can request meetings.")
    check_event_active(event)
    await expire_pending(db, now, event_id=event.id)
    rules = await load_settings(db, event.id)

    errors: dict[str, str] = {}
    receiver = await approved_participant(db, event, data.get("to"), "to", errors)
    if receiver is not None and receiver.id == sender.id:
        errors["to"] = "You cannot request a meeting with yourself."
        receiver = None
    message = _clean_text(data.get("message"), "message", MESSAGE_MAX, errors)
    slot = None
    if rules.scheduling_mode == "self_booking":
        raw = data.get("slot")
        if raw is None or raw == "":
            errors["slot"] = "Choose a time slot for the meeting."
        else:
            slot = await booking.find_slot(db, event, raw)
            if slot is None:
                errors["slot"] = "No such slot in this event."
    elif data.get("slot") not in (None, ""):
        errors["slot"] = "In this event the organisers schedule the meetings; leave the slot out."
    if errors:
        raise ValidationFailed(errors)
    assert receiver is not None  # for the type checker: errors would have been raised

    await lock_participants(db, sender.id, receiver.id)
    await check_no_open_pair(db, event, sender.id, receiver.id)
    await _check_caps(db, rules, sender, receiver)
    if slot is not None:
        problem = await booking.slot_problem(db, slot, sender, receiver, now)
        if problem:
            raise Conflict(problem, {"slot": problem})

    auto = rules.request_mode == "auto"
    request = MeetingRequest(
        event_id=event.id,
        sender_id=sender.id,
        receiver_id=receiver.id,
        message=message,
        status="accepted" if auto else "pending",
        origin="participant",
        priority=1,
        responded_at=now if auto else None,
        expires_at=now + timedelta(hours=rules.expiry_hours) if rules.expiry_hours and not auto else None,
        created_by_id=user.id,
    )
    db.add(request)
    await db.flush()
    if slot is not None:
        await booking.hold_slot(db, request, slot, "scheduled" if auto else "held")
    parties = await load_parties(db, [sender.id])
    text = (
        f"{parties[sender.id].label} booked a meeting with you."
        if auto
        else f"{parties[sender.id].label} asked you for a meeting."
    )
    await notify(db, receiver.user_id, event.id, "request_received", text, requests_url(event))
    await queue_request_mail(db, request.id, "received")
    await db.flush()
    return request


async def get_request(
    db: AsyncSession, request_id: int, *, for_update: bool = False
) -> tuple[MeetingRequest, Event]:
    """Return the request and its event, or raise NotFound.

    ``for_update`` locks the row (PostgreSQL) so two answers to one request cannot both win.
    """
    request = await db.get(MeetingRequest, request_id, with_for_update=for_update or None)
    if request is None:
        raise NotFound("No such meeting request.")
    event = await db.get(Event, request.event_id)
    assert event is not None  # the foreign key guarantees it
    return request, event


async def _caller_participant_id(db: AsyncSession, event: Event, user: User | None) -> int | None:
    if user is None:
        raise NotAuthenticated()
    participant = await own_participant(db, event, user)
    return participant.id if participant else None


async def _answerable(
    db: AsyncSession, user: User | None, request_id: int, now: datetime
) -> tuple[MeetingRequest, Event]:
    """The pending request addressed to the caller (403 for anyone else, 409 if not pending)."""
    request, event = await get_request(db, request_id, for_update=True)
    me = await _caller_participant_id(db, event, user)
    await expire_pending(db, now, event_id=event.id)
    await db.refresh(request)
    if me != request.receiver_id:
        raise PermissionDenied("Only the person asked may answer this request.")
    if request.status == "expired":
        raise Conflict("This request has expired.")
    if request.status != "pending":
        raise Conflict(f"This request is already {request.status}.")
    return request, event


async def accept_request(
    db: AsyncSession, user: User | None, request_id: int, now: datetime | None = None
) -> MeetingRequest:
    """The receiver accepts: a held slot becomes a scheduled meeting; the sender is told."""
    now = now or utcnow()
    request, event = await _answerable(db, user, request_id, now)
    check_event_active(event)
    request.status = "accepted"
    request.responded_at = now
    await booking.confirm_hold(db, request)
    parties = await load_parties(db, [request.sender_id, request.receiver_id])
    await notify(
        db,
        parties[request.sender_id].user_id,
        event.id,
        "request_accepted",
        f"{parties[request.receiver_id].label} accepted your meeting request.",
        requests_url(event),
    )
    await queue_request_mail(db, request.id, "accepted")
    await db.flush()
    return request


async def decline_request(
    db: AsyncSession, user: User | None, request_id: int, data: Mapping[str, Any], now: datetime | None = None
) -> MeetingRequest:
    """The receiver declines, with an optional ``reason``; a held slot is freed; the sender is told."""
    now = now or utcnow()
    errors: dict[str, str] = {}
    reason = _clean_text(data.get("reason"), "reason", REASON_MAX, errors)
    request, event = await _answerable(db, user, request_id, now)
    if errors:
        raise ValidationFailed(errors)
    request.status = "declined"
    request.decline_reason = reason
    request.responded_at = now
    await booking.release_hold(db, request, "The request was declined.")
    parties = await load_parties(db, [request.sender_id, request.receiver_id])
    text = f"{parties[request.receiver_id].label} declined your meeting request."
    if reason:
        text += f" Reason: {reason}"
    await notify(
        db, parties[request.sender_id].user_id, event.id, "request_declined", text, requests_url(event)
    )
    await queue_request_mail(db, request.id, "declined")
    await db.flush()
    return request


async def cancel_request(
    db: AsyncSession, user: User | None, request_id: int, now: datetime | None = None
) -> MeetingRequest:
    """The sender (or an organiser) withdraws a pending request or an accepted one not yet scheduled."""
    now = now or utcnow()
    request, event = await get_request(db, request_id, for_update=True)
    me = await _caller_participant_id(db, event, user)
    if me != request.sender_id and not (await access_for(db, event, user)).is_organiser:
        raise PermissionDenied("Only the sender or the organisers may cancel this request.")
    await expire_pending(db, now, event_id=event.id)
    await db.refresh(request)
    if request.status not in OPEN_STATUSES:
        raise Conflict(f"This request is already {request.status}.")
    meeting = (await booking.live_meetings(db, [request.id])).get(request.id)
    if request.status == "accepted" and meeting is not None and meeting.status == "scheduled":
        raise Conflict("This meeting is already on the agenda; ask the organisers to cancel it there.")
    request.status = "cancelled"
    request.responded_at = request.responded_at or now
    await booking.release_hold(db, request, "The request was cancelled.")
    parties = await load_parties(db, [request.sender_id, request.receiver_id])
    await notify(
        db,
        parties[request.receiver_id].user_id,
        event.id,
        "request_cancelled",
        f"{parties[request.sender_id].label} withdrew a meeting request.",
        requests_url(event),
    )
    await db.flush()
    return request


@dataclass(frozen=True)
class RequestDraft:
    """What the "Request a meeting" form needs: who, whether to pick a slot, and which slots."""

    other: Party
    self_booking: bool
    slots: list[Slot]


async def prepare_request(db: AsyncSession, event: Event, user: User | None, other_id: int) -> RequestDraft:
    """Check the caller may ask ``other_id`` for a meeting and list the slots free for both."""
    if user is None:
        raise NotAuthenticated()
    me = await own_participant(db, event, user)
    if me is None:
        raise PermissionDenied("Register for this event to request meetings.")
    other = await db.scalar(
        select(Participant).where(Participant.id == other_id, Participant.event_id == event.id)
    )
    if other is None or other.status != "approved":
        raise NotFound("No such participant in this event.")
    if other.id == me.id:
        raise ValidationFailed({"to": "You cannot request a meeting with yourself."})
    rules = await load_settings(db, event.id)
    self_booking = rules.scheduling_mode == "self_booking"
    slots = await booking.free_slots(db, event, me, other) if self_booking else []
    return RequestDraft((await load_parties(db, [other.id]))[other.id], self_booking, slots)
