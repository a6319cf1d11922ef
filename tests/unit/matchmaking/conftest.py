"""A small event shared by the matchmaking unit tests: an owner and three approved participants."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from clockevents.accounts.models import User
from clockevents.events.models import Event
from clockevents.registration.models import Participant
from tests.factories.accounts import make_user
from tests.factories.events import make_event
from tests.factories.registration import make_participant


@dataclass
class World:
    owner: User
    event: Event
    alice: Participant
    bob: Participant
    carol: Participant
    alice_user: User
    bob_user: User
    carol_user: User


@pytest.fixture
async def world(db: AsyncSession) -> World:
    owner = await make_user(db, name="Olga Owner")
    event = await make_event(db, owner)
    users = [await make_user(db, name=n) for n in ("Alice", "Bob", "Carol")]
    alice, bob, carol = [
        await make_participant(db, event, user=u, cluster=event.clusters[i]) for i, u in enumerate(users)
    ]
    return World(owner, event, alice, bob, carol, *users)
