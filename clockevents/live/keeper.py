"""Attendance that stays right when a worker dies: confirmations of open connections, and the sweep.

A worker closes a room connection's attendance interval and tells the room when the socket
ends. A worker that dies (killed, out of memory, its machine gone) does neither: its people would
stay "joined" for ever, count as present in the attendance, and a "reconnecting" it had said would
never become "left". So each worker confirms the connections it holds every heartbeat (15 s
unless LIVE_HEARTBEAT_SECONDS says otherwise; one UPDATE for all of them), and every worker
sweeps, just as often, for

- open intervals nobody confirmed for ``STALE_BEATS`` heartbeats: closed at their last
  confirmation, and
- "left" still to be said after the grace period, by a worker that is no longer there to say it,
- presence leases (workshop rooms, which keep no attendance) nobody confirmed for as long: ended,
  and their "left" said.

Every claim is a single UPDATE, so when several workers sweep at once each interval is closed,
and each "left" said, once.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from clockevents.accounts.models import User
from clockevents.background import cancel_and_wait
from clockevents.db import among, engine_of, utcnow
from clockevents.errors import DomainError
from clockevents.live import rooms
from clockevents.live.hub import LiveHub
from clockevents.live.models import Attendance, PresenceLease

log = logging.getLogger(__name__)

HEARTBEAT = timedelta(seconds=15)
STALE_BEATS = 4  # this many confirmations missed: the holding worker is gone
CHUNK = 5000  # ids per statement: on SQLite each holds the write lock for a short while only


class AttendanceKeeper:
    """One worker's part: confirm its own connections, sweep up after workers that died."""

    def __init__(
        self, hub: LiveHub, factory: async_sessionmaker[AsyncSession], heartbeat: timedelta = HEARTBEAT
    ) -> None:
        self.hub = hub
        self.factory = factory
        self.heartbeat = heartbeat
        self.stale_after = STALE_BEATS * heartbeat
        self.held: set[int] = set()  # attendance ids of the connections open on this worker
        self.leases: set[int] = set()  # presence leases of the connections open on this worker
        self._task: asyncio.Task[None] | None = None

    def hold(self, attendance_id: int) -> None:
        self.held.add(attendance_id)

    def release(self, attendance_id: int) -> None:
        self.held.discard(attendance_id)

    def hold_lease(self, lease_id: int) -> None:
        self.leases.add(lease_id)

    def release_lease(self, lease_id: int) -> None:
        self.leases.discard(lease_id)

    async def beat(self, now: datetime | None = None) -> int:
        """Confirm every connection this worker holds; return how many rows were confirmed."""
        if not self.held and not self.leases:
            return 0
        now = now or utcnow()
        confirmed = 0
        # Each statement commits by itself: on SQLite a transaction around them held the write
        # lock across turns of the busy event loop, and the live messages waited 10-17 ms for it.
        engine = engine_of(self.factory)
        async with engine.connect() as connection:
            connection = await connection.execution_options(isolation_level="AUTOCOMMIT")
            for table, held in ((Attendance, self.held), (PresenceLease, self.leases)):
                ids = sorted(held)
                for start in range(0, len(ids), CHUNK):
                    chunk = among(table.id, ids[start : start + CHUNK], engine.dialect.name)
                    result = await connection.execute(
                        update(table).where(chunk, table.left_at.is_(None)).values(seen_at=now)
                    )
                    confirmed += result.rowcount
        return confirmed

    async def sweep(self, now: datetime | None = None) -> tuple[int, int]:
        """Close what dead workers left open, then say the overdue "left"s: (closed, said)."""
        now = now or utcnow()
        last_seen = func.coalesce(Attendance.seen_at, Attendance.joined_at)
        async with self.factory() as db:
            async with db.begin():
                closed = (
                    await db.execute(
                        update(Attendance)
                        .where(Attendance.left_at.is_(None), last_seen < now - self.stale_after)
                        .values(left_at=last_seen, pending_left=True)
                        .returning(Attendance.id)
                        .execution_options(synchronize_session=False)
                    )
                ).all()
            # The worker's own timer says "left" at the end of the grace period; the sweep only
            # takes what is overdue by one more heartbeat, so it rarely races a living worker.
            # What it closed itself has been silent far longer than the grace period: at once.
            due = now - rooms.RECONNECT_GRACE - self.heartbeat
            closed_ids = [row.id for row in closed]
            pending = (
                await db.execute(
                    select(Attendance.id, Attendance.meeting_id, Attendance.user_id)
                    .where(
                        Attendance.pending_left.is_(True),
                        (Attendance.left_at < due) | Attendance.id.in_(closed_ids),
                    )
                    .order_by(Attendance.id)
                )
            ).all()
        said = 0
        for attendance_id, meeting_id, user_id in pending:
            async with self.factory() as db:
                said += await self._say_left(db, attendance_id, meeting_id, user_id)
        ended = await self._end_stale_leases(now)
        return len(closed) + ended, said + ended

    async def _end_stale_leases(self, now: datetime) -> int:
        async with self.factory() as db, db.begin():
            last_seen = func.coalesce(PresenceLease.seen_at, PresenceLease.joined_at)
            ended = (
                await db.execute(
                    update(PresenceLease)
                    .where(PresenceLease.left_at.is_(None), last_seen < now - self.stale_after)
                    .values(left_at=last_seen)
                    .returning(
                        PresenceLease.channel,
                        PresenceLease.event_id,
                        PresenceLease.user_id,
                        PresenceLease.who,
                    )
                    .execution_options(synchronize_session=False)
                )
            ).all()
        for channel, event_id, user_id, who in ended:
            await self.hub.post(channel, event_id, "presence", {"who": who, "state": "left"}, user_id=user_id)
        return len(ended)

    async def _say_left(
        self, db: AsyncSession, attendance_id: int, meeting_id: int, user_id: int | None
    ) -> int:
        user = await db.get(User, user_id) if user_id is not None else None
        try:
            room = await rooms.room_access(db, user, meeting_id)
        except DomainError:  # the meeting or the person's access is gone: nobody to tell
            await db.execute(
                update(Attendance).where(Attendance.id == attendance_id).values(pending_left=False)
            )
            await db.commit()
            return 0
        return int(await rooms.confirm_left(self.hub, db, room, attendance_id))

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.heartbeat.total_seconds())
            try:
                await self.beat()
                await self.sweep()
            except Exception:  # the next round tries again
                log.exception("keeping attendance failed")

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="attendance-keeper")

    async def stop(self) -> None:
        task, self._task = self._task, None
        await cancel_and_wait(task)
