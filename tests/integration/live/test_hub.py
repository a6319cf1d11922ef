"""The hub's writer: numbers per channel in order, stored before they are published, either commit mode."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from clockevents.db import create_engine, create_session_factory, utcnow
from clockevents.live.hub import LiveHub
from clockevents.live.messages import decode
from clockevents.live.models import LiveChannel, LiveMessage
from clockevents.live.storage import SHARED, Pending, driver_of, for_writing, write_postgresql
from clockevents.settings import Settings
from tests.integration.live.conftest import Room


@pytest.mark.parametrize("durable", [False, True], ids=["asynchronous-commit", "durable-commit"])
async def test_concurrent_posts_get_consecutive_numbers_and_are_stored_before_published(
    settings: Settings, room: Room, db: AsyncSession, durable: bool
) -> None:
    engine = create_engine(settings.database_url)
    factory = create_session_factory(engine)
    published: list[tuple[str, dict[str, object]]] = []

    async def publish_batch(messages: list[tuple[bytes, str]]) -> None:
        # When a batch is published, every message of it is already in the database.
        async with factory() as check:
            for data, channel in messages:
                message = decode(data)
                stored = await hub.history(check, channel, after=message["seq"] - 1)
                assert stored[0]["seq"] == message["seq"]
                published.append((channel, message))

    hub = LiveHub(factory, publish_batch=publish_batch, durable_commit=durable)
    await hub.start()
    try:
        event_id = room.event.id
        posts = [hub.post("meeting:a", event_id, "chat", {"text": f"a{i}"}) for i in range(20)]
        posts += [hub.post("meeting:b", event_id, "chat", {"text": f"b{i}"}) for i in range(5)]
        answers = await asyncio.gather(*posts)
    finally:
        await hub.stop()
        await engine.dispose()

    assert sorted(m["seq"] for m in answers[:20]) == list(range(1, 21))
    assert sorted(m["seq"] for m in answers[20:]) == list(range(1, 6))
    # Published in sequence on each channel, exactly the answers the senders got.
    for channel, count in (("meeting:a", 20), ("meeting:b", 5)):
        seqs = [m["seq"] for c, m in published if c == channel]
        assert seqs == list(range(1, count + 1))
    stored = await hub.history(db, "meeting:a")
    assert [(m["seq"], m["text"]) for m in stored] == sorted((m["seq"], m["text"]) for m in answers[:20])


@pytest.mark.parametrize("durable", [False, True], ids=["asynchronous-commit", "durable-commit"])
async def test_the_writers_settings_stay_on_its_own_connection(
    settings: Settings, room: Room, durable: bool
) -> None:
    if not settings.database_url.startswith("postgresql"):
        pytest.skip("synchronous_commit and the planner's settings are PostgreSQL's")
    engine = create_engine(settings.database_url)
    hub = LiveHub(create_session_factory(engine), durable_commit=durable)
    shown = ("synchronous_commit", "plan_cache_mode", "enable_seqscan")

    async def show(connection: AsyncConnection) -> list[str]:
        return [(await connection.exec_driver_sql(f"SHOW {name}")).scalar() for name in shown]

    await hub.start()
    try:
        stored = await hub.post("meeting:a", room.event.id, "chat", {"text": "hello"})
        assert stored["seq"] == 1
        writer = hub._connection
        assert writer is not None
        assert await show(writer) == ["on" if durable else "off", "force_generic_plan", "off"]
        await hub.stop()
        # The writer's connection is not handed back to the pool with its settings: the next
        # user of the pool runs with the defaults, as everywhere else in the application.
        async with engine.connect() as other:
            assert await show(other) == ["on", "auto", "on"]
    finally:
        await hub.stop()
        await engine.dispose()


async def test_stopping_while_a_batch_is_written_stores_each_message_once(
    settings: Settings, room: Room, db: AsyncSession
) -> None:
    engine = create_engine(settings.database_url)
    hub = LiveHub(create_session_factory(engine))
    await hub.start()
    try:
        await hub.channel_id("meeting:a", room.event.id)  # known: each post queues at its first step
        posts = [
            asyncio.create_task(hub.post("meeting:a", room.event.id, "chat", {"text": f"m{i}"}))
            for i in range(300)
        ]
        await asyncio.sleep(0)
        assert len(hub._queue) == 300
        while hub._queue:  # until the writer has taken them and is writing them
            await asyncio.sleep(0)
        await hub.stop()  # cancels the writer mid-batch; what is queued is written on the way out
        answers = await asyncio.wait_for(asyncio.gather(*posts), timeout=30)
    finally:
        await hub.stop()
        await engine.dispose()

    assert sorted(m["seq"] for m in answers) == list(range(1, 301))
    stored = await hub.history(db, "meeting:a")
    assert [m["seq"] for m in stored] == list(range(1, 301))
    assert sorted(m["text"] for m in stored) == sorted(f"m{i}" for i in range(300))


async def test_a_batch_stored_but_not_published_still_answers_its_senders(
    settings: Settings, room: Room, db: AsyncSession
) -> None:
    """Publishing fails (Redis gone) or is cut short by a stop: the messages are stored, so their
    senders get their answers, and the writer goes on with the next batch."""
    engine = create_engine(settings.database_url)
    failing = True
    blocked = asyncio.Event()
    published: list[int] = []

    async def publish_batch(messages: list[tuple[bytes, str]]) -> None:
        if failing:
            raise ConnectionError("the fan-out is down")
        if decode(messages[0][0])["text"] == "stuck":
            blocked.set()
            await asyncio.Event().wait()  # until cancelled
        published.extend(decode(data)["seq"] for data, _ in messages)

    hub = LiveHub(create_session_factory(engine), publish_batch=publish_batch)
    await hub.start()
    try:
        lost = await asyncio.wait_for(hub.post("meeting:a", room.event.id, "chat", {"text": "one"}), 10)
        failing = False
        after = await asyncio.wait_for(hub.post("meeting:a", room.event.id, "chat", {"text": "two"}), 10)
        stuck = asyncio.create_task(hub.post("meeting:a", room.event.id, "chat", {"text": "stuck"}))
        await asyncio.wait_for(blocked.wait(), 10)
        await hub.stop()  # cancels the writer while it publishes
        cut = await asyncio.wait_for(stuck, 10)
    finally:
        await hub.stop()
        await engine.dispose()

    assert [lost["seq"], after["seq"], cut["seq"]] == [1, 2, 3]
    assert published == [2]
    stored = await hub.history(db, "meeting:a")
    assert [(m["seq"], m["text"]) for m in stored] == [(1, "one"), (2, "two"), (3, "stuck")]


async def test_two_workers_creating_the_same_channels_at_once_share_one_row_each(
    settings: Settings, room: Room, db: AsyncSession
) -> None:
    engines = [create_engine(settings.database_url) for _ in range(2)]
    hubs = [LiveHub(create_session_factory(engine)) for engine in engines]
    names = [f"meeting:race{i}" for i in range(12)]
    try:
        # Each name asked by both workers at the same moment: one creates it, the other finds it.
        ids = await asyncio.gather(*(hub.channel_id(name, room.event.id) for name in names for hub in hubs))
        # A worker that did not create a channel still learns its id (cold cache, row exists).
        late = LiveHub(create_session_factory(engines[0]))
        known = [await late.channel_id(name, room.event.id) for name in names]
    finally:
        for engine in engines:
            await engine.dispose()

    assert ids[0::2] == ids[1::2] == known
    assert len(set(known)) == len(names)
    rows = (
        await db.execute(
            select(LiveChannel.name, func.count())
            .where(LiveChannel.name.in_(names))
            .group_by(LiveChannel.name)
        )
    ).all()
    assert sorted(rows) == sorted((name, 1) for name in names)


async def test_a_channel_another_worker_creates_while_this_one_looks_is_found_not_duplicated(
    settings: Settings, room: Room, db: AsyncSession
) -> None:
    engine = create_engine(settings.database_url)
    other = create_engine(settings.database_url)
    hub = LiveHub(create_session_factory(engine))
    try:
        async with other.connect() as rival:
            # The other worker has inserted the channel and not committed yet.
            await rival.execute(insert(LiveChannel).values(name="meeting:held", event_id=room.event.id))
            asking = asyncio.create_task(hub.channel_id("meeting:held", room.event.id))
            await asyncio.sleep(0.3)
            assert not asking.done()  # the name is taken by a transaction still open: it waits
            await rival.commit()
        found = await asyncio.wait_for(asking, 10)
    finally:
        await engine.dispose()
        await other.dispose()

    assert (await db.scalars(select(LiveChannel.id).where(LiveChannel.name == "meeting:held"))).all() == [
        found
    ]


async def test_two_workers_posting_to_the_same_channels_at_once_number_each_message_once(
    settings: Settings, room: Room, db: AsyncSession
) -> None:
    # Each worker numbers after the highest stored number; when both take the same one, the
    # unique index turns the second batch away and it is numbered again.
    engines = [create_engine(settings.database_url) for _ in range(2)]
    hubs = [LiveHub(create_session_factory(engine)) for engine in engines]
    names = ["meeting:shared0", "meeting:shared1", "meeting:shared2"]
    for hub in hubs:
        await hub.start()
    try:
        posts = [
            hubs[w].post(names[i % 3], room.event.id, "chat", {"text": f"w{w}-{i}"})
            for i in range(60)
            for w in (0, 1)
        ]
        answers = await asyncio.gather(*posts)
    finally:
        for hub in hubs:
            await hub.stop()
        for engine in engines:
            await engine.dispose()

    for k, name in enumerate(names):
        mine = [answer for j, answer in enumerate(answers) if (j // 2) % 3 == k]
        assert sorted(m["seq"] for m in mine) == list(range(1, 41))
        stored = await hubs[0].history(db, name)
        assert [m["seq"] for m in stored] == list(range(1, 41))
        assert sorted(m["text"] for m in stored) == sorted(m["text"] for m in mine)
        assert await hubs[0].last_seq(db, name) == 40


async def test_numbers_go_on_after_the_highest_stored_message(
    settings: Settings, room: Room, db: AsyncSession
) -> None:
    # Channels from before numbers were read from the messages, and messages stored by any other
    # path, are numbered on from what is there.
    channel = LiveChannel(name="meeting:old", event_id=room.event.id)
    db.add(channel)
    await db.flush()
    for seq in (1, 2, 7):
        db.add(LiveMessage(channel_id=channel.id, seq=seq, type="chat", payload={"text": str(seq)}))
    await db.commit()
    engine = create_engine(settings.database_url)
    hub = LiveHub(create_session_factory(engine))
    await hub.start()
    try:
        answers = [await hub.post("meeting:old", room.event.id, "chat", {"text": t}) for t in ("a", "b")]
        assert await hub.last_seq(db, "meeting:old") == 9
    finally:
        await hub.stop()
        await engine.dispose()
    assert [m["seq"] for m in answers] == [8, 9]
    assert await hub.last_seq(db, "meeting:empty") == 0


@pytest.mark.parametrize("known", [False, True], ids=["number-read", "number-known"])
async def test_a_batch_numbered_like_another_workers_uncommitted_one_takes_the_next_number(
    settings: Settings, room: Room, known: bool
) -> None:
    # The other worker has stored the channel's next number and not committed yet. This worker's
    # batch, numbered after the highest number it reads (or, ``known``, after its own last
    # message, without reading), waits for the other transaction (PostgreSQL: on the unique
    # index; SQLite: for the write lock), and once it commits is stored as the number after it,
    # not as a second one of the same.
    engine = create_engine(settings.database_url)
    other = create_engine(settings.database_url)
    hub = LiveHub(create_session_factory(engine))
    await hub.start()
    try:
        before = [await hub.post("meeting:raced", room.event.id, "chat", {"text": "first"})] if known else []
        channel_id = await hub.channel_id("meeting:raced", room.event.id)
        taken = len(before) + 1
        async with other.connect() as rival:
            await rival.execute(
                insert(LiveMessage).values(
                    channel_id=channel_id, seq=taken, type="chat", payload={"text": "theirs"}, user_id=None
                )
            )
            mine = asyncio.create_task(hub.post("meeting:raced", room.event.id, "chat", {"text": "mine"}))
            await asyncio.sleep(0.3)
            assert not mine.done()
            await rival.commit()
        answer = await asyncio.wait_for(mine, 10)
        async with create_session_factory(engine)() as check:
            stored = await hub.history(check, "meeting:raced")
    finally:
        await hub.stop()
        await engine.dispose()
        await other.dispose()
    assert [m["seq"] for m in before] + [answer["seq"]] == [*range(1, taken), taken + 1]
    assert [(m["seq"], m["text"]) for m in stored] == [
        *((m["seq"], "first") for m in before),
        (taken, "theirs"),
        (taken + 1, "mine"),
    ]


async def test_a_worker_numbers_after_another_workers_messages_stored_since_its_own_last(
    settings: Settings, room: Room, db: AsyncSession
) -> None:
    # Each worker numbers a channel it wrote to after its own last number, without reading the
    # database; when another worker stored in between, that number is taken and the batch is
    # numbered again after what is there.
    engines = [create_engine(settings.database_url) for _ in range(2)]
    a, b = (LiveHub(create_session_factory(engine)) for engine in engines)
    for hub in (a, b):
        await hub.start()
    try:
        answers = []
        for hub, text in ((a, "a1"), (a, "a2"), (b, "b1"), (a, "a3"), (b, "b2"), (b, "b3"), (a, "a4")):
            answers.append(await hub.post("meeting:turns", room.event.id, "chat", {"text": text}))
    finally:
        for hub in (a, b):
            await hub.stop()
        for engine in engines:
            await engine.dispose()
    assert [(m["seq"], m["text"]) for m in answers] == [
        (1, "a1"),
        (2, "a2"),
        (3, "b1"),
        (4, "a3"),
        (5, "b2"),
        (6, "b3"),
        (7, "a4"),
    ]
    stored = await a.history(db, "meeting:turns")
    assert [(m["seq"], m["text"]) for m in stored] == [(m["seq"], m["text"]) for m in answers]


async def test_a_channel_another_worker_writes_to_is_numbered_by_the_database_from_then_on(
    settings: Settings, room: Room
) -> None:
    # Guessing the next number of a channel two workers write to would fail every other batch, a
    # round trip each time: after one such failure its batches read the numbers instead.
    if not settings.database_url.startswith("postgresql"):
        pytest.skip("SQLite numbers every batch in place, under its write lock")
    engine = create_engine(settings.database_url)
    hub = LiveHub(create_session_factory(engine))
    loop = asyncio.get_running_loop()

    def pending(channel_id: int, name: str, text: str) -> Pending:
        return Pending(channel_id, name, "chat", {"text": text}, None, loop.create_future())

    try:
        mine = await hub.channel_id("meeting:mine", room.event.id)
        shared = await hub.channel_id("meeting:shared", room.event.id)
        async with engine.connect() as connection:
            driver = await driver_of(await for_writing(connection))
            written: dict[int, int] = {}
            now = utcnow()
            first = [pending(mine, "meeting:mine", "m1"), pending(shared, "meeting:shared", "s1")]
            assert await write_postgresql(driver, first, now, written) == {mine: 1, shared: 1}
            assert written == {mine: 1, shared: 1}
            # another worker stores in the shared channel
            assert await write_postgresql(driver, [pending(shared, "meeting:shared", "x")], now, {}) == {
                shared: 2
            }
            assert await write_postgresql(driver, [pending(mine, "meeting:mine", "m2")], now, written) == {
                mine: 2
            }
            assert written == {mine: 2, shared: 1}
            assert await write_postgresql(
                driver, [pending(shared, "meeting:shared", "s2")], now, written
            ) == {shared: 3}
            assert written == {mine: 2, shared: SHARED}
            assert await write_postgresql(
                driver, [pending(shared, "meeting:shared", "s3")], now, written
            ) == {shared: 4}
            assert written == {mine: 2, shared: SHARED}
        async with create_session_factory(engine)() as check:
            stored = await hub.history(check, "meeting:shared")
    finally:
        await engine.dispose()
    assert [(m["seq"], m["text"]) for m in stored] == [(1, "s1"), (2, "x"), (3, "s2"), (4, "s3")]
