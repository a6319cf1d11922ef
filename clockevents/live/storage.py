"""How the live hub's writer stores a batch: one statement on PostgreSQL, in place on SQLite.
Each numbers the batch's messages after the highest number stored in their channel and inserts
them, in one transaction; the unique index on (channel, seq) catches two workers numbering the
same channel at once."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from asyncpg.exceptions import UniqueViolationError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from clockevents.db import configure_sqlite
from clockevents.live.messages import encode, iso
from clockevents.live.models import LiveMessage

BUSY_TIMEOUT = 30.0  # seconds a batch waits for SQLite's lock before its senders get an error
SHARED = -1  # in a worker's last numbers: a channel other workers write to as well
RACE_RETRIES = 20  # times a PostgreSQL batch is numbered again after another worker took its numbers
CHECKPOINT_EVERY = 0.5  # seconds between checkpoints of SQLite's write-ahead log while writing

log = logging.getLogger(__name__)


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
    driver: Any, batch: list[Pending], now: datetime, written: dict[int, int]
) -> dict[int, int]:
    """One statement, so one round trip and its own transaction: number, insert.

    ``driver``: the asyncpg connection under a connection from ``for_writing`` (straight to the
    driver, which prepares each statement once per connection: on this path SQLAlchemy's
    adaptation cost more than PostgreSQL's work on the batch).

    ``written``: the highest number this worker stored in each channel (kept up to date here).
    When it knows every channel of the batch, the batch is numbered after those and inserted as
    it is (``_INSERT_NUMBERED``); the unique index on (channel, seq) turns it away if another
    worker stored a message of one of its channels meanwhile, and it is then numbered by the
    database like a batch of channels it does not know (``_WRITE_BATCH``). Its channels are then
    marked ``SHARED``: written by other workers too (the two parties of a room on two workers,
    an event's channel), they are numbered by the database from then on, as a guess that fails
    every other batch would cost a round trip each time.
    """
    counts: Counter[int] = Counter()
    ordinals: list[int] = []
    for item in batch:
        counts[item.channel_id] += 1
        ordinals.append(counts[item.channel_id])
    ids = sorted(counts)
    types = [item.type for item in batch]
    payloads = [encode(item.payload).decode() for item in batch]
    authors = [item.user_id for item in batch]
    if all(written.get(channel_id, SHARED) != SHARED for channel_id in ids):
        first = {channel_id: written[channel_id] + 1 for channel_id in ids}
        channels = [item.channel_id for item in batch]
        seqs = [first[channel_id] + k - 1 for channel_id, k in zip(channels, ordinals, strict=True)]
        try:
            await driver.execute(_INSERT_NUMBERED, channels, seqs, types, payloads, authors, now)
        except UniqueViolationError:  # another worker stored after this one's last message
            written.update(dict.fromkeys(ids, SHARED))
        else:
            _remember(written, first, counts)
            return first
    place = {channel_id: i for i, channel_id in enumerate(ids, start=1)}
    args = (ids, [place[item.channel_id] for item in batch], ordinals, types, payloads, authors, now)
    for attempt in range(RACE_RETRIES + 1):
        try:
            bases = await driver.fetchval(_WRITE_BATCH, *args)
            break
        except UniqueViolationError:
            # Another worker stored a message of one of these channels after this statement
            # read the highest numbers: number the batch again, after theirs.
            if attempt == RACE_RETRIES:
                raise
    first = {channel_id: base + 1 for channel_id, base in zip(ids, bases, strict=True)}
    _remember(written, first, counts)
    return first


def _remember(written: dict[int, int], first: dict[int, int], counts: Counter[int]) -> None:
    for channel_id, seq in first.items():
        if written.get(channel_id) == SHARED:
            continue
        written[channel_id] = seq + counts[channel_id] - 1


# the writer's statements ------------------------------------------------------------------------

# PostgreSQL: a batch is one statement whatever its size, prepared once by the driver (arrays
# instead of one parameter per row and channel, which SQLAlchemy would compile anew for every
# batch of a different shape). It runs as its own transaction. Each channel's highest stored
# number is read from the unique index on (channel_id, seq) (``bases``, by the channel's place in
# $1), and the messages are inserted after it: $2 is each message's channel as a place in $1, $3
# its place among its channel's messages in the batch. Numbers of one channel therefore grow in
# commit order whichever worker writes: when two workers' batches take the same number, the
# second insert waits for the first transaction and fails once it commits, and its batch is
# numbered again (``write_postgresql``). The rows go in by channel id, so two batches waiting on
# each other's numbers cannot deadlock. No counter row is updated: a row version per batch on a
# hot table, and its lock, cost PostgreSQL more than the read of the index (4,000 batches of two
# measured apart: 10-25 % less of its CPU).
#
# The writer's own connection runs with synchronous_commit off unless the deployment asks for
# durable commits (set once per connection: as a condition inside the statement it cost
# PostgreSQL more CPU than the rest of the batch). By default the commit returns once the
# messages are visible to every session, without waiting for the disk (PostgreSQL writes them
# there within three times wal_writer_delay, 0.6 s by default). A worker's restart loses nothing.
# A crash of the database server itself can lose the last fraction of a second of live messages,
# which clients may already have seen; their numbers are then given again, so such a client could
# also skip as many new ones. Waiting for the disk cost ~3 ms per batch, the largest part of a
# message's latency; deployments that prefer it set LIVE_DURABLE_COMMIT=1.
_WRITE_BATCH = """
WITH bases AS (
    SELECT array_agg(
        coalesce(
            (SELECT m.seq FROM live_messages AS m WHERE m.channel_id = c.id ORDER BY m.seq DESC LIMIT 1), 0
        ) ORDER BY c.place
    ) AS base
    FROM unnest($1::integer[]) WITH ORDINALITY AS c(id, place)
), inserted AS (
    INSERT INTO live_messages (channel_id, seq, type, payload, user_id, created_at)
    SELECT ($1::integer[])[m.place], b.base[m.place] + m.k, m.type, m.payload::json, m.user_id, $7
    FROM bases AS b,
        unnest($2::integer[], $3::integer[], $4::varchar[], $5::text[], $6::integer[])
        AS m(place, k, type, payload, user_id)
    ORDER BY m.place, m.k
)
SELECT base FROM bases
"""

# A batch whose channels' last numbers this worker knows (it stored them) goes in numbered, without
# reading the index first: a quarter less of PostgreSQL's CPU per batch (4,000 batches of two
# messages measured apart: 82-90 µs against 110-120 µs). Numbers stay dense and in commit order:
# messages are never deleted one by one (only with their channel), so a number this worker
# thinks is next is taken exactly when another worker stored after it, and then the unique index
# turns the batch away (after waiting for that worker's transaction, if it is still open).
_INSERT_NUMBERED = """
INSERT INTO live_messages (channel_id, seq, type, payload, user_id, created_at)
SELECT m.channel_id, m.seq, m.type, m.payload::json, m.user_id, $6
FROM unnest($1::integer[], $2::integer[], $3::varchar[], $4::text[], $5::integer[])
    AS m(channel_id, seq, type, payload, user_id)
ORDER BY m.channel_id, m.seq
"""

# The writer's own connection plans the batch statement once (a generic plan) instead of anew
# for every batch: planning it cost PostgreSQL more than running it (0.36 ms of CPU for a batch of
# one message, 0.20 ms with the plan kept). A generic plan does not know the batch's size, so on a
# small table it would read the whole table; index lookups it must use.
WRITER_SETTINGS = ("SET plan_cache_mode = force_generic_plan", "SET enable_seqscan = off")


async def for_writing(
    connection: AsyncConnection, *, own: bool = False, durable: bool = True
) -> AsyncConnection:
    """On PostgreSQL the batch is a single statement, its own transaction: no BEGIN, no COMMIT.

    ``own``: the writer's own connection, set up for the batch statement (``WRITER_SETTINGS``) and,
    unless ``durable``, with synchronous commit off. Such a connection never goes back to the
    pool (see ``LiveHub._drop_connection``).
    """
    if connection.dialect.name != "postgresql":
        return connection
    connection = await connection.execution_options(isolation_level="AUTOCOMMIT")
    if own:
        for setting in WRITER_SETTINGS:
            await connection.exec_driver_sql(setting)
        if not durable:
            await connection.exec_driver_sql("SET synchronous_commit = off")
    return connection


async def driver_of(connection: AsyncConnection) -> Any:
    """The driver's connection (asyncpg) under ``connection``, which ``write_postgresql`` talks to."""
    return (await connection.get_raw_connection()).driver_connection


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
    """The hub's writes on SQLite: on the event loop's own thread, with a connection that never
    waits for the database's lock.

    A batch is numbered, inserted and committed in place: SQLite in WAL mode with synchronous
    NORMAL commits in tens of microseconds, less than any hop to another thread and back, which
    waits for the busy event loop to come round (through a writer thread of its own, a chat
    message took 2.0 ms at the median and 9.2 ms at p99 under 2,000 connections, at 359 µs of
    the worker's CPU per message; in place 0.7 and 2.4 ms, at 222 µs). Two things would block the
    loop, and neither may:

    - the lock, held by another connection (a request's transaction through the async driver,
      whose commit needs this very loop to come round; another worker): the connection's busy
      timeout is zero, and a batch that finds the lock taken lets the loop run and tries again;
    - checkpoints, which copy the write-ahead log into the database and wait for the disk: the
      connection never runs them itself; a thread of the hub's own does, every
      ``CHECKPOINT_EVERY`` seconds while messages are written (without them the log would grow by
      megabytes a second under load).
    """

    def __init__(self, engine: AsyncEngine) -> None:
        self._path = engine.url.database or ":memory:"
        process = LiveMessage.__table__.c.created_at.type.bind_processor(engine.dialect)
        self._created_at: Callable[[datetime], Any] = process or (lambda value: value)
        self._db: sqlite3.Connection | None = None
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="live-checkpoint")
        self._checkpointer: sqlite3.Connection | None = None
        self._checkpoint: Future[None] | None = None
        self._checkpointed_at = time.monotonic()

    async def write(self, batch: list[Pending], now: datetime) -> dict[int, int]:
        channels = list(dict.fromkeys(item.channel_id for item in batch))
        rows = [(item.channel_id, item.type, encode(item.payload).decode(), item.user_id) for item in batch]
        created_at = self._created_at(now)
        tries = 0
        give_up = time.monotonic() + BUSY_TIMEOUT
        while True:
            try:
                first = self._write(channels, rows, created_at)
                break
            except sqlite3.OperationalError as exc:
                if exc.sqlite_errorcode & 0xFF != sqlite3.SQLITE_BUSY:
                    raise
            # Taken: the loop runs (the holder may be waiting for it), then another try, at
            # first at once, then up to a millisecond apart, for as long as SQLite would wait.
            if time.monotonic() > give_up:
                raise sqlite3.OperationalError("database is locked (live messages not stored)")
            await asyncio.sleep(0 if tries < 8 else 0.001)
            tries += 1
        self._maybe_checkpoint()
        return first

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
        configure_sqlite(db)
        return db

    def _write(
        self, channels: list[int], rows: list[tuple[int, str, str, int | None]], created_at: Any
    ) -> dict[int, int]:
        if self._db is None:
            db = self._connect()
            db.execute("PRAGMA busy_timeout=0")
            db.execute("PRAGMA wal_autocheckpoint=0")
            self._db = db
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            highest = db.execute(_SQLITE_HIGHEST, (encode(channels).decode(),)).fetchall()
            first = {cid: last + 1 for cid, last in highest}
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

    def _maybe_checkpoint(self) -> None:
        if self._checkpoint is not None and not self._checkpoint.done():
            return
        if time.monotonic() - self._checkpointed_at < CHECKPOINT_EVERY:
            return
        self._checkpointed_at = time.monotonic()
        self._checkpoint = self._thread.submit(self._run_checkpoint)

    def _run_checkpoint(self) -> None:
        # PASSIVE: copies what no reader still needs, takes no lock writers wait for.
        try:
            if self._checkpointer is None:
                self._checkpointer = self._connect()
            self._checkpointer.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        except sqlite3.Error:  # the next one will do (the other connections checkpoint too)
            log.warning("checkpointing the live messages' log failed", exc_info=True)

    async def close(self) -> None:
        db, self._db = self._db, None
        if db is not None:
            db.close()
        await asyncio.get_running_loop().run_in_executor(self._thread, self._close_checkpointer)
        self._thread.shutdown(wait=False)

    def _close_checkpointer(self) -> None:
        db, self._checkpointer = self._checkpointer, None
        if db is not None:
            db.close()


# Each channel's highest stored number, read in the transaction that inserts after it (the
# write lock, taken by BEGIN IMMEDIATE, keeps every other writer out until the commit).
_SQLITE_HIGHEST = """
SELECT j.value, coalesce((SELECT max(m.seq) FROM live_messages AS m WHERE m.channel_id = j.value), 0)
FROM json_each(?) AS j
"""
_SQLITE_INSERT = """
INSERT INTO live_messages (channel_id, seq, type, payload, user_id, created_at)
VALUES (?, ?, ?, ?, ?, ?)
"""
