from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from clockevents.errors import NotAuthenticated, NotFound, PermissionDenied, ValidationFailed
from clockevents.registration import opportunities as market
from clockevents.registration.models import Opportunity
from clockevents.registration.validation import OpportunityInput
from tests.factories.accounts import make_user
from tests.factories.events import add_role, make_event
from tests.factories.registration import make_opportunity, make_participant


async def test_create_opportunity_cleans_and_indexes(db: AsyncSession) -> None:
    owner = await make_user(db)
    event = await make_event(db, owner)
    user = await make_user(db)
    participant = await make_participant(db, event, user=user)
    item = await market.create_opportunity(
        db, user, event, OpportunityInput(kind="offer", title=" Graphene  ink ", keywords=["ink", "INK"])
    )
    await db.commit()
    await db.refresh(participant)
    assert (item.title, item.keywords, item.participant_id) == ("Graphene ink", ["ink"], participant.id)
    assert "graphene ink" in participant.search_text


async def test_create_opportunity_needs_registration(db: AsyncSession) -> None:
    owner = await make_user(db)
    event = await make_event(db, owner)
    with pytest.raises(PermissionDenied):
        await market.create_opportunity(
            db, await make_user(db), event, OpportunityInput(kind="offer", title="X")
        )
    with pytest.raises(NotAuthenticated):
        await market.create_opportunity(db, None, event, OpportunityInput(kind="offer", title="X"))


async def test_create_opportunity_rejected_participant_is_denied(db: AsyncSession) -> None:
    owner = await make_user(db)
    event = await make_event(db, owner)
    user = await make_user(db)
    await make_participant(db, event, user=user, status="rejected")
    with pytest.raises(PermissionDenied):
        await market.create_opportunity(db, user, event, OpportunityInput(kind="offer", title="X"))


async def test_create_opportunity_kind_must_be_event_kind(db: AsyncSession) -> None:
    owner = await make_user(db)
    event = await make_event(db, owner)
    event.opportunity_kinds = ["offer"]
    await db.commit()
    user = await make_user(db)
    await make_participant(db, event, user=user)
    with pytest.raises(ValidationFailed) as info:
        await market.create_opportunity(db, user, event, OpportunityInput(kind="request", title="X"))
    assert info.value.fields == {"kind": "Choose one of: offer."}


async def test_update_opportunity_keeps_unset_fields(db: AsyncSession) -> None:
    owner = await make_user(db)
    event = await make_event(db, owner)
    user = await make_user(db)
    item = await make_opportunity(db, await make_participant(db, event, user=user), keywords=["a"])
    await market.update_opportunity(db, user, item, market.OpportunityUpdate(description="More"))
    assert (item.title, item.description, item.keywords) == ("Antiviral coatings", "More", ["a"])


async def test_update_opportunity_of_another_is_denied_but_staff_may(db: AsyncSession) -> None:
    owner = await make_user(db)
    event = await make_event(db, owner)
    item = await make_opportunity(db, await make_participant(db, event, cluster=event.clusters[0]))
    intruder = await make_user(db)
    await make_participant(db, event, user=intruder)
    with pytest.raises(PermissionDenied):
        await market.update_opportunity(db, intruder, item, market.OpportunityUpdate(title="Mine"))
    partner = await make_user(db)
    await add_role(db, event, partner, "cluster_partner", event.clusters[1])
    with pytest.raises(PermissionDenied):
        await market.delete_opportunity(db, partner, item)
    await market.update_opportunity(db, owner, item, market.OpportunityUpdate(title="Moderated"))
    assert item.title == "Moderated"


async def test_delete_opportunity_removes_it(db: AsyncSession) -> None:
    owner = await make_user(db)
    event = await make_event(db, owner)
    user = await make_user(db)
    item = await make_opportunity(db, await make_participant(db, event, user=user))
    await market.delete_opportunity(db, user, item)
    await db.commit()
    assert await db.scalar(select(func.count()).select_from(Opportunity)) == 0
    with pytest.raises(NotFound):
        await market.get_opportunity(db, event, item.id)
