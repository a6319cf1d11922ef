"""Attendance after a worker dies: confirmations, the sweep of stale intervals, the overdue "left"."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from clockevents.db import create_engine, create_session_factory, utcnow
from clockevents.live import attendance, rooms, workshop_room
from clockevents.live.hub import LiveHub
from clockevents.live.keeper import HEARTBEAT, STALE_BEATS, AttendanceKeeper
from clockevents.live.messages import meeting_channel
from clockevents.live.models import Attendance, PresenceLease
from clockevents.settings import Settings
from tests.integration.live.conftest import Room, connect, recv_until, serve
from web.app import create_app


@pytest.fixture
async def factory(settings: Settings) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(settings.database_url)
    yield create_session_factory(engine)
    await engine.dispose()


@pytest.fixture
def hub(factory: async_sessionmaker[AsyncSession]) -> LiveHub:
    return LiveHub(factory)  # no writer task: each post is stored at once


async def _row(
    db: AsyncSession,
    room: Room,
    *,
    joined: datetime,
    seen: datetime | None,
    left: datetime | None = None,
    pending: bool = False,
) -> Attendance:
    row = Attendance(
        meeting_id=room.meeting.id,
        participant_id=room.a.id,
        user_id=room.a_user.id,
        role="participant",
        joined_at=joined,
        seen_at=seen,
        left_at=left,
        pending_left=pending,
    )
    db.add(row)
    await db.commit()
    return row


async def _presence(hub: LiveHub, factory: async_sessionmaker[AsyncSession], room: Room) -> list[str]:
    async with factory() as db:
        stored = await hub.history(db, meeting_channel(room.meeting.id), types=["presence"])
    return [m["state"] for m in stored if m["who"]["user_id"] == room.a_user.id]


async def _until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


async def _reload(factory: async_sessionmaker[AsyncSession], row_id: int) -> Attendance:
    async with factory() as db:
        found = await db.scalar(select(Attendance).where(Attendance.id == row_id))
    assert found is not None
    return found


async def test_a_dead_workers_connection_closes_at_its_last_confirmation_and_the_room_hears_left(
    db: AsyncSession, room: Room, hub: LiveHub, factory: async_sessionmaker[AsyncSession]
) -> None:
    now = utcnow()
    row = await _row(db, room, joined=now - timedelta(minutes=10), seen=now - timedelta(minutes=4))

    assert await AttendanceKeeper(hub, factory).sweep(now) == (1, 1)

    closed = await _reload(factory, row.id)
    assert (closed.left_at, closed.pending_left) == (now - timedelta(minutes=4), False)
    assert await _presence(hub, factory, room) == ["left"]
    async with factory() as check:
        summary = await attendance.summary(check, room.meeting.id, now)
    assert summary is not None
    assert summary.present_seconds == {room.a.id: 360.0}  # six minutes, not ten


async def test_confirmed_connections_stay_open(
    db: AsyncSession, room: Room, hub: LiveHub, factory: async_sessionmaker[AsyncSession]
) -> None:
    now = utcnow()
    old = now - STALE_BEATS * HEARTBEAT - timedelta(minutes=1)
    held = await _row(db, room, joined=old, seen=old)
    keeper = AttendanceKeeper(hub, factory)
    keeper.hold(held.id)

    assert await keeper.beat(now) == 1
    assert await keeper.sweep(now) == (0, 0)

    row = await _reload(factory, held.id)
    assert (row.seen_at, row.left_at) == (now, None)
    assert await _presence(hub, factory, room) == []
    keeper.release(held.id)
    assert await keeper.beat(now) == 0


async def test_the_left_a_dead_worker_owed_is_said_once_after_the_grace_period(
    db: AsyncSession, room: Room, hub: LiveHub, factory: async_sessionmaker[AsyncSession]
) -> None:
    now = utcnow()
    row = await _row(
        db,
        room,
        joined=now - timedelta(minutes=5),
        seen=now - timedelta(minutes=2),
        left=now - timedelta(minutes=1),
        pending=True,
    )
    keeper = AttendanceKeeper(hub, factory)

    assert await keeper.sweep(now) == (0, 1)
    assert await keeper.sweep(now) == (0, 0)
    assert await _presence(hub, factory, room) == ["left"]
    assert (await _reload(factory, row.id)).pending_left is False


async def test_within_the_grace_period_the_workers_own_timer_says_it_and_only_once(
    db: AsyncSession, room: Room, hub: LiveHub, factory: async_sessionmaker[AsyncSession]
) -> None:
    now = utcnow()
    row = await _row(
        db, room, joined=now - timedelta(minutes=5), seen=now, left=now - timedelta(seconds=5), pending=True
    )

    assert await AttendanceKeeper(hub, factory).sweep(now) == (0, 0)  # not overdue yet
    async with factory() as check:
        access = await rooms.room_access(check, room.a_user, room.meeting.id)
        assert await rooms.confirm_left(hub, check, access, row.id) is True
        assert await rooms.confirm_left(hub, check, access, row.id) is False
    assert await _presence(hub, factory, room) == ["left"]


async def test_another_open_connection_keeps_the_party_present(
    db: AsyncSession, room: Room, hub: LiveHub, factory: async_sessionmaker[AsyncSession]
) -> None:
    now = utcnow()
    stale = await _row(db, room, joined=now - timedelta(minutes=10), seen=now - timedelta(minutes=5))
    await _row(db, room, joined=now - timedelta(minutes=1), seen=now)  # a second tab, on a living worker

    assert await AttendanceKeeper(hub, factory).sweep(now) == (1, 0)
    assert (await _reload(factory, stale.id)).left_at == now - timedelta(minutes=5)
    assert await _presence(hub, factory, room) == []


async def test_workers_sweeping_at_once_close_and_tell_once(
    db: AsyncSession, room: Room, hub: LiveHub, factory: async_sessionmaker[AsyncSession]
) -> None:
    now = utcnow()
    await _row(db, room, joined=now - timedelta(minutes=10), seen=now - timedelta(minutes=3))
    keepers = [AttendanceKeeper(hub, factory) for _ in range(3)]

    results = await asyncio.gather(*(k.sweep(now) for k in keepers))

    assert sum(closed for closed, _ in results) == 1
    assert sum(said for _, said in results) == 1
    assert await _presence(hub, factory, room) == ["left"]


async def test_a_worker_confirms_the_room_connections_it_holds_and_only_those(
    settings: Settings, room: Room, factory: async_sessionmaker[AsyncSession]
) -> None:
    app = create_app(settings)
    keeper: AttendanceKeeper = app.state.keeper
    async with serve(settings, app=app) as base:
        ws = await connect(f"{base}/ws/meetings/{room.meeting.id}", room.a_token)
        await recv_until(ws, "snapshot")
        await recv_until(ws, "presence")  # the arrival is stored: its attendance row exists
        async with factory() as db:
            open_ids = list(await db.scalars(select(Attendance.id).where(Attendance.left_at.is_(None))))
        assert len(open_ids) == 1
        await _until(lambda: keeper.held == set(open_ids))  # the handler goes on after telling the room
        assert await keeper.beat() == 1
        await ws.close()
        await ws.wait_closed()
        await _until(lambda: not keeper.held)  # the server's side of the close runs on its own
    row = await _reload(factory, open_ids[0])
    assert row.left_at is not None and row.seen_at is not None and row.seen_at <= row.left_at


async def test_a_dead_workers_workshop_presence_ends_at_its_last_confirmation_and_says_left_once(
    db: AsyncSession, room: Room, hub: LiveHub, factory: async_sessionmaker[AsyncSession]
) -> None:
    now = utcnow()
    who = {"participant_id": room.a.id, "user_id": room.a_user.id, "name": "Ada Rossi", "role": "attendee"}
    seen = now - timedelta(minutes=3)
    lease = PresenceLease(
        channel="workshop:7",
        event_id=room.event.id,
        user_id=room.a_user.id,
        who=who,
        joined_at=seen,
        seen_at=seen,
    )
    fresh = PresenceLease(
        channel="workshop:7",
        event_id=room.event.id,
        user_id=room.b_user.id,
        who={},
        joined_at=now,
        seen_at=now,
    )
    db.add_all([lease, fresh])
    await db.commit()

    assert await AttendanceKeeper(hub, factory).sweep(now) == (1, 1)

    async with factory() as check:
        said = await hub.history(check, "workshop:7", types=["presence"])
        assert [(m["who"], m["state"]) for m in said] == [(who, "left")]
        ended = await check.get(PresenceLease, lease.id)
        assert ended is not None and ended.left_at == seen
        assert (await check.get(PresenceLease, fresh.id)).left_at is None  # type: ignore[union-attr]
        # The worker coming back to it later (it did not die, it stalled) says nothing more.
        assert await workshop_room.end_lease(check, lease.id, now) is False
        assert await workshop_room.end_lease(check, fresh.id, now) is True
