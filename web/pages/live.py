"""Live event pages: a participant's dashboard, the meeting room and the organisers' monitor.

The pages are shells: the state arrives over the WebSocket (docs/live-protocol.md), read by the
modules in static/js/. A page hands its socket path and ids to the script in data- attributes.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.datastructures import State
from litestar.response import Redirect, Template
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from clockevents.accounts.models import User
from clockevents.errors import PermissionDenied, ValidationFailed
from clockevents.events.models import Cluster, Slot
from clockevents.live import dashboard, rooms
from clockevents.live.dashboard import EventAccess
from web.auth import requires_login
from web.forms import read_form, text
from web.live.connection import MAX_MESSAGE


@get("/events/{slug:str}/live", guards=[requires_login], include_in_schema=False)
async def live_dashboard(slug: str, db: AsyncSession, user: User) -> Template:
    """The participant's live view: current and next meeting, the partner's presence, announcements."""
    who = await dashboard.event_access(db, user, slug)
    return Template(
        "live/dashboard.html",
        context={
            "event": who.event,
            "who": who,
            "ws_path": f"/ws/events/{who.event.slug}",
        },
    )


@get("/meetings/{meeting_id:int}/room", guards=[requires_login], include_in_schema=False)
async def meeting_room(meeting_id: int, db: AsyncSession, user: User) -> Template:
    """The meeting room: presence, time left, chat, shared notes and (for the two parties) video."""
    room = await rooms.room_access(db, user, meeting_id)
    slot = await db.get(Slot, room.meeting.slot_id)
    parties = [room.parties.get(room.meeting.a_id), room.parties.get(room.meeting.b_id)]
    return Template(
        "live/room.html",
        context={
            "event": room.event,
            "room": room,
            "slot": slot,
            "parties": [p for p in parties if p is not None],
            "ws_path": f"/ws/meetings/{room.meeting.id}",
            "max_message": MAX_MESSAGE,
            "note_max": rooms.NOTE_MAX,
        },
    )


async def _clusters_for(db: AsyncSession, who: EventAccess) -> list[Cluster]:
    """The clusters the caller may address: all of them for organisers, their own for a cluster partner."""
    query = select(Cluster).where(Cluster.event_id == who.event.id).order_by(Cluster.position, Cluster.id)
    if not who.access.is_organiser:
        query = query.where(Cluster.id == who.access.cluster_id)
    return list((await db.scalars(query)).all())


async def _monitor_page(
    db: AsyncSession,
    who: EventAccess,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    notice: str = "",
    status: int = 200,
) -> Template:
    return Template(
        "live/monitor.html",
        context={
            "event": who.event,
            "access": who.access,
            "tab": "live",
            "clusters": await _clusters_for(db, who),
            "ws_path": f"/ws/events/{who.event.slug}",
            "rooms_url": f"/api/v1/events/{who.event.slug}/live/rooms",
            "announce_url": f"/api/v1/events/{who.event.slug}/announcements",
            "values": values or {},
            "errors": errors or {},
            "notice": notice,
        },
        status_code=status,
    )


async def _staff(db: AsyncSession, user: User, slug: str) -> EventAccess:
    who = await dashboard.event_access(db, user, slug)
    if not who.is_organiser:
        raise PermissionDenied("Only the event's organisers see the live monitor.")
    return who


@get("/events/{slug:str}/live/monitor", guards=[requires_login], include_in_schema=False)
async def monitor(slug: str, db: AsyncSession, user: User, sent: str | None = None) -> Template:
    """The organisers' monitor: every room of the current slot, totals, announcements."""
    who = await _staff(db, user, slug)
    return await _monitor_page(db, who, notice="Announcement sent." if sent else "")


@post("/events/{slug:str}/live/monitor/announce", guards=[requires_login], include_in_schema=False)
async def announce(
    slug: str, request: Request[Any, Any, Any], db: AsyncSession, user: User, state: State
) -> Response[Any]:
    """The announcement form without JavaScript (the monitor's script posts to the API instead)."""
    who = await _staff(db, user, slug)
    form = await read_form(request)
    values = {"text": text(form, "text"), "cluster_id": text(form, "cluster_id")}
    cluster_id: Any = values["cluster_id"] or None
    if cluster_id is not None:
        cluster_id = int(cluster_id) if cluster_id.isdigit() else cluster_id
    try:
        await dashboard.announce(state.live, db, who, {"text": values["text"], "cluster_id": cluster_id})
    except ValidationFailed as exc:
        page = await _monitor_page(db, who, values=values, errors=exc.fields, status=exc.status)
        return page  # type: ignore[return-value]
    return Redirect(f"/events/{who.event.slug}/live/monitor?sent=1", status_code=303)


routes = [live_dashboard, meeting_room, monitor, announce]
