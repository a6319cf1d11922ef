"""WebSocket endpoint of a workshop room: chat, questions, upvotes and "answered" marks."""

from __future__ import annotations

from typing import Any

from litestar import WebSocket, websocket

from clockevents.live import workshop_room as room_service
from web.live.connection import LiveConnection
from web.live.handlers import _after, _fanout, _hub, _keeper, counted, enter


@websocket("/ws/workshops/{workshop_id:int}", name="ws-workshop-room")
@counted
async def workshop_room(socket: WebSocket, workshop_id: int) -> None:
    room = await enter(socket, lambda db, user: room_service.workshop_access(db, user, workshop_id))
    if room is None:
        return
    hub, factory = _hub(socket), socket.app.state.session_factory
    conn = LiveConnection(socket, hub, _fanout(socket), room.channel)

    async def chat(data: dict[str, Any]) -> None:
        await room_service.post_chat(hub, room, data)

    async def question(data: dict[str, Any]) -> None:
        async with factory() as db:
            await room_service.ask(hub, db, room, data)

    async def vote(data: dict[str, Any]) -> None:
        async with factory() as db:
            await room_service.vote(hub, db, room, data)

    async def answered(data: dict[str, Any]) -> None:
        async with factory() as db:
            await room_service.mark_answered(hub, db, room, data)

    conn.handlers.update(chat=chat, question=question, vote=vote, answered=answered)

    async def snapshot() -> dict[str, Any]:
        async with factory() as db:
            return await room_service.snapshot(hub, db, room)

    await conn.start(_after(socket), snapshot)
    async with factory() as db:
        lease_id = await room_service.arrive(hub, db, room)
    keeper = _keeper(socket)
    keeper.hold_lease(lease_id)
    try:
        await conn.run()
    finally:
        keeper.release_lease(lease_id)
        async with factory() as db:
            await room_service.depart(hub, db, room, lease_id)


routes = [workshop_room]
