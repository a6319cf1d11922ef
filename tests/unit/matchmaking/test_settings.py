from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from clockevents.errors import PermissionDenied, ValidationFailed
from clockevents.matchmaking import services
from tests.factories.accounts import make_user
from tests.factories.events import add_role
from tests.unit.matchmaking.conftest import World


async def test_settings_default_until_changed(db: AsyncSession, world: World) -> None:
    rules = await services.view_settings(db, world.event, world.owner)
    assert (
        rules.request_mode,
        rules.scheduling_mode,
        rules.max_sent,
        rules.max_received,
        rules.expiry_hours,
    ) == (
        "accept",
        "organiser",
        None,
        None,
        None,
    )


async def test_update_settings_changes_only_given_fields(db: AsyncSession, world: World) -> None:
    await services.update_settings(db, world.event, world.owner, {"max_sent": "5", "request_mode": "auto"})
    await db.commit()
    rules = await services.update_settings(db, world.event, world.owner, {"expiry_hours": 48, "max_sent": ""})
    await db.commit()
    assert (rules.request_mode, rules.max_sent, rules.expiry_hours) == ("auto", None, 48)


async def test_update_settings_reports_every_bad_field(db: AsyncSession, world: World) -> None:
    with pytest.raises(ValidationFailed) as caught:
        await services.update_settings(
            db,
            world.event,
            world.owner,
            {
                "request_mode": "x",
                "scheduling_mode": "y",
                "max_sent": "ten",
                "max_received": 0,
                "expiry_hours": -1,
            },
        )
    assert set(caught.value.fields) == {
        "request_mode",
        "scheduling_mode",
        "max_sent",
        "max_received",
        "expiry_hours",
    }


async def test_settings_permissions(db: AsyncSession, world: World) -> None:
    partner = await make_user(db)
    await add_role(db, world.event, partner, "cluster_partner", world.event.clusters[0])
    assert (await services.view_settings(db, world.event, partner)).request_mode == "accept"
    with pytest.raises(PermissionDenied):
        await services.update_settings(db, world.event, partner, {"max_sent": 3})
    with pytest.raises(PermissionDenied):
        await services.view_settings(db, world.event, world.alice_user)
