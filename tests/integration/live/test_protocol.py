"""The WebSocket protocol we serve with (web/live/protocol.py), under a bare ASGI app, on a real port.

The app answers every message it reads through ASGI with "asgi got ..."; its receiver takes the
messages that start with "direct" and answers them itself, straight through the protocol.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest
import websockets

from tests.integration.live.conftest import TIMEOUT, serve_asgi
from web.live.protocol import EXTENSION, LiveProtocol


class Probe:
    """What the app saw: the protocol it found in its scope, and what happened after the end."""

    def __init__(self) -> None:
        self.protocols: list[Any] = []
        self.after_close: list[bool] = []


def make_app(probe: Probe) -> Any:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        assert scope["type"] == "websocket"
        protocol = scope["extensions"].get(EXTENSION)
        probe.protocols.append(protocol)
        await receive()  # websocket.connect
        await send({"type": "websocket.accept"})

        def receiver(text: str) -> bool:
            if text == "boom":
                raise RuntimeError("a receiver that fails")
            if text == "stop":  # from now on, everything through ASGI
                protocol.receiver = None
                return False
            if not text.startswith("direct"):
                return False
            return bool(protocol.send_text_now(f"direct got {text}"))

        if protocol is not None:
            protocol.receiver = receiver
        while True:
            event = await receive()
            if event["type"] == "websocket.disconnect":
                if protocol is not None:
                    probe.after_close.append(protocol.send_text_now("too late"))
                return
            if event.get("text") == "close":
                await send({"type": "websocket.close", "code": 1000})
                probe.after_close.append(protocol.send_text_now("too late"))
                continue
            got = event.get("text") if event.get("text") is not None else f"bytes {event['bytes']!r}"
            await send({"type": "websocket.send", "text": f"asgi got {got}"})

    return app


@pytest.fixture
def probe() -> Probe:
    return Probe()


@pytest.fixture
async def url(probe: Probe) -> AsyncIterator[str]:
    async with serve_asgi(make_app(probe), lifespan="off") as base:
        yield f"{base}/"


async def ask(ws: websockets.ClientConnection, message: str | bytes) -> str:
    await ws.send(message)
    return str(await asyncio.wait_for(ws.recv(), TIMEOUT))


async def test_the_app_is_served_with_our_protocol(url: str, probe: Probe) -> None:
    async with websockets.connect(url) as ws:
        assert await ask(ws, "hello") == "asgi got hello"
    assert [type(p) for p in probe.protocols] == [LiveProtocol]


async def test_the_receiver_takes_its_messages_and_leaves_the_rest_to_asgi(url: str) -> None:
    async with websockets.connect(url) as ws:
        assert await ask(ws, "direct 1") == "direct got direct 1"
        assert await ask(ws, "plain") == "asgi got plain"
        assert await ask(ws, b"direct bytes") == "asgi got bytes b'direct bytes'"
        assert await ask(ws, "boom") == "asgi got boom"  # a failing receiver loses nothing
        assert await ask(ws, "direct 2") == "direct got direct 2"
        assert await ask(ws, "stop") == "asgi got stop"
        assert await ask(ws, "direct 3") == "asgi got direct 3"


class RenamedInternals(LiveProtocol):
    """Our protocol over a uvicorn that calls one of the attributes it reads by another name."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.message_frames = self.frames
        del self.frames


async def test_over_a_uvicorn_without_its_internals_everything_goes_through_asgi(
    probe: Probe, caplog: pytest.LogCaptureFixture
) -> None:
    async with serve_asgi(make_app(probe), lifespan="off", ws=RenamedInternals) as base:
        async with websockets.connect(f"{base}/") as ws:
            assert await ask(ws, "direct 1") == "asgi got direct 1"
            assert await ask(ws, "plain") == "asgi got plain"
        async with websockets.connect(f"{base}/") as ws:
            assert await ask(ws, "direct 2") == "asgi got direct 2"
    assert probe.protocols == [None, None]
    warnings = [r.getMessage() for r in caplog.records if r.name == "web.live.protocol"]
    assert warnings == ["This uvicorn's WebSocket protocol has no frames: live messages go the ASGI way."]


async def test_a_message_never_overtakes_one_waiting_in_the_queue(url: str) -> None:
    async with websockets.connect(url) as ws:
        assert await ask(ws, "direct 0") == "direct got direct 0"
        # Three messages in one write: the second waits in the queue for the app's task when the
        # third arrives, so the third goes behind it instead of being answered first.
        for text in ("direct 1", "plain", "direct 2"):
            ws.protocol.send_text(text.encode())
        ws.transport.write(b"".join(ws.protocol.data_to_send()))
        answers = [str(await asyncio.wait_for(ws.recv(), TIMEOUT)) for _ in range(3)]
        assert answers == ["direct got direct 1", "asgi got plain", "asgi got direct 2"]


async def test_nothing_is_written_directly_once_the_socket_closes(url: str, probe: Probe) -> None:
    async with websockets.connect(url) as ws:
        await ws.send("close")
        with contextlib.suppress(websockets.ConnectionClosed):
            await asyncio.wait_for(ws.recv(), TIMEOUT)
        assert ws.close_code == 1000
    async with websockets.connect(url) as ws:
        assert await ask(ws, "direct") == "direct got direct"
    deadline = asyncio.get_running_loop().time() + TIMEOUT
    # After the app's close, after the first client's disconnect, after the second's.
    while len(probe.after_close) < 3 and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.02)
    assert probe.after_close == [False, False, False]
