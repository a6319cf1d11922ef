"""The live hub: stores messages with their channel's next sequence number, then publishes them.

Every stored message (chat, note, presence, announcement, question…) is written to the database
before anyone sees it, so a client that reconnects with ``?after=SEQ`` misses nothing, also
across a restart. Writes from all connections of a worker are grouped: a single writer task takes
whatever is queued, raises each channel's counter and inserts the messages in one transaction,
publishes them in sequence order, then wakes the senders. Under load that is one commit for many
messages instead of one each, and no hop through the senders' tasks before a message goes out.

Sequence numbers are per channel. The channel's counter row is locked (in id order, so two
workers cannot deadlock) and raised in the same transaction that inserts the messages, so
numbers grow in commit order whichever worker writes.

The hub does not know how messages travel; ``publish`` (given by the web layer: Litestar
channels, in memory or through Redis) sends encoded messages to a channel's subscribers.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import sqlite3
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import msgspec
from sqlalchemy import Select, and_, bindparam, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from clockevents.background import cancel_and_wait
from clockevents.db import configure_sqlite, utcnow
from clockevents.live.models import LiveChannel, LiveMessage

log = logging.getLogger(__name__)

Publisher = Callable[[bytes, str], None]
BatchPublisher = Callable[[list[tuple[bytes, str]]], Awaitable[None]]
MAX_BATCH = 400
IDLE_RECHECK = 30.0  # seconds: a connection idle this long goes back through the pool's check
STOP_GRACE = 5.0  # seconds a stopping writer gives the batch already on its way to the database

_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder()


def event_channel(event_id: int) -> str:
    return f"event:{event_id}"


def meeting_channel(meeting_id: int) -> str:
    return f"meeting:{meeting_id}"


def workshop_channel(workshop_id: int) -> str:
    return f"workshop:{workshop_id}"


def iso(value: datetime) -> str:
    """UTC, to the second, with a Z: what browsers and calendars read without doubt."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def encode(message: dict[str, Any]) -> bytes:
    return _encoder.encode(message)


def decode(data: bytes | str) -> Any:
    return _decoder.decode(data)


def wire(row: LiveMessage) -> dict[str, Any]:
    """The message as clients see it (``audience`` is kept for the sender's filter)."""
    return {"type": row.type, "seq": row.seq, **row.payload, "at": iso(row.created_at)}


