"""Live event API: the monitor's rooms, announcements, and a meeting's attendance."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request, get, post
from litestar.params import JSONBody
from litestar.status_codes import HTTP_201_CREATED
from sqlalchemy.ext.asyncio import AsyncSession

from clockevents.accounts.models import User
from clockevents.agenda.changes import load_meeting
from clockevents.events.services import get_visible_event
from clockevents.live import dashboard
from clockevents.live.attendance import summary
from clockevents.live.messages import iso
from web.auth import requires_login

TAGS = ["live"]


class AnnouncementIn(msgspec.Struct):
    text: Any = None
    cluster_id: Any = None  # null: everyone; a cluster id: that cluster's participants


@get(
    "/events/{slug:str}/live/rooms",
    operation_id="listLiveRooms",
    tags=TAGS,
    guards=[requires_login],
)
async def live_rooms(slug: str, db: AsyncSession, user: User) -> dict[str, Any]:
    """Every room of the current slot (else the next one) with its state, and totals (organisers)."""
    event = await get_visible_event(db, slug, user)
    return await dashboard.monitor(db, event, user)


@post(
    "/events/{slug:str}/announcements",
    operation_id="postAnnouncement",
    tags=TAGS,
    guards=[requires_login],
    status_code=HTTP_201_CREATED,
)
async def post_announcement(
    slug: str, data: JSONBody[AnnouncementIn], db: AsyncSession, user: User, request: Request[Any, Any, Any]
) -> dict[str, Any]:
    """Announce to everyone at the event, or to one cluster's participants; returns the stored message."""
    who = await dashboard.event_access(db, user, slug)
    return await dashboard.announce(
        request.app.state.live, db, who, {"text": data.text, "cluster_id": data.cluster_id}
    )


@get(
    "/meetings/{meeting_id:int}/attendance",
    operation_id="getMeetingAttendance",
    tags=TAGS,
    guards=[requires_login],
)
async def attendance(meeting_id: int, db: AsyncSession, user: User) -> dict[str, Any]:
    """Per party: first arrival and time in the room; the time both were there, and whether it was held."""
    context = await load_meeting(db, meeting_id, user)
    found = await summary(db, meeting_id)
    assert found is not None  # load_meeting found the meeting
    parties = []
    for party in (context.a, context.b):
        first = found.first_join.get(party.id)
        parties.append(
            {
                "participant_id": party.id,
                "first_join": iso(first) if first else None,
                "present_seconds": round(found.present_seconds.get(party.id, 0.0)),
            }
        )
    return {
        "meeting_id": meeting_id,
        "parties": parties,
        "together_seconds": round(found.together_seconds),
        "held": found.held,
    }


routes = [live_rooms, post_announcement, attendance]
