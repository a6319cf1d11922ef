from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from clockevents.events.models import Slot
from tests.factories.accounts import make_user
from tests.factories.events import make_event
from tests.factories.registration import make_opportunity, make_participant


async def test_make_event_builds_slot_grid_in_utc(db: AsyncSession) -> None:
    owner = await make_user(db)
    event = await make_event(db, owner, days=2)
    # 09:00-12:00 holds 7 slots of 20+5 minutes, 14:00-16:00 holds 5, on each of two days.
    assert await db.scalar(select(func.count()).select_from(Slot).where(Slot.event_id == event.id)) == 24
    assert [c.name for c in event.clusters] == ["Advanced Materials", "ICT & Railway", "Nautical"]


async def test_make_participant_search_text_covers_opportunities(db: AsyncSession) -> None:
    owner = await make_user(db, name="Olga Owner")
    event = await make_event(db, owner)
    person = await make_user(db, name="Piero Rossi")
    participant = await make_participant(db, event, user=person, pitch="Graphene inks", keywords=["Printing"])
    await make_opportunity(db, participant, title="Antiviral Coatings")
    await db.refresh(participant)
    assert participant.search_text.startswith("piero rossi | organisation")
    assert "graphene inks" in participant.search_text
    assert participant.search_text.endswith("antiviral coatings")