@dataclass
class _Pending:
    channel_id: int
    channel: str
    type: str
    payload: dict[str, Any]
    user_id: int | None
    future: asyncio.Future[dict[str, Any]]


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
        self._queue: list[_Pending] = []
        self._wakeup = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._channel_ids: dict[str, int] = {}
        # The running writer keeps a connection of its own: taking one from the pool per batch
        # cost a liveness ping each time, and under load it waited behind the requests that
        # held the pool (a batch that waits too long fails, and its senders get the error).
        self._connection: AsyncConnection | None = None
        self._used_at = 0.0
        self._sqlite: _SqliteWriter | None = None

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
        connection, self._connection = self._connection, None
        if connection is not None:
            with contextlib.suppress(Exception):
                if not self.durable_commit:  # its session setting must not reach other users of the pool
                    await connection.invalidate()
                await connection.close()

    # channels ---------------------------------------------------------------------------

    async def channel_id(self, name: str, event_id: int) -> int:
        """The id of channel ``name``, created on first use (by any worker, exactly once)."""
        cached = self._channel_ids.get(name)
        if cached is not None:
            return cached
        async with self.session_factory() as db:
            found = await db.scalar(select(LiveChannel.id).where(LiveChannel.name == name))
            if found is None:
                try:
                    db.add(LiveChannel(name=name, event_id=event_id, last_seq=0))
                    await db.commit()
                except IntegrityError:  # another worker created it first
                    await db.rollback()
                found = await db.scalar(select(LiveChannel.id).where(LiveChannel.name == name))
        assert found is not None
        self._channel_ids[name] = found
        return found

    async def last_seq(self, db: AsyncSession, name: str) -> int:
        return (await db.scalar(select(LiveChannel.last_seq).where(LiveChannel.name == name))) or 0

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
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._queue.append(_Pending(channel_id, channel, type, payload, user_id, future))
        if self._task is None:  # no writer running (scripts, tests): write now
            await self._flush()
        else:
            self._wakeup.set()
        return await future

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

    async def _deliver(self, batch: list[_Pending], messages: list[dict[str, Any]]) -> None:
        # Published in commit order, so each channel's messages leave in sequence.
        if self._publish_batch is None:
            self._publish_each(batch, messages)
            return
        await self._publish_batch(
            [(encode(message), item.channel) for item, message in zip(batch, messages, strict=True)]
        )
        self._resolve(batch, messages)

    def _publish_each(self, batch: list[_Pending], messages: list[dict[str, Any]]) -> None:
        for item, message in zip(batch, messages, strict=True):
            try:
                self.publish(item.channel, message)
            except Exception:  # stored all the same: the senders hear of it, readers catch up
                log.exception("publishing a live message on %s failed", item.channel)
        self._resolve(batch, messages)

    @staticmethod
    def _resolve(batch: list[_Pending], messages: list[dict[str, Any]]) -> None:
        for item, message in zip(batch, messages, strict=True):
            if not item.future.done():
                item.future.set_result(message)

    async def _write(self, batch: list[_Pending]) -> list[dict[str, Any]]:
        # Core on a bare connection: a batch is three statements, and an ORM session around
        # them cost more CPU than the statements themselves.
        engine: AsyncEngine = self.session_factory.kw["bind"]
        if engine.dialect.name != "postgresql":  # SQLite: a connection and thread of the hub's own
            if self._sqlite is None:
                self._sqlite = _SqliteWriter(engine)
            now = utcnow()
            return _numbered(batch, await self._sqlite.write(batch, now), now)
        if self._task is None:  # no writer running (scripts, tests): a pooled connection
            async with engine.connect() as connection:
                return await self._write_on(await _for_writing(connection), batch)
        if self._connection is not None and time.monotonic() - self._used_at > IDLE_RECHECK:
            await self._drop_connection()  # a fresh one below, from the pool, checked alive
        if self._connection is None:
            connection = await engine.connect()
            try:
                self._connection = await _for_writing(connection, durable=self.durable_commit)
            except BaseException:
                with contextlib.suppress(Exception):
                    await connection.invalidate()
                raise
        try:
            return await self._write_on(self._connection, batch)
        except BaseException:
            await self._drop_connection()  # perhaps broken: the next batch opens a fresh one
            raise
        finally:
            self._used_at = time.monotonic()

    async def _write_on(self, connection: AsyncConnection, batch: list[_Pending]) -> list[dict[str, Any]]:
        now = utcnow()
        return _numbered(batch, await self._write_postgresql(connection, batch, now), now)

    async def _write_postgresql(
        self, connection: AsyncConnection, batch: list[_Pending], now: datetime
    ) -> dict[int, int]:
        """One statement, so one round trip and its own transaction: lock, raise, insert."""
        counts: Counter[int] = Counter()
        ordinals: list[int] = []
        for item in batch:
            counts[item.channel_id] += 1
            ordinals.append(counts[item.channel_id])
        ids = sorted(counts)
        # Straight to the driver (asyncpg, which prepares the statement once per connection): on
        # this path SQLAlchemy's adaptation cost more than PostgreSQL's work on the batch.
        raw = await connection.get_raw_connection()
        driver: Any = raw.driver_connection
        raised = await driver.fetch(
            _WRITE_BATCH,
            *(
                ids,
                [counts[i] for i in ids],
                [item.channel_id for item in batch],
                ordinals,
                [item.type for item in batch],
                [_encoder.encode(item.payload).decode() for item in batch],
                [item.user_id for item in batch],
                now,
            ),
        )
        return {row[0]: row[1] - counts[row[0]] + 1 for row in raised}

    # reading back -----------------------------------------------------------------------

    async def history(
        self,
        db: AsyncSession,
        channel: str,
        *,
        after: int | None = None,
        before: int | None = None,
        types: Iterable[str] | None = None,
        limit: int | None = None,
        newest: bool = False,
    ) -> list[dict[str, Any]]:
        """Stored messages of ``channel`` with after < seq < before, oldest first.

        ``newest`` with ``limit`` takes the last ``limit`` messages (still returned oldest first).
        """
        query = _history_statement(
            after is not None, before is not None, types is not None, limit is not None, newest
        )
        params: dict[str, Any] = {"channel": channel, "after": after, "before": before, "limit": limit}
        if types is not None:
            params["types"] = list(types)
        rows = (await db.execute(query, params)).all()
        if newest:
            rows.reverse()
        return [_wire_row(*row) for row in rows]

    async def recent(
        self, db: AsyncSession, channel: str, newest: Mapping[str, int | None]
    ) -> tuple[int, dict[str, list[dict[str, Any]]]]:
        """The channel's last ``seq`` and, for each type in ``newest``, its last messages (as many
        as the count says; None: all), oldest first.

        One statement where reading them one by one took four: what a newcomer is shown is read
        at one moment, and a room's way in costs a quarter of the queries.
        """
        kinds = tuple((kind, count is None) for kind, count in newest.items())
        query = _recent_statement(kinds)
        params: dict[str, Any] = {"channel": channel}
        params.update({f"count_{i}": count for i, count in enumerate(newest.values()) if count is not None})
        found: dict[str, list[dict[str, Any]]] = {kind: [] for kind in newest}
        last_seq = 0
        for row in (await db.execute(query, params)).all():
            last_seq = row[0]
            if row[2] is not None:
                found[row[1]].append(_wire_row(*row[1:]))
        return last_seq, found


