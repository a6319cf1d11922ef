from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from clockevents.agenda.meetings import list_meetings, own_zone
from clockevents.errors import NotAuthenticated, PermissionDenied
from tests.factories.accounts import make_user
from tests.factories.agenda import make_meeting, make_request, slot_at
from tests.factories.events import add_role, make_event
from tests.factories.registration import make_participant

SESSIONS = ((time(9, 0), time(10, 0)),)  # slots 0 (09:00) and 1 (09:25)


async def test_list_meetings_scope_by_role(db: AsyncSession) -> None:
    owner = await make_user(db)
    event = await make_event(db, owner, session_times=SESSIONS, starts_on=date(2027, 1, 12))
    nautical, stone = event.clusters[0], event.clusters[1]
    ada_user = await make_user(db, name="Ada")
    ada = await make_participant(db, event, user=ada_user, cluster=nautical)
    bruno = await make_participant(db, event, cluster=stone)
    carla = await make_participant(db, event, cluster=stone)
    dario = await make_participant(db, event, cluster=stone)
    first = await make_meeting(db, await make_request(db, ada, bruno), await slot_at(db, event, 0))
    second = await make_meeting(db, await make_request(db, carla, dario), await slot_at(db, event, 1))
    partner = await make_user(db)
    await add_role(db, event, partner, "cluster_partner", nautical)

    mine = await list_meetings(db, event, ada_user)
    everyone = await list_meetings(db, event, owner)
    cluster = await list_meetings(db, event, partner)

    assert [(m.id, m.partner.id if m.partner else None) for m in mine] == [(first.id, bruno.id)]
    assert [m.id for m in everyone] == [first.id, second.id]
    assert [m.partner for m in everyone] == [None, None]
    assert [m.id for m in cluster] == [first.id]
    assert mine[0].starts_at == datetime(2027, 1, 12, 8, 0, tzinfo=UTC)
    assert mine[0].local(mine[0].starts_at).isoformat() == "2027-01-12T09:00:00+01:00"
    assert mine[0].day == date(2027, 1, 12)


async def test_list_meetings_refuses_strangers_and_anonymous(db: AsyncSession) -> None:
    owner = await make_user(db)
    event = await make_event(db, owner, session_times=SESSIONS)

    with pytest.raises(PermissionDenied):
        await list_meetings(db, event, await make_user(db))
    with pytest.raises(NotAuthenticated):
        await list_meetings(db, event, None)


async def test_own_zone_prefers_account_then_registration(db: AsyncSession) -> None:
    owner = await make_user(db)
    event = await make_event(db, owner, session_times=SESSIONS)
    user = await make_user(db)
    participant = await make_participant(db, event, user=user)
    participant.timezone = "America/New_York"
    await db.commit()

    assert await own_zone(db, event, user) == "America/New_York"
    user.timezone = "Asia/Tokyo"
    await db.commit()
    assert await own_zone(db, event, user) == "Asia/Tokyo"
