"""The live hub: stores messages with their channel's next sequence number, then publishes them.

Every stored message (chat, note, presence, announcement, question…) is written to the database
before anyone sees it, so a client that reconnects with ``?after=SEQ`` misses nothing, also
across a restart. Writes from all connections of a worker are grouped: a single writer task takes
whatever is queued, numbers it and inserts the messages in one transaction,
publishes them in sequence order, then wakes the senders. Under load that is one commit for many
messages instead of one each, and no hop through the senders' tasks before a message goes out.

Sequence numbers are per channel: a batch takes those after the channel's highest stored number,
in the transaction that inserts the messages, and the unique index on (channel, seq) turns away a
batch another worker numbered the same meanwhile (it is numbered again), so numbers grow in
commit order whichever worker writes (``clockevents/live/storage.py``).

The hub does not know how messages travel; ``publish`` (given by the web layer: Litestar
channels, in memory or through Redis) sends encoded messages to a channel's subscribers.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from clockevents.background import cancel_and_wait
from clockevents.db import engine_of, utcnow
from clockevents.live import history as reading
from clockevents.live.messages import encode
from clockevents.live.models import LiveChannel
from clockevents.live.storage import (
    Pending,
    SqliteWriter,
    driver_of,
    for_writing,
    numbered,
    write_postgresql,
)

log = logging.getLogger(__name__)

Publisher = Callable[[bytes, str], None]
BatchPublisher = Callable[[list[tuple[bytes, str]]], Awaitable[None]]
MAX_BATCH = 400
IDLE_RECHECK = 30.0  # seconds: a connection idle this long goes back through the pool's check

# A channel's id by name, and its creation by whichever worker comes first: the insert gives the
# new id, or nothing when the name is already taken (then the lookup finds the winner's row).
_FIND_CHANNEL = select(LiveChannel.id).where(LiveChannel.name == bindparam("name"))
_CREATE_CHANNEL = {
    name: dialect.insert(LiveChannel)
    .values(name=bindparam("name"), event_id=bindparam("event_id"))
    .on_conflict_do_nothing(index_elements=[LiveChannel.name])
    .returning(LiveChannel.id)
    for name, dialect in (("postgresql", postgresql), ("sqlite", sqlite))
}


class LiveHub:
    """Group-committing writer of live messages plus the publisher that fans them out."""

    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        publish: Publisher | None = None,
        *,
        publish_batch: BatchPublisher | None = None,
        durable_commit: bool = False,
    ) -> None:
        self.session_factory = session_factory
        self._publish_batch = publish_batch
        self.durable_commit = durable_commit
        self._publish = publish
        self._queue: list[Pending] = []
        self._wakeup = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._channel_ids: dict[str, int] = {}
        # The highest number this worker stored in each channel: its next batch of that channel
        # is numbered after it without reading the database (``write_postgresql``).
        self._written: dict[int, int] = {}
        # The running writer keeps a connection of its own: taking one from the pool per batch
        # cost a liveness ping each time, and under load it waited behind the requests that
        # held the pool (a batch that waits too long fails, and its senders get the error).
        self._connection: AsyncConnection | None = None
        self._driver: Any = None  # its driver's connection (asyncpg), fetched once
        self._used_at = 0.0
        self._sqlite: SqliteWriter | None = None

    async def start(self) -> None:
        if self._task is None:
            self._wakeup = asyncio.Event()
            self._task = asyncio.create_task(self._writer(), name="live-writer")

    async def stop(self) -> None:
        task, self._task = self._task, None
        await cancel_and_wait(task)
        # Whatever is still queued reaches the database before the worker goes.
        while self._queue:
            await self._flush()
        await self._drop_connection()
        sqlite_writer, self._sqlite = self._sqlite, None
        if sqlite_writer is not None:
            await sqlite_writer.close()

    async def _drop_connection(self) -> None:
        connection, self._connection, self._driver = self._connection, None, None
        if connection is not None:
            with contextlib.suppress(Exception):
                await connection.invalidate()  # its session settings must not reach other users of the pool
                await connection.close()

    @property
    def _engine(self) -> AsyncEngine:
        return engine_of(self.session_factory)

    # channels ---------------------------------------------------------------------------

    async def channel_id(self, name: str, event_id: int) -> int:
        """The id of channel ``name``, created on first use (by any worker, exactly once).

        Core statements on one connection: through an ORM session, a first use took seven round
        trips and ~2 ms of CPU (the first join of every room pays it), a cold lookup ~0.9 ms.
        """
        cached = self._channel_ids.get(name)
        if cached is not None:
            return cached
        engine = self._engine
        async with engine.begin() as connection:
            found = await connection.scalar(_FIND_CHANNEL, {"name": name})
            if found is None:
                create = _CREATE_CHANNEL[engine.dialect.name]
                found = await connection.scalar(create, {"name": name, "event_id": event_id})
            if found is None:  # another worker created it meanwhile
                found = await connection.scalar(_FIND_CHANNEL, {"name": name})
        assert found is not None
        self._channel_ids[name] = found
        return found

    # storing and publishing -------------------------------------------------------------

    async def post(
        self,
        channel: str,
        event_id: int,
        type: str,
        payload: dict[str, Any],
        *,
        user_id: int | None = None,
    ) -> dict[str, Any]:
        """Store a message on ``channel``, publish it, and return it as sent (with its ``seq``)."""
        channel_id = await self.channel_id(channel, event_id)
        future = self._enqueue(channel_id, channel, type, payload, user_id)
        if self._task is None:  # no writer running (scripts, tests): write now
            await self._flush()
        return await future

    def post_nowait(
        self, channel: str, type: str, payload: dict[str, Any], *, user_id: int | None = None
    ) -> asyncio.Future[dict[str, Any]] | None:
        """``post`` without waiting: the message is queued for the writer, in order with every
        other, and the future gives it as sent. None when that cannot be done at once (no writer
        running, or a channel this worker has not used yet): then ``post`` it."""
        if self._task is None:
            return None
        channel_id = self._channel_ids.get(channel)
        if channel_id is None:
            return None
        return self._enqueue(channel_id, channel, type, payload, user_id)

    def _enqueue(
        self, channel_id: int, channel: str, type: str, payload: dict[str, Any], user_id: int | None
    ) -> asyncio.Future[dict[str, Any]]:
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._queue.append(Pending(channel_id, channel, type, payload, user_id, future))
        if self._task is not None:
            self._wakeup.set()
        return future

    def publish(self, channel: str, message: dict[str, Any]) -> None:
        """Send ``message`` to the channel's subscribers without storing it (or after storing it)."""
        if self._publish is not None:
            self._publish(encode(message), channel)

    async def _writer(self) -> None:
        while True:
            await self._wakeup.wait()
            self._wakeup.clear()
            while self._queue:
                await self._flush()

    async def _flush(self) -> None:
        batch, self._queue = self._queue[:MAX_BATCH], self._queue[MAX_BATCH:]
        if not batch:
            return
        try:
            messages = await self._write(batch)
        except asyncio.CancelledError:  # not written: the batch waits for the next writer
            self._queue[:0] = batch
            raise
        except Exception as exc:  # the senders get the error; the writer lives on
            log.exception("storing %d live messages failed", len(batch))
            for item in batch:
                if not item.future.done():
                    item.future.set_exception(exc)
            return
        if self._publish_batch is None and self._queue and self._task is not None:
            # More is waiting: it goes to the database first, and this batch is delivered while
            # that write is on its way (publishing without a batch publisher never waits).
            asyncio.get_running_loop().call_soon(self._publish_each, batch, messages)
        else:
            try:
                await self._deliver(batch, messages)
            except asyncio.CancelledError:  # stored: its senders get their answers all the same
                self._resolve(batch, messages)
                raise
            except Exception:
                # Stored but not published (Redis gone, say): the senders get their answers,
                # the readers find the messages in the database when they next catch up, and
                # the writer lives on for the next batch.
                log.exception("publishing %d stored live messages failed", len(batch))
                self._resolve(batch, messages)
        task = asyncio.current_task()
        if task is not None and task.cancelling():  # written although the writer was stopped meanwhile
            raise asyncio.CancelledError

    async def _deliver(self, batch: list[Pending], messages: list[dict[str, Any]]) -> None:
        # Published in commit order, so each channel's messages leave in sequence.
        if self._publish_batch is None:
            self._publish_each(batch, messages)
            return
        await self._publish_batch(
            [(encode(message), item.channel) for item, message in zip(batch, messages, strict=True)]
        )
        self._resolve(batch, messages)

    def _publish_each(self, batch: list[Pending], messages: list[dict[str, Any]]) -> None:
        for item, message in zip(batch, messages, strict=True):
            try:
                self.publish(item.channel, message)
            except Exception:  # stored all the same: the senders hear of it, readers catch up
                log.exception("publishing a live message on %s failed", item.channel)
        self._resolve(batch, messages)

    @staticmethod
    def _resolve(batch: list[Pending], messages: list[dict[str, Any]]) -> None:
        for item, message in zip(batch, messages, strict=True):
            if not item.future.done():
                item.future.set_result(message)

    async def _write(self, batch: list[Pending]) -> list[dict[str, Any]]:
        # No ORM session: around the batch's one statement it cost more CPU than the statement.
        engine = self._engine
        if engine.dialect.name != "postgresql":  # SQLite: in place, on a connection of the hub's own
            if self._sqlite is None:
                self._sqlite = SqliteWriter(engine)
            now = utcnow()
            return numbered(batch, await self._sqlite.write(batch, now), now)
        if self._task is None:  # no writer running (scripts, tests): a pooled connection
            async with engine.connect() as connection:
                connection = await for_writing(connection)
                return await self._write_on(await driver_of(connection), batch)
        if self._connection is not None and time.monotonic() - self._used_at > IDLE_RECHECK:
            await self._drop_connection()  # a fresh one below, from the pool, checked alive
        if self._connection is None:
            connection = await engine.connect()
            try:
                self._connection = await for_writing(connection, own=True, durable=self.durable_commit)
                # Fetched once: through SQLAlchemy each batch paid a greenlet switch for it.
                self._driver = await driver_of(self._connection)
            except BaseException:
                with contextlib.suppress(Exception):
                    await connection.invalidate()
                raise
        try:
            return await self._write_on(self._driver, batch)
        except BaseException:
            await self._drop_connection()  # perhaps broken: the next batch opens a fresh one
            raise
        finally:
            self._used_at = time.monotonic()

    async def _write_on(self, driver: Any, batch: list[Pending]) -> list[dict[str, Any]]:
        now = utcnow()
        return numbered(batch, await write_postgresql(driver, batch, now, self._written), now)

    # reading back (clockevents/live/history.py), here too: every caller already holds a hub
    last_seq = staticmethod(reading.last_seq)
    history = staticmethod(reading.history)
    recent = staticmethod(reading.recent)
