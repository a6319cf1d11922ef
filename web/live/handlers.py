"""WebSocket endpoints of the live event: the event channel and the meeting rooms."""

from __future__ import annotations

import asyncio
import functools
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from litestar import WebSocket, websocket
from sqlalchemy.ext.asyncio import AsyncSession

from clockevents.accounts.models import User
from clockevents.errors import NotAuthenticated, NotFound, PermissionDenied, ValidationFailed
from clockevents.live import dashboard, rooms
from clockevents.live.hub import LiveHub
from clockevents.live.keeper import AttendanceKeeper
from web.live.connection import (
    CLOSE_FORBIDDEN,
    CLOSE_NOT_FOUND,
    CLOSE_NOT_LOGGED_IN,
    CLOSE_TOO_MANY,
    LiveConnection,
    origin_allowed,
)
from web.live.fanout import Fanout

_CLOSE_FOR = {
    NotAuthenticated: CLOSE_NOT_LOGGED_IN,
    PermissionDenied: CLOSE_FORBIDDEN,
    NotFound: CLOSE_NOT_FOUND,
}
_pending: set[asyncio.Task[None]] = set()  # grace-period timers, kept alive until they run
T = TypeVar("T")

# One person's live sockets in one worker: tabs, rooms and the monitor come to a few; more is a
# script holding the worker's memory (each socket keeps its buffers and state).
MAX_SOCKETS_PER_USER = 20
TOO_MANY = "Too many live connections open: close some tabs and try again."


class SocketCount:
    """How many live sockets each user holds in this worker (a limit on this worker's memory,
    so this worker's own count)."""

    def __init__(self, limit: int = MAX_SOCKETS_PER_USER) -> None:
        self.limit = limit
        self.held: Counter[int] = Counter()

    def take(self, user_id: int) -> bool:
        if self.held[user_id] >= self.limit:
            return False
        self.held[user_id] += 1
        return True

    def release(self, user_id: int) -> None:
        self.held[user_id] -= 1
        if self.held[user_id] <= 0:
            del self.held[user_id]


def counted(handler: Callable[..., Awaitable[None]]) -> Callable[..., Awaitable[None]]:
    """Serve a live endpoint only while its user holds fewer than ``MAX_SOCKETS_PER_USER`` sockets
    here; past that the socket is closed with 4429. Anonymous sockets go on (and are refused)."""

    @functools.wraps(handler)
    async def serve(socket: WebSocket, **kwargs: Any) -> None:
        user = socket.scope.get("user")
        if user is None:
            await handler(socket, **kwargs)
            return
        sockets: SocketCount = socket.app.state.live_sockets
        if not sockets.take(user.id):
            await socket.accept()
            await _refuse(socket, CLOSE_TOO_MANY, TOO_MANY)
            return
        try:
            await handler(socket, **kwargs)
        finally:
            sockets.release(user.id)

    return serve


def _hub(socket: WebSocket) -> LiveHub:
    return socket.app.state.live  # type: ignore[no-any-return]


def _fanout(socket: WebSocket) -> Fanout:
    return socket.app.state.fanout  # type: ignore[no-any-return]


def _keeper(socket: WebSocket) -> AttendanceKeeper:
    return socket.app.state.keeper  # type: ignore[no-any-return]


async def _refuse(socket: WebSocket, code: int, reason: str) -> None:
    await socket.close(code=code, reason=reason)


async def _admit(socket: WebSocket) -> bool:
    """Accept, then close at once with 4401 / 4403 for the anonymous and foreign origins."""
    await socket.accept()
    if socket.scope.get("user") is None:
        await _refuse(socket, CLOSE_NOT_LOGGED_IN, "Please log in.")
        return False
    if not origin_allowed(socket, socket.app.state.settings.base_url):
        await _refuse(socket, CLOSE_FORBIDDEN, "Cross-site connection refused.")
        return False
    return True


