"""One person's live sockets in one worker are limited: past the limit a socket is closed with 4429."""

from __future__ import annotations

import asyncio

import websockets

from tests.integration.live.conftest import Room, close_code, connect, recv
from web.live.handlers import CLOSE_TOO_MANY, MAX_SOCKETS_PER_USER


async def test_sockets_past_the_limit_are_closed_and_a_closed_one_frees_its_place(
    server: str, room: Room
) -> None:
    url = f"{server}/ws/meetings/{room.meeting.id}"
    held = []
    for _ in range(MAX_SOCKETS_PER_USER):
        # Each hears the others arrive; it keeps what it does not read, so that it can close.
        socket = await connect(url, room.a_token, max_queue=None)
        assert (await recv(socket))["type"] == "snapshot"
        held.append(socket)

    one_more = await connect(url, room.a_token)
    assert await close_code(one_more) == CLOSE_TOO_MANY
    assert one_more.close_reason == "Too many live connections open: close some tabs and try again."
    # On any live channel of the worker, and for that user only.
    event = await connect(f"{server}/ws/events/{room.event.slug}", room.a_token)
    assert await close_code(event) == CLOSE_TOO_MANY
    partner = await connect(url, room.b_token)
    assert (await recv(partner))["type"] == "snapshot"

    await held.pop().close()
    for _ in range(50):  # the server lets the place go once it has seen the close
        again = await connect(url, room.a_token)
        try:
            first = await recv(again)
            break
        except websockets.ConnectionClosed:
            assert again.close_code == CLOSE_TOO_MANY
            await asyncio.sleep(0.1)
    assert first["type"] == "snapshot"
    for socket in [*held, again, partner]:
        await socket.close()
