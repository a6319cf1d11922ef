from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from clockevents.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from clockevents.events import team
from tests.factories.accounts import make_user
from tests.factories.events import add_role, make_event
from tests.factories.registration import make_participant


async def test_add_cluster_appends_and_refuses_duplicate_names(db: AsyncSession) -> None:
    owner = await make_user(db)
    event = await make_event(db, owner, clusters=("Stone",))
    cluster = await team.add_cluster(db, event, owner, "  Smart   City ", "Sensors")
    assert (cluster.name, cluster.position, cluster.description) == ("Smart City", 1, "Sensors")
    with pytest.raises(Conflict):
        await team.add_cluster(db, event, owner, "STONE")
    with pytest.raises(ValidationFailed) as caught:
        await team.add_cluster(db, event, owner, "", 5)
    assert caught.value.fields == {"name": "Enter the cluster's name.", "description": "Enter text."}


async def test_update_cluster_of_another_event_is_not_found(db: AsyncSession) -> None:
    owner = await make_user(db)
    event = await make_event(db, owner)
    other = await make_event(db, owner)
    with pytest.raises(NotFound):
        await team.update_cluster(db, event, owner, other.clusters[0].id, "Mine now")


async def test_cluster_partner_cannot_manage_clusters(db: AsyncSession) -> None:
    owner = await make_user(db)
    event = await make_event(db, owner)
    partner = await make_user(db)
    await add_role(db, event, partner, "cluster_partner", event.clusters[0])
    with pytest.raises(PermissionDenied):
        await team.add_cluster(db, event, partner, "Fashion")
    with pytest.raises(PermissionDenied):
        await team.remove_cluster(db, event, partner, event.clusters[2].id)


async def test_remove_cluster_with_participants_or_partners_is_conflict(db: AsyncSession) -> None:
    owner = await make_user(db)
    event = await make_event(db, owner)
    await make_participant(db, event, cluster=event.clusters[0])
    partner = await make_user(db)
    await add_role(db, event, partner, "cluster_partner", event.clusters[1])
    with pytest.raises(Conflict) as caught:
        await team.remove_cluster(db, event, owner, event.clusters[0].id)
    assert caught.value.message == (
        "Advanced Materials still has 1 participant; move them to another cluster before removing it."
    )
    with pytest.raises(Conflict):
        await team.remove_cluster(db, event, owner, event.clusters[1].id)
    await team.remove_cluster(db, event, owner, event.clusters[2].id)
    assert [c.name for c in await team.list_clusters(db, event)] == ["Advanced Materials", "ICT & Railway"]


async def test_organiser_adds_partner_but_not_owner(db: AsyncSession) -> None:
    owner = await make_user(db)
    event = await make_event(db, owner)
    organiser = await make_user(db)
    await add_role(db, event, organiser, "organiser")
    newcomer = await make_user(db)
    with pytest.raises(PermissionDenied):
        await team.add_role(db, event, organiser, email=newcomer.email, role="owner")
    row = await team.add_role(
        db, event, organiser, email=newcomer.email, role="cluster_partner", cluster_id=event.clusters[2].id
    )
    assert (row.role, row.cluster_id) == ("cluster_partner", event.clusters[2].id)


async def test_add_role_bad_role_and_foreign_cluster(db: AsyncSession) -> None:
    owner = await make_user(db)
    event = await make_event(db, owner)
    other = await make_event(db, owner)
    member = await make_user(db)
    with pytest.raises(ValidationFailed) as caught:
        await team.add_role(db, event, owner, email=member.email, role="boss")
    assert list(caught.value.fields) == ["role"]
    with pytest.raises(ValidationFailed) as caught:
        await team.add_role(
            db, event, owner, email=member.email, role="cluster_partner", cluster_id=other.clusters[0].id
        )
    assert caught.value.fields == {"cluster_id": "Choose one of this event's clusters."}


async def test_remove_role_owner_only_and_last_owner_stays(db: AsyncSession) -> None:
    owner = await make_user(db)
    event = await make_event(db, owner)
    organiser = await make_user(db)
    role = await add_role(db, event, organiser, "organiser")
    with pytest.raises(PermissionDenied):
        await team.remove_role(db, event, organiser, role.id)
    views = await team.list_roles(db, event, owner)
    owner_role = next(v.id for v in views if v.role == "owner")
    with pytest.raises(Conflict):
        await team.remove_role(db, event, owner, owner_role)
    second = await make_user(db)
    await team.add_role(db, event, owner, email=second.email, role="owner")
    await team.remove_role(db, event, owner, owner_role)
    assert sorted(v.role for v in await team.list_roles(db, event, second)) == ["organiser", "owner"]
