"""A real server (uvicorn, in the test's event loop) and a published meeting between two people."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
import uvicorn
import websockets
from litestar import Litestar
from sqlalchemy.ext.asyncio import AsyncSession

from clockevents.accounts.models import User
from clockevents.accounts.services import issue_token
from clockevents.agenda.models import Meeting
from clockevents.cli import SERVER_OPTIONS
from clockevents.events.models import Event
from clockevents.registration.models import Participant
from clockevents.settings import Settings
from tests.factories.accounts import make_user
from tests.factories.agenda import make_meeting, make_request, slot_at
from tests.factories.events import make_event
from tests.factories.registration import make_participant
from web.app import create_app

TIMEOUT = 5.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.asynccontextmanager
async def serve(
    settings: Settings, port: int | None = None, app: Litestar | None = None
) -> AsyncIterator[str]:
    """Run the app (a new one by default) with uvicorn on a real port inside this event loop; yield
    ws://host:port."""
    async with serve_asgi(app or create_app(settings), port) as base:
        yield base


@contextlib.asynccontextmanager
async def serve_asgi(
    app: Any, port: int | None = None, *, lifespan: str = "on", ws: Any = SERVER_OPTIONS["ws"]
) -> AsyncIterator[str]:
    """Run an ASGI app as ``serve`` does, with the server options of a deployment (``ws``: the
    WebSocket protocol, by default the one the app is served with)."""
    port = port or free_port()
    options = {name: value for name, value in SERVER_OPTIONS.items() if name != "factory"}
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, lifespan=lifespan, log_level="warning", **{**options, "ws": ws}
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.02)
    try:
        yield f"ws://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 15)


@pytest.fixture
async def server(settings: Settings) -> AsyncIterator[str]:
    async with serve(settings) as base:
        yield base


@dataclass
class Room:
    event: Event
    meeting: Meeting
    a: Participant
    b: Participant
    a_user: User
    b_user: User
    a_token: str
    b_token: str
    organiser: User
    organiser_token: str
    outsider_token: str


@pytest.fixture
async def room(db: AsyncSession) -> Room:
    organiser = await make_user(db, name="Olga Organiser")
    event = await make_event(db, organiser)
    a_user = await make_user(db, name="Ada Rossi")
    b_user = await make_user(db, name="Bo Chen")
    a = await make_participant(db, event, user=a_user)
    b = await make_participant(db, event, user=b_user)
    request = await make_request(db, a, b)
    meeting = await make_meeting(db, request, await slot_at(db, event, 0))
    outsider = await make_user(db, name="Outsider")
    tokens = [await issue_token(db, u, kind="api") for u in (a_user, b_user, organiser, outsider)]
    await db.commit()
    return Room(event, meeting, a, b, a_user, b_user, tokens[0], tokens[1], organiser, tokens[2], tokens[3])


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def connect(url: str, token: str | None = None, **kwargs: Any) -> websockets.ClientConnection:
    headers = auth(token) if token else {}
    headers.update(kwargs.pop("headers", {}))
    return await asyncio.wait_for(websockets.connect(url, additional_headers=headers, **kwargs), TIMEOUT)


async def recv(ws: websockets.ClientConnection, timeout: float = TIMEOUT) -> dict[str, Any]:
    return json.loads(await asyncio.wait_for(ws.recv(), timeout))


async def both_parties(
    url: str, room: Room
) -> tuple[websockets.ClientConnection, websockets.ClientConnection]:
    """The meeting's two parties connected to ``url``, each past its first message (the snapshot)."""
    a = await connect(url, room.a_token)
    b = await connect(url, room.b_token)
    await recv(a)
    await recv(b)
    return a, b


async def recv_until(ws: websockets.ClientConnection, type_: str, timeout: float = TIMEOUT) -> dict[str, Any]:
    """Read until a message of ``type_`` arrives (others, such as presence, are skipped)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        left = deadline - asyncio.get_running_loop().time()
        if left <= 0:
            raise TimeoutError(f"no {type_} message within {timeout} s")
        message = await recv(ws, left)
        if message["type"] == type_:
            return message


async def close_code(ws: websockets.ClientConnection, timeout: float = TIMEOUT) -> int | None:
    with contextlib.suppress(websockets.ConnectionClosed):
        await asyncio.wait_for(ws.recv(), timeout)
    await asyncio.wait_for(ws.wait_closed(), timeout)
    return ws.close_code


from tests.integration.live.workshop_scene import scene  # noqa: E402, F401 - the workshop tests' fixture
