from __future__ import annotations

from datetime import time

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from clockevents.accounts.models import User
from clockevents.agenda import runs
from clockevents.agenda.models import Meeting, MeetingSeat, ScheduleRun, TableBooking
from clockevents.agenda.publish import compute_changes, publish_run
from clockevents.errors import Conflict, PermissionDenied
from clockevents.events.models import Event, Slot
from clockevents.notify.models import Notification
from clockevents.registration.models import Participant
from tests.factories.accounts import make_user
from tests.factories.agenda import make_meeting, make_request, slot_at
from tests.factories.events import make_event
from tests.factories.registration import make_participant

SESSIONS = ((time(9, 0), time(10, 0)), (time(14, 0), time(15, 0)))  # four slots


async def _build(
    factory: async_sessionmaker[AsyncSession], event: Event, owner: User, **options: object
) -> int:
    run = await runs.start_run(factory, event, owner, time_limit=2, spawn=False, **options)
    await runs.execute_run(factory, run.id)
    async with factory() as db:
        done = await db.get(ScheduleRun, run.id)
        assert done is not None
        assert done.status == "done", done.error
    return run.id


async def _publish(factory: async_sessionmaker[AsyncSession], run_id: int, actor: User) -> None:
    async with factory() as db:
        await publish_run(db, run_id, actor)
        await db.commit()


async def _agenda(db: AsyncSession, event: Event) -> list[tuple[int, int, int, int | None, str, int]]:
    """(a, b, slot index, table, status, sequence) of every meeting, as stored."""
    rows = await db.execute(
        select(Meeting, Slot.index)
        .join(Slot, Slot.id == Meeting.slot_id)
        .where(Meeting.event_id == event.id)
        .order_by(Meeting.id)
        .execution_options(populate_existing=True)
    )
    return [(m.a_id, m.b_id, index, m.table, m.status, m.sequence) for m, index in rows.all()]


async def _seats(db: AsyncSession) -> list[tuple[int, int]]:
    rows = await db.execute(
        select(MeetingSeat.participant_id, Slot.index)
        .join(Slot, Slot.id == MeetingSeat.slot_id)
        .order_by(MeetingSeat.participant_id, Slot.index)
    )
    return [tuple(r) for r in rows.all()]  # type: ignore[misc]


async def _pinned_pair(db: AsyncSession) -> tuple[User, Event, Participant, Participant]:
    """An event where Ada and Bruno can only meet in slot 2."""
    owner = await make_user(db)
    event = await make_event(db, owner, session_times=SESSIONS)
    a = await make_participant(db, event)
    b = await make_participant(db, event)
    a.unavailable_slots = [0, 1, 3]
    await db.commit()
    return owner, event, a, b


async def test_publish_run_writes_meetings_seats_tables_and_notifies(
    db: AsyncSession, factory: async_sessionmaker[AsyncSession]
) -> None:
    owner, event, a, b = await _pinned_pair(db)
    await make_request(db, a, b, priority=2)
    run_id = await _build(factory, event, owner)

    await _publish(factory, run_id, owner)

    assert await _agenda(db, event) == [(a.id, b.id, 2, 1, "scheduled", 0)]
    assert await _seats(db) == [(a.id, 2), (b.id, 2)]
    assert list(await db.scalars(select(TableBooking.table))) == [1]
    meeting = await db.scalar(select(Meeting))
    assert meeting is not None
    assert meeting.uid.startswith("meeting-")
    assert meeting.uid.endswith("@clockevents")
    assert meeting.weight == 2
    assert meeting.published_at is not None
    notes = list(await db.scalars(select(Notification).order_by(Notification.user_id)))
    assert [(n.user_id, n.kind, n.url) for n in notes] == [
        (a.user_id, "agenda", f"/events/{event.slug}/agenda"),
        (b.user_id, "agenda", f"/events/{event.slug}/agenda"),
    ]
    published = await db.get(ScheduleRun, run_id, populate_existing=True)
    assert published is not None
    assert published.status == "published"


async def test_rerun_after_late_acceptance_keeps_published_meeting_in_place(
    db: AsyncSession, factory: async_sessionmaker[AsyncSession]
) -> None:
    owner, event, a, b = await _pinned_pair(db)
    c = await make_participant(db, event)
    first = await make_meeting(db, await make_request(db, a, b), await slot_at(db, event, 1), table=4)
    a.unavailable_slots = []
    await db.commit()
    late = await make_request(db, a, c, priority=3)
    run_id = await _build(factory, event, owner)

    async with factory() as session:
        run = await session.get(ScheduleRun, run_id)
        assert run is not None
        changes = await compute_changes(session, run, event)
    assert changes["summary"] == {
        "added": 1,
        "moved": 0,
        "removed": 0,
        "unchanged": 1,
        "participants_changed": 2,
    }
    assert [(m["change"], m["meeting"]) for m in changes["meetings"]] == [("added", f"r{late.id}")]
    assert [(p["participant_id"], p["changed"]) for p in changes["participants"]][-1] == (b.id, False)

    await _publish(factory, run_id, owner)

    agenda = await _agenda(db, event)
    assert agenda[0] == (a.id, b.id, 1, 4, "scheduled", 0)
    assert agenda[1][:2] == (a.id, c.id)
    assert agenda[1][2] in (0, 2)  # next to Ada's other meeting: no break
    assert await db.scalar(select(Meeting.uid).where(Meeting.id == first.id)) == first.uid
    notified = set(await db.scalars(select(Notification.user_id)))
    assert notified == {a.user_id, c.user_id}


