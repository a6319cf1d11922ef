from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from clockevents.errors import NotFound, PermissionDenied, ValidationFailed
from clockevents.registration import organisations as orgs
from tests.factories.accounts import make_user
from tests.factories.events import add_role, make_event
from tests.factories.registration import make_organisation, make_participant


async def test_search_organisations_own_first_then_by_name(db: AsyncSession) -> None:
    user = await make_user(db)
    await make_organisation(db, name="Alpha Marine")
    own = await make_organisation(db, name="Zeta Marine")
    own.created_by_id = user.id
    await make_organisation(db, name="Stone Co")
    await db.commit()
    found = await orgs.search_organisations(db, user, "marine")
    assert [o.name for o in found] == ["Zeta Marine", "Alpha Marine"]
    assert [o.name for o in await orgs.search_organisations(db, user, "")] == ["Zeta Marine"]
    assert await orgs.search_organisations(db, user, "m_r") == []


async def test_search_organisations_includes_those_registered_with(db: AsyncSession) -> None:
    owner = await make_user(db)
    event = await make_event(db, owner)
    user = await make_user(db)
    participant = await make_participant(db, event, user=user)
    found = await orgs.search_organisations(db, user)
    assert [o.id for o in found] == [participant.organisation_id]


async def test_get_organisation_unknown_is_not_found(db: AsyncSession) -> None:
    with pytest.raises(NotFound):
        await orgs.get_organisation(db, 424242)


async def test_update_organisation_by_member_refreshes_search_text(db: AsyncSession) -> None:
    owner = await make_user(db)
    event = await make_event(db, owner)
    user = await make_user(db)
    participant = await make_participant(db, event, user=user)
    org = await orgs.get_organisation(db, participant.organisation_id)
    await orgs.update_organisation(
        db, user, org, orgs.OrganisationUpdate(name="Nautilus Works", country="fr")
    )
    await db.commit()
    await db.refresh(participant)
    assert (org.name, org.country) == ("Nautilus Works", "FR")
    assert "nautilus works" in participant.search_text


async def test_update_organisation_by_outsider_is_denied(db: AsyncSession) -> None:
    org = await make_organisation(db)
    await db.commit()
    with pytest.raises(PermissionDenied):
        await orgs.update_organisation(db, await make_user(db), org, orgs.OrganisationUpdate(city="X"))


async def test_update_organisation_invalid_changes_nothing(db: AsyncSession) -> None:
    user = await make_user(db)
    org = await make_organisation(db, name="Keep Me")
    org.created_by_id = user.id
    await db.commit()
    with pytest.raises(ValidationFailed) as info:
        await orgs.update_organisation(db, user, org, orgs.OrganisationUpdate(name="", website="nope"))
    assert set(info.value.fields) == {"name", "website"}
    assert org.name == "Keep Me"


async def test_organisation_members_visibility(db: AsyncSession) -> None:
    owner = await make_user(db)
    event = await make_event(db, owner)
    draft = await make_event(db, owner, status="draft")
    org = await make_organisation(db)
    shown = await make_participant(db, event, organisation=org)
    pending = await make_participant(db, event, organisation=org, status="pending")
    unlisted = await make_participant(db, event, organisation=org, listed=False)
    in_draft = await make_participant(db, draft, organisation=org)
    outsider = await make_user(db)
    seen = {m.participant.id for m in await orgs.organisation_members(db, org, outsider)}
    assert seen == {shown.id}
    partner = await make_user(db)
    await add_role(db, event, partner, "cluster_partner", event.clusters[0])
    seen = {m.participant.id for m in await orgs.organisation_members(db, org, partner)}
    assert seen == {shown.id, pending.id, unlisted.id}
    seen = {m.participant.id for m in await orgs.organisation_members(db, org, owner)}
    assert seen == {shown.id, pending.id, unlisted.id, in_draft.id}