async def enter(socket: WebSocket, access: Callable[[AsyncSession, User | None], Awaitable[T]]) -> T | None:
    """Accept the socket and run the service's admission check; refuse with the matching code."""
    if not await _admit(socket):
        return None
    try:
        async with socket.app.state.session_factory() as db:
            return await access(db, socket.scope.get("user"))  # type: ignore[arg-type]
    except (NotAuthenticated, PermissionDenied, NotFound) as exc:
        await _refuse(socket, _CLOSE_FOR[type(exc)], exc.message)
        return None


def _after(socket: WebSocket) -> int | None:
    raw = socket.query_params.get("after")
    if raw is None or raw == "":
        return None
    try:
        value = int(raw)
    except ValueError:
        return None
    return max(0, min(value, 2**62))


@websocket("/ws/meetings/{meeting_id:int}", name="ws-meeting-room")
@counted
async def meeting_room(socket: WebSocket, meeting_id: int) -> None:
    room = await enter(socket, lambda db, user: rooms.room_access(db, user, meeting_id))
    if room is None:
        return
    hub, factory = _hub(socket), socket.app.state.session_factory
    conn = LiveConnection(socket, hub, _fanout(socket), room.channel)
    ice_servers: list[dict[str, Any]] = list(socket.app.state.settings.ice_servers)

    async def chat(data: dict[str, Any]) -> None:
        await rooms.post_chat(hub, room, data)

    async def note(data: dict[str, Any]) -> None:
        async with factory() as db:
            await rooms.save_note(hub, db, room, data)

    async def signal(data: dict[str, Any]) -> None:
        payload = data.get("data")
        if not isinstance(payload, dict):
            raise ValidationFailed({"data": "A signal carries an object in data."})
        who = room.who
        hub.publish(
            room.channel,
            {
                "type": "signal",
                "ephemeral": True,
                "conn": conn.conn_id,
                "from": {
                    "participant_id": who["participant_id"],
                    "user_id": who["user_id"],
                    "role": who["role"],
                },
                "data": payload,
            },
        )

    conn.handlers.update(chat=chat, note=note, signal=signal)
    conn.direct["chat"] = rooms.chat_poster(hub, room)

    async def snapshot() -> dict[str, Any]:
        async with factory() as db:
            return await rooms.snapshot(hub, db, room, ice_servers)

    await conn.start(_after(socket), snapshot)
    async with factory() as db:
        attendance_id = await rooms.enter(hub, db, room)
    keeper = _keeper(socket)
    keeper.hold(attendance_id)
    try:
        await conn.run()
    finally:
        keeper.release(attendance_id)
        dropped = conn.close_code not in (1000, 1001)
        async with factory() as db:
            confirm = await rooms.leave(hub, db, room, attendance_id, dropped=dropped)
        if confirm:
            task = asyncio.create_task(_confirm_left_later(hub, factory, room, attendance_id))
            _pending.add(task)
            task.add_done_callback(_pending.discard)


async def _confirm_left_later(hub: LiveHub, factory: Any, room: rooms.RoomAccess, attendance_id: int) -> None:
    await asyncio.sleep(rooms.RECONNECT_GRACE.total_seconds())
    async with factory() as db:
        await rooms.confirm_left(hub, db, room, attendance_id)


@websocket("/ws/events/{slug:str}", name="ws-event")
@counted
async def event_channel(socket: WebSocket, slug: str) -> None:
    who = await enter(socket, lambda db, user: dashboard.event_access(db, user, slug))
    if who is None:
        return
    hub, factory = _hub(socket), socket.app.state.session_factory
    conn = LiveConnection(socket, hub, _fanout(socket), who.channel, sees=who.sees, present=dashboard.strip)

    async def announce(data: dict[str, Any]) -> None:
        async with factory() as db:
            await dashboard.announce(hub, db, who, data)

    conn.handlers.update(announce=announce)

    async def snapshot() -> dict[str, Any]:
        async with factory() as db:
            return await dashboard.snapshot(hub, db, who)

    await conn.start(_after(socket), snapshot)
    await conn.run()


routes = [meeting_room, event_channel]
