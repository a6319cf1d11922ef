from __future__ import annotations

from datetime import time, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from clockevents.agenda import runs
from clockevents.agenda.models import ScheduleRun
from clockevents.db import utcnow
from clockevents.errors import Conflict, PermissionDenied, ValidationFailed
from tests.factories.accounts import make_user
from tests.factories.agenda import make_request
from tests.factories.events import make_event
from tests.factories.registration import make_organisation, make_participant

SESSIONS = ((time(9, 0), time(10, 0)), (time(14, 0), time(15, 0)))  # four slots


async def _fetch(factory: async_sessionmaker[AsyncSession], run_id: int) -> ScheduleRun:
    async with factory() as db:
        run = await db.get(ScheduleRun, run_id)
        assert run is not None
        return run


async def test_execute_run_stores_draft_with_statistics(
    db: AsyncSession, factory: async_sessionmaker[AsyncSession]
) -> None:
    owner = await make_user(db)
    event = await make_event(db, owner, session_times=SESSIONS)
    acme = await make_organisation(db, name="Acme Srl")
    a = await make_participant(db, event, user=await make_user(db, name="Ada"), organisation=acme)
    b = await make_participant(db, event, user=await make_user(db, name="Bruno"))
    c = await make_participant(db, event, user=await make_user(db, name="Carla"))
    a.unavailable_slots = [0, 1, 2]
    await db.commit()
    await make_request(db, a, b, priority=3)
    await make_request(db, a, c, priority=2)  # Ada's one free slot goes to the heavier meeting
    await make_request(db, b, c)
    await make_request(db, c, b, status="declined")

    run = await runs.start_run(factory, event, owner, time_limit=2, spawn=False)
    assert run.status == "queued"
    seen: list[dict[str, object]] = []
    await runs.execute_run(factory, run.id, on_progress=seen.append)

    done = await _fetch(factory, run.id)
    assert done.status == "done", done.error
    assert done.finished_at is not None
    figures = dict(done.statistics)
    unplaced = figures.pop("unplaced")
    figures.pop("seconds")
    assert figures == {
        "solver_status": "optimal",
        "requested_meetings": 3,
        "placed_meetings": 2,
        "requested_weight": 6,
        "placed_weight": 4,
        "fixed_meetings": 0,
        "breaks": 0,
        "meetings_per_participant": {"min": 1, "median": 1, "max": 2},
    }
    assert [(u["a"].split(" (")[0], u["b"].split(" (")[0]) for u in unplaced] == [("Ada", "Carla")]
    assert unplaced[0]["reason"] == "Ada (Acme Srl) has 2 accepted meetings for 1 free slots"
    assert done.solution["format"] == "clockevents-solution/1"


async def test_start_run_participant_is_refused(
    db: AsyncSession, factory: async_sessionmaker[AsyncSession]
) -> None:
    owner = await make_user(db)
    event = await make_event(db, owner, session_times=SESSIONS)
    someone = await make_user(db)
    await make_participant(db, event, user=someone)

    with pytest.raises(PermissionDenied):
        await runs.start_run(factory, event, someone, time_limit=2, spawn=False)


async def test_start_run_bad_options_report_every_field(
    db: AsyncSession, factory: async_sessionmaker[AsyncSession]
) -> None:
    owner = await make_user(db)
    event = await make_event(db, owner, session_times=SESSIONS)

    with pytest.raises(ValidationFailed) as caught:
        await runs.start_run(factory, event, owner, time_limit=0, break_spread=-1, free=["x"], spawn=False)

    assert set(caught.value.fields) == {"time_limit", "break_spread", "free"}


async def test_start_run_unknown_free_meeting_is_invalid(
    db: AsyncSession, factory: async_sessionmaker[AsyncSession]
) -> None:
    owner = await make_user(db)
    event = await make_event(db, owner, session_times=SESSIONS)

    with pytest.raises(ValidationFailed) as caught:
        await runs.start_run(factory, event, owner, time_limit=2, free=[12345], spawn=False)

    assert caught.value.fields == {"free": "Not published meetings of this event: 12345."}


async def test_start_run_second_active_run_conflicts(
    db: AsyncSession, factory: async_sessionmaker[AsyncSession]
) -> None:
    owner = await make_user(db)
    event = await make_event(db, owner, session_times=SESSIONS)
    await runs.start_run(factory, event, owner, time_limit=2, spawn=False)

    with pytest.raises(Conflict):
        await runs.start_run(factory, event, owner, time_limit=2, spawn=False)


async def test_start_run_marks_stale_running_run_failed(
    db: AsyncSession, factory: async_sessionmaker[AsyncSession]
) -> None:
    owner = await make_user(db)
    event = await make_event(db, owner, session_times=SESSIONS)
    old = utcnow() - timedelta(minutes=5)
    stale = ScheduleRun(
        event_id=event.id, status="running", created_at=old, progress={"heartbeat": old.isoformat()}
    )
    db.add(stale)
    await db.commit()

    fresh = await runs.start_run(factory, event, owner, time_limit=2, spawn=False)

    assert (await _fetch(factory, stale.id)).status == "failed"
    assert (await _fetch(factory, stale.id)).error != ""
    assert fresh.status == "queued"


async def test_cancel_run_queued_run_is_not_solved(
    db: AsyncSession, factory: async_sessionmaker[AsyncSession]
) -> None:
    owner = await make_user(db)
    event = await make_event(db, owner, session_times=SESSIONS)
    run = await runs.start_run(factory, event, owner, time_limit=2, spawn=False)
    async with factory() as session:
        await runs.cancel_run(session, run.id, owner)
        await session.commit()

    await runs.execute_run(factory, run.id)

    cancelled = await _fetch(factory, run.id)
    assert cancelled.status == "cancelled"
    assert cancelled.solution == {}
    with pytest.raises(Conflict):
        async with factory() as session:
            await runs.cancel_run(session, run.id, owner)


async def test_get_run_stale_running_run_reads_as_failed(
    db: AsyncSession, factory: async_sessionmaker[AsyncSession]
) -> None:
    owner = await make_user(db)
    event = await make_event(db, owner, session_times=SESSIONS)
    old = utcnow() - timedelta(minutes=5)
    stale = ScheduleRun(event_id=event.id, status="running", created_at=old, progress={})
    db.add(stale)
    await db.commit()

    async with factory() as session:
        run, _ = await runs.get_run(session, stale.id, owner)

    assert run.status == "failed"


async def test_get_run_fresh_running_run_stays_running(
    db: AsyncSession, factory: async_sessionmaker[AsyncSession]
) -> None:
    owner = await make_user(db)
    event = await make_event(db, owner, session_times=SESSIONS)
    now = utcnow()
    fresh = ScheduleRun(
        event_id=event.id, status="running", created_at=now, progress={"heartbeat": now.isoformat()}
    )
    db.add(fresh)
    await db.commit()

    async with factory() as session:
        run, _ = await runs.get_run(session, fresh.id, owner)

    assert run.status == "running"
