from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from clockevents.errors import Conflict, NotAuthenticated, NotFound, PermissionDenied, ValidationFailed
from clockevents.events import services
from clockevents.events.models import Slot
from tests.factories.accounts import make_user
from tests.factories.events import add_role, make_event
from tests.factories.registration import make_participant

NEW = {
    "slug": "svc",
    "title": "Svc",
    "timezone": "Europe/Rome",
    "starts_on": "2027-01-10",
    "ends_on": "2027-01-10",
}


async def _slot_starts(db: AsyncSession, event_id: int) -> list[datetime]:
    return list(
        await db.scalars(select(Slot.starts_at).where(Slot.event_id == event_id).order_by(Slot.index))
    )


async def test_create_event_needs_admin(db: AsyncSession) -> None:
    member = await make_user(db)
    with pytest.raises(NotAuthenticated):
        await services.create_event(db, None, NEW)
    with pytest.raises(PermissionDenied):
        await services.create_event(db, member, NEW)


async def test_create_event_defaults(db: AsyncSession) -> None:
    admin = await make_user(db, is_admin=True)
    event = await services.create_event(db, admin, NEW)
    assert (event.status, event.meeting_minutes, event.format, event.participant_types) == (
        "draft",
        20,
        "virtual",
        ["business", "research", "finance", "public_body", "other"],
    )


async def test_update_event_meeting_length_lays_grid_out_again(db: AsyncSession) -> None:
    owner = await make_user(db)
    event = await make_event(db, owner, starts_on=date(2027, 2, 1))
    assert len(await _slot_starts(db, event.id)) == 12
    await services.update_event(db, event, owner, {"meeting_minutes": 25})
    await db.commit()
    # 09:00-12:00 now holds 6 slots of 25+5 minutes and 14:00-16:00 holds 4.
    starts = await _slot_starts(db, event.id)
    assert len(starts) == 10
    assert starts[1] - starts[0] == timedelta(minutes=30)


async def test_update_event_time_zone_moves_slots(db: AsyncSession) -> None:
    owner = await make_user(db)
    event = await make_event(db, owner, starts_on=date(2027, 2, 1))
    await services.update_event(db, event, owner, {"timezone": "Europe/Lisbon"})
    await db.commit()
    assert (await _slot_starts(db, event.id))[0] == datetime(2027, 2, 1, 9, 0, tzinfo=UTC)


async def test_update_event_dates_that_orphan_the_grid_are_refused(db: AsyncSession) -> None:
    owner = await make_user(db)
    event = await make_event(db, owner, starts_on=date(2027, 2, 1))
    with pytest.raises(ValidationFailed) as caught:
        await services.update_event(db, event, owner, {"starts_on": "2027-02-02", "ends_on": "2027-02-02"})
    assert caught.value.fields == {
        "starts_on": "The saved slot grid would no longer fit; change the grid first."
    }


async def test_update_event_live_grid_inputs_frozen(db: AsyncSession) -> None:
    owner = await make_user(db)
    event = await make_event(db, owner, status="live")
    with pytest.raises(Conflict):
        await services.update_event(db, event, owner, {"meeting_minutes": 30})
    await services.update_event(db, event, owner, {"status": "closed"})
    assert event.status == "closed"


async def test_update_event_slug_taken_is_conflict(db: AsyncSession) -> None:
    owner = await make_user(db)
    await make_event(db, owner, slug="taken")
    event = await make_event(db, owner, slug="mine")
    with pytest.raises(Conflict):
        await services.update_event(db, event, owner, {"slug": "taken"})


async def test_get_visible_event_draft_only_for_staff(db: AsyncSession) -> None:
    owner = await make_user(db)
    event = await make_event(db, owner, slug="dr", status="draft")
    partner = await make_user(db)
    await add_role(db, event, partner, "cluster_partner", event.clusters[0])
    stranger = await make_user(db)
    assert (await services.get_visible_event(db, "dr", partner)).id == event.id
    with pytest.raises(NotFound):
        await services.get_visible_event(db, "dr", stranger)


async def test_list_events_admin_sees_every_draft(db: AsyncSession) -> None:
    owner = await make_user(db)
    await make_event(db, owner, slug="d1", status="draft")
    admin = await make_user(db, is_admin=True)
    events, total = await services.list_events(db, admin, status="draft")
    assert ([e.slug for e in events], total) == (["d1"], 1)


def test_registration_state_follows_status_and_window() -> None:
    from clockevents.events.models import Event

    now = datetime(2027, 1, 1, 12, 0, tzinfo=UTC)
    event = Event(status="open", registration_opens_at=None, registration_closes_at=None)
    assert services.registration_state(event, now) == "open"
    event.registration_opens_at = now + timedelta(hours=1)
    assert services.registration_state(event, now) == "not_yet"
    event.registration_opens_at = now - timedelta(hours=1)
    event.registration_closes_at = now
    assert services.registration_state(event, now) == "closed"
    assert services.registration_state(Event(status="draft"), now) == "not_yet"
    assert services.registration_state(Event(status="closed"), now) == "closed"


async def test_overview_counts(db: AsyncSession) -> None:
    owner = await make_user(db)
    event = await make_event(db, owner)
    await make_participant(db, event, status="pending")
    await make_participant(db, event)
    counts = await services.overview(db, event)
    assert (counts.clusters, counts.sessions, counts.slots, counts.participants) == (
        3,
        2,
        12,
        {"pending": 1, "approved": 1, "rejected": 0},
    )
