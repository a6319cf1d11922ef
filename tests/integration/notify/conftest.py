"""A real SMTP server (aiosmtpd) on a free local port, session factories and a meeting to mail about."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, replace
from datetime import timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from clockevents.agenda.models import Meeting
from clockevents.db import create_engine, create_session_factory, utcnow
from clockevents.events.models import Event, Slot
from clockevents.registration.models import Participant
from clockevents.settings import Settings
from tests.factories.accounts import make_user
from tests.factories.agenda import make_meeting, make_request, slot_at
from tests.factories.events import make_event
from tests.factories.registration import make_participant


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Inbox:
    """An aiosmtpd handler keeping every message it receives."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.recipients: list[str] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))  # type: ignore[arg-type]
        self.recipients.extend(envelope.rcpt_tos)
        return "250 OK"


class SmtpServer:
    def __init__(self, port: int) -> None:
        self.port = port
        self.inbox = Inbox()
        self.controller: Controller | None = None

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer(free_port())
    server.start()
    yield server
    server.stop()


@pytest.fixture
def smtp_settings(settings: Settings, smtp: SmtpServer) -> Settings:
    return replace(settings, smtp_url=smtp.url)


@pytest.fixture
async def factory(settings: Settings) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(settings.database_url)
    yield create_session_factory(engine)
    await engine.dispose()


@dataclass
class Scene:
    event: Event
    a: Participant
    b: Participant
    meeting: Meeting
    slot: Slot


@pytest.fixture
async def scene(db: AsyncSession) -> Scene:
    """Two approved participants with one published meeting three weeks ahead."""
    owner = await make_user(db)
    event = await make_event(db, owner)
    a = await make_participant(db, event, user=await make_user(db, name="Anna Rossi"))
    b = await make_participant(db, event, user=await make_user(db, name="Bruno Verdi"))
    request = await make_request(db, a, b)
    slot = await slot_at(db, event, 2)
    meeting = await make_meeting(db, request, slot, table=3)
    return Scene(event, a, b, meeting, slot)


async def move_slot(db: AsyncSession, slot: Slot, minutes_from_now: float) -> None:
    """Put ``slot`` so that it starts ``minutes_from_now`` minutes from now."""
    slot.starts_at = utcnow() + timedelta(minutes=minutes_from_now)
    slot.ends_at = slot.starts_at + timedelta(minutes=20)
    await db.commit()
