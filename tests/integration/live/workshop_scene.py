"""Shared scene for the workshop tests: an event, a presenter, attendees and one workshop."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from clockevents.accounts.models import User
from clockevents.accounts.services import issue_token
from clockevents.events.models import Event
from clockevents.live import workshop_registration, workshops
from clockevents.registration.models import Participant
from tests.e2e.conftest import browser, live_server  # noqa: F401 - fixtures
from tests.factories.accounts import make_user
from tests.factories.events import make_event
from tests.factories.registration import make_participant

BROWSER_MS = 20_000


@dataclass
class Scene:
    event: Event
    organiser: User
    presenter: Participant
    ada: Participant
    bo: Participant
    cy: Participant  # approved, not registered
    ada_user: User
    bo_user: User
    cy_user: User
    tokens: dict[str, str]
    workshop_id: int


@pytest.fixture
async def scene(db: AsyncSession) -> Scene:
    organiser = await make_user(db, name="Olga Organiser", email="olga@example.org")
    event = await make_event(db, organiser)
    users = {
        n: await make_user(db, name=name, email=f"{n}@example.org")
        for n, name in (("pia", "Pia Presenter"), ("ada", "Ada Rossi"), ("bo", "Bo Chen"), ("cy", "Cy Diaz"))
    }
    people = {n: await make_participant(db, event, user=u) for n, u in users.items()}
    outsider = await make_user(db, name="Outsider")
    tokens = {n: await issue_token(db, u, kind="api") for n, u in users.items()}
    tokens["olga"] = await issue_token(db, organiser, kind="api")
    tokens["outsider"] = await issue_token(db, outsider, kind="api")
    workshop = await workshops.create_workshop(
        db,
        event,
        organiser,
        {"title": "Graphene in coatings", "presenter_id": people["pia"].id, "slots": [1, 2], "capacity": 2},
    )
    await workshop_registration.register(db, workshop.id, users["ada"])
    await workshop_registration.register(db, workshop.id, users["bo"])
    await db.commit()
    return Scene(
        event,
        organiser,
        people["pia"],
        people["ada"],
        people["bo"],
        people["cy"],
        users["ada"],
        users["bo"],
        users["cy"],
        tokens,
        workshop.id,
    )


# services and API ---------------------------------------------------------------------------
