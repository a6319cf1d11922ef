"""A finished meeting between two participants, with an organiser and an outsider around it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession

from clockevents.accounts.models import User
from clockevents.agenda.models import Meeting
from clockevents.events.models import Event, Slot
from clockevents.live.models import Attendance
from clockevents.registration.models import Participant
from tests.factories.accounts import make_user
from tests.factories.agenda import make_meeting, make_request, slot_at
from tests.factories.events import make_event
from tests.factories.registration import make_participant
from tests.helpers import api_token, bearer


@dataclass
class Scene:
    event: Event
    owner: User
    a: Participant
    b: Participant
    c: Participant  # registered for the event, not in the meeting
    meeting: Meeting  # a-b, over (yesterday)
    upcoming: Meeting  # a-c, not over (tomorrow)
    slot: Slot
    auth: dict[str, dict[str, str]]  # "owner", "a", "b", "c" -> bearer headers


async def build_scene(db: AsyncSession, client: AsyncTestClient[Any], starts_on: date) -> Scene:
    """Event over three days from ``starts_on``; the a-b meeting on day 1, a-c on day 3."""
    owner = await make_user(db, email="owner@example.org", name="Olga Owner")
    event = await make_event(db, owner, starts_on=starts_on, days=3)
    a = await make_participant(
        db, event, user=await make_user(db, email="anna@example.org", name="Anna Rossi")
    )
    b = await make_participant(
        db, event, user=await make_user(db, email="bruno@example.org", name="Bruno Verdi")
    )
    c = await make_participant(
        db, event, user=await make_user(db, email="carla@example.org", name="Carla Neri")
    )
    slot = await slot_at(db, event, 0)
    meeting = await make_meeting(db, await make_request(db, a, b), slot, table=1)
    # Slots per day: 9:00-12:00 (7) + 14:00-16:00 (5) = 12; index 24 opens day 3.
    upcoming = await make_meeting(db, await make_request(db, a, c), await slot_at(db, event, 24), table=2)
    auth = {
        name: bearer(await api_token(client, email))
        for name, email in (
            ("owner", "owner@example.org"),
            ("a", "anna@example.org"),
            ("b", "bruno@example.org"),
            ("c", "carla@example.org"),
        )
    }
    return Scene(event, owner, a, b, c, meeting, upcoming, slot, auth)


@pytest.fixture
async def scene(db: AsyncSession, client: AsyncTestClient[Any]) -> Scene:
    """The a-b meeting was yesterday; the a-c one is tomorrow."""
    return await build_scene(db, client, datetime.now(UTC).date() - timedelta(days=1))


async def attend(db: AsyncSession, meeting: Meeting, who: Participant, minutes: int) -> None:
    """``who`` stayed in the meeting's room for its first ``minutes`` minutes."""
    slot = await db.get(Slot, meeting.slot_id)
    assert slot is not None
    db.add(
        Attendance(
            meeting_id=meeting.id,
            participant_id=who.id,
            user_id=who.user_id,
            joined_at=slot.starts_at,
            left_at=slot.starts_at + timedelta(minutes=minutes),
        )
    )
    await db.commit()
