"""How the live hub's writer stores a batch: one statement on PostgreSQL, one hop to a thread of
its own on SQLite. Each raises the batch's channel counters and inserts the messages with the
numbers they made room for, in one transaction."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from clockevents.db import configure_sqlite
from clockevents.live.messages import encode, iso
from clockevents.live.models import LiveMessage

STOP_GRACE = 5.0  # seconds a stopping writer gives the batch already on its way to the database


@dataclass
class Pending:
    """A message waiting for the writer, and the future its sender awaits."""

    channel_id: int
    channel: str
    type: str
    payload: dict[str, Any]
    user_id: int | None
    future: asyncio.Future[dict[str, Any]]


async def write_postgresql(
    connection: AsyncConnection, batch: list[Pending], now: datetime
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
            [encode(item.payload).decode() for item in batch],
            [item.user_id for item in batch],
            now,
        ),
    )
    return {row[0]: row[1] - counts[row[0]] + 1 for row in raised}


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


async def for_writing(connection: AsyncConnection, durable: bool = True) -> AsyncConnection:
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


def numbered(batch: list[Pending], next_seq: dict[int, int], now: datetime) -> list[dict[str, Any]]:
    """The batch's messages as sent: ``next_seq`` holds each channel's first new number."""
    at = iso(now)
    messages: list[dict[str, Any]] = []
    for item in batch:
        seq = next_seq[item.channel_id]
        next_seq[item.channel_id] = seq + 1
        messages.append({"type": item.type, "seq": seq, **item.payload, "at": at})
    return messages


class SqliteWriter:
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

    async def write(self, batch: list[Pending], now: datetime) -> dict[int, int]:
        counts = dict(Counter(item.channel_id for item in batch))
        rows = [(item.channel_id, item.type, encode(item.payload).decode(), item.user_id) for item in batch]
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
            raised = db.execute(_SQLITE_RAISE, (encode(counts).decode(),)).fetchall()
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
