"""The hub's writer on SQLite stores in place, on the event loop's thread: it must never wait
for the database's lock there (the holder may need the loop to finish), and it must checkpoint
the write-ahead log off the loop. These run on a SQLite file of their own whichever database
the rest of the suite uses."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from clockevents.db import create_engine, create_session_factory
from clockevents.live.hub import LiveHub
from clockevents.live.models import LiveMessage
from clockevents.migrate import upgrade
from tests.factories.accounts import make_user
from tests.factories.events import make_event


@pytest.fixture
async def sqlite_event(tmp_path: Path) -> AsyncIterator[tuple[AsyncEngine, Path, int]]:
    path = tmp_path / "live.db"
    url = f"sqlite+aiosqlite:///{path}"
    upgrade(url)
    engine = create_engine(url)
    async with create_session_factory(engine)() as db:
        event = await make_event(db, await make_user(db, name="Olga Organiser"))
        await db.commit()
        event_id = event.id
    try:
        yield engine, path, event_id
    finally:
        await engine.dispose()


async def test_a_batch_waits_for_a_lock_whose_holder_needs_the_event_loop(
    sqlite_event: tuple[AsyncEngine, Path, int],
) -> None:
    engine, _, event_id = sqlite_event
    hub = LiveHub(create_session_factory(engine))

    async def scenario() -> dict[str, object]:
        await hub.post("meeting:a", event_id, "chat", {"text": "before"})
        # A request's transaction holds the write lock; its commit goes through the async
        # driver's thread and back through this event loop.
        async with engine.connect() as holder:
            await holder.execute(text("UPDATE live_channels SET name = name"))
            waiting = asyncio.create_task(hub.post("meeting:a", event_id, "chat", {"text": "during"}))
            await asyncio.sleep(0.3)
            assert not waiting.done()  # not stored while the lock is held...
            await holder.commit()  # ...and the loop is free for the holder to let it go
        return await waiting

    await hub.start()
    try:
        # A writer that waited for the lock on the loop's thread would hold up the holder's
        # commit until its own busy timeout (seconds), and this would time out.
        stored = await asyncio.wait_for(scenario(), timeout=10)
    finally:
        await hub.stop()
    assert stored["seq"] == 2
    async with engine.connect() as check:
        rows = (
            await check.execute(select(LiveMessage.seq, LiveMessage.payload).order_by(LiveMessage.seq))
        ).all()
    assert [(seq, payload["text"]) for seq, payload in rows] == [(1, "before"), (2, "during")]


async def test_the_write_ahead_log_is_checkpointed_while_messages_are_written(
    sqlite_event: tuple[AsyncEngine, Path, int],
) -> None:
    engine, path, event_id = sqlite_event
    hub = LiveHub(create_session_factory(engine))
    await hub.start()
    text_kb = "x" * 1024
    try:
        await hub.post("meeting:a", event_id, "chat", {"text": "first"})
        size_before = path.stat().st_size
        # 400 KiB of messages over about 1.5 s: the writer itself never checkpoints, and no
        # other connection writes meanwhile, so only the hub's checkpoints bring them into the
        # database file (the log stays beside it until then).
        for _ in range(30):
            await asyncio.gather(
                *(hub.post("meeting:a", event_id, "chat", {"text": text_kb}) for _message in range(13))
            )
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.3)
        size_after = path.stat().st_size
    finally:
        await hub.stop()
    assert size_after - size_before > 300 * 1024