async def test_freed_meeting_moves_keeps_uid_and_raises_sequence(
    db: AsyncSession, factory: async_sessionmaker[AsyncSession]
) -> None:
    owner, event, a, b = await _pinned_pair(db)
    meeting = await make_meeting(db, await make_request(db, a, b), await slot_at(db, event, 0))
    run_id = await _build(factory, event, owner, free=[meeting.id])

    await _publish(factory, run_id, owner)

    assert await _agenda(db, event) == [(a.id, b.id, 2, 1, "scheduled", 1)]
    assert await _seats(db) == [(a.id, 2), (b.id, 2)]
    assert await db.scalar(select(Meeting.uid)) == meeting.uid


async def test_publish_run_conflict_writes_nothing(
    db: AsyncSession, factory: async_sessionmaker[AsyncSession]
) -> None:
    owner, event, a, b = await _pinned_pair(db)
    c = await make_participant(db, event)
    await make_request(db, a, b)
    await make_request(db, b, c)
    run_id = await _build(factory, event, owner)
    # After the build, Bruno books slot 2 with someone else: the draft's seat is gone.
    d = await make_participant(db, event)
    await make_meeting(
        db,
        await make_request(db, b, d, status="pending"),
        await slot_at(db, event, 2),
        status="held",
        table=None,
        published=False,
    )
    before = await _agenda(db, event)

    with pytest.raises(Conflict):
        await _publish(factory, run_id, owner)

    assert await _agenda(db, event) == before
    assert list(await db.scalars(select(Notification))) == []
    run = await db.get(ScheduleRun, run_id, populate_existing=True)
    assert run is not None
    assert run.status == "done"


async def test_publish_run_participant_is_refused(
    db: AsyncSession, factory: async_sessionmaker[AsyncSession]
) -> None:
    owner, event, a, b = await _pinned_pair(db)
    await make_request(db, a, b)
    run_id = await _build(factory, event, owner)
    participant_user = await db.get(User, a.user_id)

    with pytest.raises(PermissionDenied):
        await _publish(factory, run_id, participant_user)

    assert await _agenda(db, event) == []


async def test_publish_run_twice_conflicts(
    db: AsyncSession, factory: async_sessionmaker[AsyncSession]
) -> None:
    owner, event, a, b = await _pinned_pair(db)
    await make_request(db, a, b)
    run_id = await _build(factory, event, owner)
    await _publish(factory, run_id, owner)

    with pytest.raises(Conflict):
        await _publish(factory, run_id, owner)


async def test_compute_changes_request_left_out_again_changes_nobody(
    db: AsyncSession, factory: async_sessionmaker[AsyncSession]
) -> None:
    owner, event, a, b = await _pinned_pair(db)
    c = await make_participant(db, event)
    await make_request(db, a, b, priority=3)
    await make_request(db, a, c)  # Ada has one free slot: this one cannot fit
    run_id = await _build(factory, event, owner)

    async with factory() as session:
        run = await session.get(ScheduleRun, run_id)
        assert run is not None
        changes = await compute_changes(session, run, event)

    assert changes["summary"] == {
        "added": 1,
        "moved": 0,
        "removed": 0,
        "unchanged": 0,
        "participants_changed": 2,
    }
    assert {p["participant_id"]: p["changed"] for p in changes["participants"]} == {
        a.id: True,
        b.id: True,
        c.id: False,
    }


async def test_publish_self_booked_meeting_gets_a_table_and_stays(
    db: AsyncSession, factory: async_sessionmaker[AsyncSession]
) -> None:
    owner, event, a, b = await _pinned_pair(db)
    booked = await make_meeting(
        db, await make_request(db, a, b), await slot_at(db, event, 3), table=None, published=False
    )
    run_id = await _build(factory, event, owner, free=[])

    await _publish(factory, run_id, owner)

    assert await _agenda(db, event) == [(a.id, b.id, 3, 1, "scheduled", 0)]
    assert await _seats(db) == [(a.id, 3), (b.id, 3)]
    refreshed = await db.get(Meeting, booked.id, populate_existing=True)
    assert refreshed is not None
    assert refreshed.published_at is not None
    assert list(await db.scalars(select(Notification))) == []


async def test_publish_older_draft_after_newer_publish_conflicts(
    db: AsyncSession, factory: async_sessionmaker[AsyncSession]
) -> None:
    owner, event, a, b = await _pinned_pair(db)
    await make_request(db, a, b)
    older = await _build(factory, event, owner)
    newer = await _build(factory, event, owner)
    await _publish(factory, newer, owner)

    with pytest.raises(Conflict):
        await _publish(factory, older, owner)

    assert len(await _agenda(db, event)) == 1
    run = await db.get(ScheduleRun, older, populate_existing=True)
    assert run is not None
    assert run.status == "done"
