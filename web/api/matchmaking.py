"""Matchmaking API: meeting requests, organiser matches, settings, recommendations, free slots."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import get, patch, post
from litestar.params import JSONBody, QueryParameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED
from sqlalchemy.ext.asyncio import AsyncSession

from clockevents.accounts.models import User
from clockevents.events.models import Event, Slot
from clockevents.events.services import get_visible_event
from clockevents.matchmaking import services
from clockevents.matchmaking.models import MatchmakingSettings
from clockevents.matchmaking.parties import Party
from web.auth import requires_login

TAGS = ["matchmaking"]


class MeetingRequestIn(msgspec.Struct):
    to: int | None = None
    message: str | None = None
    slot: int | None = None  # slot index; required when the event uses self-booking


class DeclineIn(msgspec.Struct):
    reason: str | None = None


class OrganiserMeetingIn(msgspec.Struct):
    a: int | None = None
    b: int | None = None
    priority: int | None = None


class PriorityIn(msgspec.Struct):
    priority: int | None = None


class SettingsPatch(msgspec.Struct):
    """Fields left out stay as they are; ``null`` removes a cap or the expiry."""

    request_mode: str | msgspec.UnsetType | None = msgspec.UNSET
    scheduling_mode: str | msgspec.UnsetType | None = msgspec.UNSET
    max_sent: int | msgspec.UnsetType | None = msgspec.UNSET
    max_received: int | msgspec.UnsetType | None = msgspec.UNSET
    expiry_hours: int | msgspec.UnsetType | None = msgspec.UNSET


class SettingsOut(msgspec.Struct):
    request_mode: str
    scheduling_mode: str
    max_sent: int | None
    max_received: int | None
    expiry_hours: int | None


class PartyOut(msgspec.Struct):
    id: int
    name: str
    organisation: str
    cluster: str | None


class SlotOut(msgspec.Struct):
    index: int
    starts_at: str
    ends_at: str


class MeetingRequestOut(msgspec.Struct):
    id: int
    sender: PartyOut
    receiver: PartyOut
    message: str
    status: str
    origin: str
    priority: int
    decline_reason: str
    created_at: str
    responded_at: str | None
    expires_at: str | None
    slot: SlotOut | None
    meeting_status: str | None
    direction: str | None
    actions: list[str]


class RecommendationOut(msgspec.Struct):
    participant: PartyOut
    score: int
    reason: str


def party_out(party: Party) -> PartyOut:
    return PartyOut(
        id=party.id, name=party.name, organisation=party.organisation, cluster=party.cluster or None
    )


def slot_out(slot: Slot) -> SlotOut:
    return SlotOut(index=slot.index, starts_at=slot.starts_at.isoformat(), ends_at=slot.ends_at.isoformat())


def request_out(row: services.RequestRow) -> MeetingRequestOut:
    r = row.request
    return MeetingRequestOut(
        id=r.id,
        sender=party_out(row.sender),
        receiver=party_out(row.receiver),
        message=r.message,
        status=r.status,
        origin=r.origin,
        priority=r.priority,
        decline_reason=r.decline_reason,
        created_at=r.created_at.isoformat(),
        responded_at=r.responded_at.isoformat() if r.responded_at else None,
        expires_at=r.expires_at.isoformat() if r.expires_at else None,
        slot=slot_out(row.slot) if row.slot else None,
        meeting_status=row.meeting_status,
        direction=row.direction,
        actions=sorted(row.actions),
    )


def settings_out(rules: MatchmakingSettings) -> SettingsOut:
    return SettingsOut(
        request_mode=rules.request_mode,
        scheduling_mode=rules.scheduling_mode,
        max_sent=rules.max_sent,
        max_received=rules.max_received,
        expiry_hours=rules.expiry_hours,
    )


def _given(data: msgspec.Struct) -> dict[str, Any]:
    """The fields the caller actually sent (UNSET left out), for partial updates."""
    return {f: getattr(data, f) for f in data.__struct_fields__ if getattr(data, f) is not msgspec.UNSET}


async def _describe(db: AsyncSession, user: User, request_id: int) -> MeetingRequestOut:
    request, event = await services.get_request(db, request_id)
    return request_out(await services.describe_request(db, event, user, request))


@post(
    "/events/{slug:str}/meeting-requests",
    operation_id="createMeetingRequest",
    tags=TAGS,
    guards=[requires_login],
    status_code=HTTP_201_CREATED,
)
async def create_request(
    slug: str, data: JSONBody[MeetingRequestIn], db: AsyncSession, user: User
) -> MeetingRequestOut:
    """Ask another participant for a meeting (with a slot index when the event uses self-booking)."""
    event = await get_visible_event(db, slug, user)
    body = {"to": data.to, "message": data.message, "slot": data.slot}
    request = await services.send_request(db, event, user, body)
    return request_out(await services.describe_request(db, event, user, request))


@get(
    "/events/{slug:str}/meeting-requests",
    operation_id="listMeetingRequests",
    tags=TAGS,
    guards=[requires_login],
)
async def list_requests(
    slug: str,
    db: AsyncSession,
    user: User,
    status: str | None = None,
    direction: str | None = None,
) -> list[MeetingRequestOut]:
    """The caller's sent and received requests; all for organisers, their cluster's for partners."""
    event = await get_visible_event(db, slug, user)
    rows = await services.list_requests(db, event, user, status=status, direction=direction)
    return [request_out(r) for r in rows]


@post(
    "/meeting-requests/{request_id:int}/accept",
    operation_id="acceptMeetingRequest",
    tags=TAGS,
    guards=[requires_login],
    status_code=HTTP_200_OK,
)
async def accept(request_id: int, db: AsyncSession, user: User) -> MeetingRequestOut:
    """The receiver accepts (a held self-booking slot becomes a scheduled meeting)."""
    await services.accept_request(db, user, request_id)
    return await _describe(db, user, request_id)


@post(
    "/meeting-requests/{request_id:int}/decline",
    operation_id="declineMeetingRequest",
    tags=TAGS,
    guards=[requires_login],
    status_code=HTTP_200_OK,
)
async def decline(
    request_id: int, db: AsyncSession, user: User, data: JSONBody[DeclineIn | None] = None
) -> MeetingRequestOut:
    """The receiver declines, with an optional reason."""
    await services.decline_request(db, user, request_id, {"reason": data.reason if data else None})
    return await _describe(db, user, request_id)


@post(
    "/meeting-requests/{request_id:int}/cancel",
    operation_id="cancelMeetingRequest",
    tags=TAGS,
    guards=[requires_login],
    status_code=HTTP_200_OK,
)
async def cancel(request_id: int, db: AsyncSession, user: User) -> MeetingRequestOut:
    """The sender (or an organiser) cancels a pending request or an accepted, unscheduled one."""
    await services.cancel_request(db, user, request_id)
    return await _describe(db, user, request_id)


@patch(
    "/meeting-requests/{request_id:int}",
    operation_id="updateMeetingRequest",
    tags=TAGS,
    guards=[requires_login],
)
async def update_request(
    request_id: int, data: JSONBody[PriorityIn], db: AsyncSession, user: User
) -> MeetingRequestOut:
    """Organisers set the priority (1..3, the scheduler's weight)."""
    await services.set_priority(db, user, request_id, {"priority": data.priority})
    return await _describe(db, user, request_id)


@post(
    "/events/{slug:str}/organiser-meetings",
    operation_id="createOrganiserMeeting",
    tags=TAGS,
    guards=[requires_login],
    status_code=HTTP_201_CREATED,
)
async def create_organiser_meeting(
    slug: str, data: JSONBody[OrganiserMeetingIn], db: AsyncSession, user: User
) -> MeetingRequestOut:
    """Organisers match two participants (accepted at once) with a priority 1..3."""
    event = await get_visible_event(db, slug, user)
    body = {"a": data.a, "b": data.b, "priority": data.priority}
    request = await services.organiser_meeting(db, event, user, body)
    return request_out(await services.describe_request(db, event, user, request))


@get(
    "/events/{slug:str}/matchmaking-settings",
    operation_id="getMatchmakingSettings",
    tags=TAGS,
    guards=[requires_login],
)
async def get_settings(slug: str, db: AsyncSession, user: User) -> SettingsOut:
    """The event's request and scheduling rules (staff)."""
    event = await get_visible_event(db, slug, user)
    return settings_out(await services.view_settings(db, event, user))


@patch(
    "/events/{slug:str}/matchmaking-settings",
    operation_id="updateMatchmakingSettings",
    tags=TAGS,
    guards=[requires_login],
)
async def update_settings(
    slug: str, data: JSONBody[SettingsPatch], db: AsyncSession, user: User
) -> SettingsOut:
    """Change the request mode, caps, expiry or scheduling mode (owner and organisers)."""
    event = await get_visible_event(db, slug, user)
    return settings_out(await services.update_settings(db, event, user, _given(data)))


@get(
    "/events/{slug:str}/recommendations",
    operation_id="listRecommendations",
    tags=TAGS,
    guards=[requires_login],
)
async def recommendations(slug: str, db: AsyncSession, user: User) -> list[RecommendationOut]:
    """The caller's top 20 people to meet, best first, each with the reason."""
    event = await get_visible_event(db, slug, user)
    ranked = await services.recommendations(db, event, user)
    return [RecommendationOut(participant=party_out(r.party), score=r.score, reason=r.reason) for r in ranked]


@get(
    "/events/{slug:str}/free-slots",
    operation_id="listFreeSlots",
    tags=TAGS,
    guards=[requires_login],
)
async def free_slots(
    slug: str,
    db: AsyncSession,
    user: User,
    with_id: int | None = QueryParameter(
        name="with", default=None, required=False, description="The other participant's id."
    ),
) -> list[SlotOut]:
    """Future slots free for both the caller and participant ``with`` (for self-booking)."""
    event: Event = await get_visible_event(db, slug, user)
    return [slot_out(s) for s in await services.free_slots_for(db, event, user, with_id)]


routes = [
    create_request,
    list_requests,
    accept,
    decline,
    cancel,
    update_request,
    create_organiser_meeting,
    get_settings,
    update_settings,
    recommendations,
    free_slots,
]
