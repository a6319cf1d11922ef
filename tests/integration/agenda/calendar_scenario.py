"""An event across the end of summer time, for the calendar feed tests.

Europe/Rome leaves summer time on Sunday 2026-10-25 at 03:00: 10:00 local is 08:00 UTC on the
24th and 09:00 UTC on the 25th. Bob reads his agenda in New York (still on summer time until
1 November), Carla in Lisbon.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time

from sqlalchemy.ext.asyncio import AsyncSession

from clockevents.accounts.models import User
from clockevents.agenda.models import Meeting
from clockevents.events.models import Event
from clockevents.registration.models import Participant
from tests.factories.accounts import make_user
from tests.factories.agenda import make_meeting, make_request, slot_at
from tests.factories.events import make_event
from tests.factories.registration import make_organisation, make_participant

DAY_BEFORE = date(2026, 10, 24)
# Half-hour slots from 09:00 to 12:00 local: index 2 is 10:00 on the 24th, 8 and 10 are
# 10:00 and 11:00 on the 25th.
SESSIONS = ((time(9, 0), time(12, 0)),)
PASSWORD = "correct-horse-battery"


@dataclass
class Scenario:
    event: Event
    owner: User
    anna: Participant
    bob: Participant
    carla: Participant
    bob_user: User
    bob_anna: Meeting  # 2026-10-24 10:00 Rome, table 1
    bob_carla: Meeting  # 2026-10-25 10:00 Rome, table 2
    anna_carla: Meeting  # 2026-10-25 11:00 Rome, not Bob's
    draft: Meeting  # Bob's, never published


async def build(db: AsyncSession, *, event_format: str = "virtual") -> Scenario:
    """Three participants, three published meetings and an unpublished one."""
    owner = await make_user(db, email="owner@example.org", name="Olga Owner")
    event = await make_event(
        db,
        owner,
        slug="dst-day",
        starts_on=DAY_BEFORE,
        days=2,
        timezone="Europe/Rome",
        meeting_minutes=30,
        gap_minutes=0,
        session_times=SESSIONS,
    )
    event.title = "Autumn Matchmaking"
    event.format = event_format
    anna_user = await make_user(db, email="anna@example.org", name="Anna Rossi")
    bob_user = await make_user(db, email="bob@example.org", name="Bob Smith")
    carla_user = await make_user(db, email="carla@example.org", name="Carla Sousa")
    anna = await make_participant(
        db, event, user=anna_user, organisation=await make_organisation(db, name="Grafene Verdi Srl")
    )
    bob = await make_participant(
        db,
        event,
        user=bob_user,
        organisation=await make_organisation(db, name="Hudson Robotics Inc", country="US"),
    )
    carla = await make_participant(
        db,
        event,
        user=carla_user,
        organisation=await make_organisation(db, name="Lisboa Bio Lda", country="PT"),
    )
    bob.timezone = "America/New_York"
    carla.timezone = "Europe/Lisbon"
    request = await make_request(db, bob, anna)
    request.message = "Let's talk about graphene sensors."
    bob_anna = await make_meeting(db, request, await slot_at(db, event, 2), table=1)
    bob_carla = await make_meeting(
        db, await make_request(db, carla, bob), await slot_at(db, event, 8), table=2
    )
    anna_carla = await make_meeting(
        db, await make_request(db, anna, carla), await slot_at(db, event, 10), table=1
    )
    draft = await make_meeting(
        db, await make_request(db, bob, carla), await slot_at(db, event, 4), table=3, published=False
    )
    await db.commit()
    return Scenario(event, owner, anna, bob, carla, bob_user, bob_anna, bob_carla, anna_carla, draft)