@functools.cache
def _history_statement(after: bool, before: bool, types: bool, limit: bool, newest: bool) -> Select[Any]:
    """:meth:`LiveHub.history`'s statement for one combination of its filters, built once.

    Columns, not ORM objects: rows come back as the dicts clients get, without an identity map
    in between; and building a statement (with its cache key) cost more CPU than running it.
    """
    m, c = _MESSAGES, _CHANNELS
    query = select(m.c.type, m.c.seq, m.c.payload, m.c.created_at).where(
        m.c.channel_id == select(c.c.id).where(c.c.name == bindparam("channel")).scalar_subquery()
    )
    if after:
        query = query.where(m.c.seq > bindparam("after"))
    if before:
        query = query.where(m.c.seq < bindparam("before"))
    if types:
        query = query.where(m.c.type.in_(bindparam("types", expanding=True)))
    query = query.order_by(m.c.seq.desc() if newest else m.c.seq)
    if limit:
        query = query.limit(bindparam("limit"))
    return query


@functools.cache
def _recent_statement(kinds: tuple[tuple[str, bool], ...]) -> Select[Any]:
    """:meth:`LiveHub.recent`'s statement for one set of types, built once: building a statement
    of this size and its cache key costs more CPU than running it."""
    m, c = _MESSAGES, _CHANNELS
    rank = func.row_number().over(partition_by=m.c.type, order_by=m.c.seq.desc()).label("rank")
    ranked = (
        select(m.c.channel_id, m.c.type, m.c.seq, m.c.payload, m.c.created_at, rank)
        .where(
            m.c.channel_id == select(c.c.id).where(c.c.name == bindparam("channel")).scalar_subquery(),
            m.c.type.in_([kind for kind, _ in kinds]),
        )
        .subquery()
    )
    kept = or_(
        *(
            ranked.c.type == kind
            if every
            else and_(ranked.c.type == kind, ranked.c.rank <= bindparam(f"count_{i}"))
            for i, (kind, every) in enumerate(kinds)
        )
    )
    return (
        select(c.c.last_seq, ranked.c.type, ranked.c.seq, ranked.c.payload, ranked.c.created_at)
        .select_from(c.outerjoin(ranked, and_(ranked.c.channel_id == c.c.id, kept)))
        .where(c.c.name == bindparam("channel"))
        .order_by(ranked.c.seq)
    )


_MESSAGES = LiveMessage.__table__
_CHANNELS = LiveChannel.__table__


def _wire_row(type_: str, seq: int, payload: dict[str, Any], created_at: datetime) -> dict[str, Any]:
    return {"type": type_, "seq": seq, **payload, "at": iso(created_at)}


# the writer's statements ------------------------------------------------------------------------

# PostgreSQL: a batch is one statement whatever its size, prepared once by the driver (arrays
# instead of one parameter per row and channel, which SQLAlchemy would compile anew for every
# batch of a different shape). It runs as its own transaction: the counters are locked in id
# order (so two workers cannot deadlock), raised, and the messages inserted with the numbers the
# counters made room for ($4 is each message's place among its channel's messages in the batch).
#
# The writer's own connection runs with synchronous_commit off unless the deployment asks for
# durable commits (set once per connection: as a condition inside the statement it cost
# PostgreSQL more CPU than the rest of the batch). By default the commit returns once the
# messages are visible to every session, without waiting for the disk (PostgreSQL writes them
# there within three times wal_writer_delay, 0.6 s by default). A worker's restart loses nothing.
# A crash of the database server itself can lose the last fraction of a second of live messages,
# which clients may already have seen; the channel's counter goes back with them, so such a
# client could then also skip as many new ones. Waiting for the disk cost ~3 ms per batch, the
# largest part of a message's latency; deployments that prefer it set LIVE_DURABLE_COMMIT=1.
_WRITE_BATCH = """
WITH locked AS (
    SELECT c.id FROM live_channels AS c
    WHERE c.id = ANY($1::integer[])
    ORDER BY c.id FOR UPDATE
), raised AS (
    UPDATE live_channels AS c SET last_seq = c.last_seq + v.n
    FROM unnest($1::integer[], $2::integer[]) AS v(id, n)
    WHERE c.id = v.id AND c.id IN (SELECT id FROM locked)
    RETURNING c.id, c.last_seq, v.n
), inserted AS (
    INSERT INTO live_messages (channel_id, seq, type, payload, user_id, created_at)
    SELECT m.channel_id, r.last_seq - r.n + m.k, m.type, m.payload::json, m.user_id, $8
    FROM unnest($3::integer[], $4::integer[], $5::varchar[], $6::text[], $7::integer[])
        AS m(channel_id, k, type, payload, user_id)
    JOIN raised AS r ON r.id = m.channel_id
)
SELECT id, last_seq FROM raised
"""


