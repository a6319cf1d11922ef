"""Nothing is lost across a server restart: a client that resumes with ?after=SEQ gets exactly what it missed."""

from __future__ import annotations

import contextlib
import json
from typing import Any

import websockets

from clockevents.settings import Settings
from tests.integration.live.conftest import Room, connect, free_port, recv, recv_until, serve


async def drain_until_closed(ws: websockets.ClientConnection) -> list[dict[str, Any]]:
    """Whatever the server still sent before the socket went down (each read with a timeout)."""
    seen: list[dict[str, Any]] = []
    with contextlib.suppress(websockets.ConnectionClosed):
        while True:
            seen.append(await recv(ws))
    return seen


async def read_through(ws: websockets.ClientConnection, text: str) -> list[dict[str, Any]]:
    """Every message up to and including the chat ``text``."""
    got = [await recv(ws)]
    while not (got[-1]["type"] == "chat" and got[-1]["text"] == text):
        got.append(await recv(ws))
    return got


async def test_resume_after_a_restart_gets_exactly_the_missed_messages(
    settings: Settings, room: Room
) -> None:
    port = free_port()
    path = f"/ws/meetings/{room.meeting.id}"
    async with serve(settings, port) as base:
        a = await connect(base + path, room.a_token)
        b = await connect(base + path, room.b_token)
        await recv(a)
        await recv(b)
        await a.send(json.dumps({"type": "chat", "text": "before the restart"}))
        seen_by_b = await recv_until(b, "chat")
        a_last = (await recv_until(a, "chat"))["seq"]
        assert seen_by_b["seq"] == a_last
    # The server is gone: both sockets are closed under the clients.
    for ws in (a, b):
        await drain_until_closed(ws)
        assert ws.close_code is not None

    async with serve(settings, port) as base:
        # A comes back first and goes on talking while B is still away.
        a = await connect(f"{base}{path}?after={a_last}", room.a_token)
        texts = ["after the restart", "are you there?"]
        for text in texts:
            await a.send(json.dumps({"type": "chat", "text": text}))
        seen_by_a = await read_through(a, texts[-1])

        b = await connect(f"{base}{path}?after={seen_by_b['seq']}", room.b_token)
        replay = await read_through(b, texts[-1])
        assert all(m["type"] != "snapshot" for m in replay)
        assert [m["text"] for m in replay if m["type"] == "chat"] == texts
        seqs = [m["seq"] for m in replay]
        # Every stored message after SEQ, once each, in order: nothing skipped, nothing repeated.
        assert seqs == list(range(seen_by_b["seq"] + 1, seen_by_b["seq"] + 1 + len(seqs)))
        # The same messages, with the same numbers, that A saw live.
        chats = {m["seq"]: m["text"] for m in seen_by_a if m["type"] == "chat"}
        assert {m["seq"]: m["text"] for m in replay if m["type"] == "chat"} == chats
        # Then B is live again: the next message arrives once, with the next number.
        await a.send(json.dumps({"type": "chat", "text": "welcome back"}))
        live = await recv_until(b, "chat")
        assert live["text"] == "welcome back" and live["seq"] > seqs[-1]
        await a.close()
        await b.close()