async def _for_writing(connection: AsyncConnection, durable: bool = True) -> AsyncConnection:
    """On PostgreSQL the batch is a single statement, its own transaction: no BEGIN, no COMMIT.

    ``durable=False`` (the writer's own connection only) turns off synchronous commit for the
    session; such a connection never goes back to the pool (see ``LiveHub._drop_connection``).
    """
    if connection.dialect.name != "postgresql":
        return connection
    connection = await connection.execution_options(isolation_level="AUTOCOMMIT")
    if not durable:
        await connection.exec_driver_sql("SET synchronous_commit = off")
    return connection


def _numbered(batch: list[_Pending], next_seq: dict[int, int], now: datetime) -> list[dict[str, Any]]:
    """The batch's messages as sent: ``next_seq`` holds each channel's first new number."""
    at = iso(now)
    messages: list[dict[str, Any]] = []
    for item in batch:
        seq = next_seq[item.channel_id]
        next_seq[item.channel_id] = seq + 1
        messages.append({"type": item.type, "seq": seq, **item.payload, "at": at})
    return messages


class _SqliteWriter:
    """The hub's writes on SQLite: a connection of its own, used by one thread of its own.

    A batch is one hop to that thread, which raises the counters, inserts and commits. Through
    the async driver the same batch took three hops (statement, statement, commit), each one a
    wait for the busy event loop to come round, which tripled the tail latency of chat; and
    built with SQLAlchemy per batch (a CASE with a branch per channel), it cost ~7 ms of CPU at
    50 messages.
    """

    def __init__(self, engine: AsyncEngine) -> None:
        self._path = engine.url.database or ":memory:"
        process = LiveMessage.__table__.c.created_at.type.bind_processor(engine.dialect)
        self._created_at: Callable[[datetime], Any] = process or (lambda value: value)
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="live-writer")
        self._db: sqlite3.Connection | None = None

    async def write(self, batch: list[_Pending], now: datetime) -> dict[int, int]:
        counts = dict(Counter(item.channel_id for item in batch))
        rows = [
            (item.channel_id, item.type, _encoder.encode(item.payload).decode(), item.user_id)
            for item in batch
        ]
        work = self._thread.submit(self._write, counts, rows, self._created_at(now))
        try:
            return await asyncio.wrap_future(work)
        except asyncio.CancelledError:
            # The thread, once started, commits whatever happens here: put back, a committed
            # batch would be stored twice. So it is seen to its end and counts as written.
            if not work.cancelled():
                await asyncio.wait({asyncio.wrap_future(work)}, timeout=STOP_GRACE)
                if work.done() and work.exception() is None:
                    return work.result()
            raise

    def _write(
        self, counts: dict[int, int], rows: list[tuple[int, str, str, int | None]], created_at: Any
    ) -> dict[int, int]:
        if self._db is None:
            self._db = sqlite3.connect(self._path, timeout=30, isolation_level=None, check_same_thread=False)
            configure_sqlite(self._db)
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            raised = db.execute(_SQLITE_RAISE, (_encoder.encode(counts).decode(),)).fetchall()
            first = {cid: last - counts[cid] + 1 for cid, last in raised}
            seq = dict(first)
            values = []
            for channel_id, type_, payload, user_id in rows:
                values.append((channel_id, seq[channel_id], type_, payload, user_id, created_at))
                seq[channel_id] += 1
            db.executemany(_SQLITE_INSERT, values)
            db.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(Exception):
                db.execute("ROLLBACK")
            raise
        return first

    async def close(self) -> None:
        await asyncio.get_running_loop().run_in_executor(self._thread, self._close)
        self._thread.shutdown(wait=False)

    def _close(self) -> None:
        db, self._db = self._db, None
        if db is not None:
            db.close()


_SQLITE_RAISE = """
UPDATE live_channels SET last_seq = live_channels.last_seq + j.value
FROM json_each(?) AS j
WHERE live_channels.id = CAST(j.key AS INTEGER)
RETURNING live_channels.id, live_channels.last_seq
"""
_SQLITE_INSERT = """
INSERT INTO live_messages (channel_id, seq, type, payload, user_id, created_at)
VALUES (?, ?, ?, ?, ?, ?)
"""
