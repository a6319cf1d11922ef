"""The Redis bus between workers (web.live.fanout): two fan-outs in one process, real Redis."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import shutil
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from litestar.channels import ChannelsPlugin
from redis.asyncio import Redis

from clockevents.live.messages import encode
from web.live.channels import NamespacedRedisBackend
from web.live.fanout import BUS, BusSubscriber, Fanout

REDIS_URL = "redis://127.0.0.1:6379/0"
TIMEOUT = 5.0


class Inbox:
    """A socket's side of the fan-out: what it was pushed, in order."""

    def __init__(self) -> None:
        self.got: list[tuple[dict[str, Any], str]] = []
        self.arrived = asyncio.Event()

        self.catch_ups = 0

    def push(self, message: dict[str, Any], text: str) -> None:
        self.got.append((message, text))
        self.arrived.set()

    def catch_up(self) -> None:
        self.catch_ups += 1
        self.arrived.set()

    async def wait_for(self, count: int) -> list[tuple[dict[str, Any], str]]:
        async with asyncio.timeout(TIMEOUT):
            while len(self.got) < count:
                self.arrived.clear()
                await self.arrived.wait()
        return self.got


@contextlib.asynccontextmanager
async def worker(
    namespace: str, url: str = REDIS_URL
) -> AsyncIterator[tuple[Fanout, NamespacedRedisBackend]]:
    """One worker's fan-out as the app builds it, over its own Redis connection."""
    backend = NamespacedRedisBackend(redis=Redis.from_url(url), namespace=namespace)
    plugin = ChannelsPlugin(backend=backend, arbitrary_channels_allowed=True, subscriber_class=BusSubscriber)
    fanout = Fanout.over_redis(plugin, backend)
    async with plugin:
        try:
            yield fanout, backend
        finally:
            await fanout.close()


def fresh_namespace() -> str:
    """A database of its own, as far as Redis can tell."""
    return "test" + secrets.token_hex(4) + ":"


@contextlib.asynccontextmanager
async def two_workers(
    url: str = REDIS_URL, namespace: str | None = None
) -> AsyncIterator[tuple[Fanout, Fanout, NamespacedRedisBackend]]:
    """Two workers of one database: their fan-outs, and the first one's backend."""
    namespace = namespace or fresh_namespace()
    async with worker(namespace, url) as (one, backend), worker(namespace, url) as (two, _):
        yield one, two, backend


def chat(seq: int, text: str) -> bytes:
    return encode({"type": "chat", "seq": seq, "text": text})


async def test_a_batch_reaches_the_other_worker_just_after_it_joined() -> None:
    async with two_workers() as (one, two, _):
        inbox = Inbox()
        await one.join("meeting:1", inbox)  # nothing in between: live once join returns
        await two.publish_batch([(chat(1, "hello"), "meeting:1"), (chat(1, "elsewhere"), "meeting:2")])
        await two.publish_batch([(chat(2, "again"), "meeting:1")])
        got = await inbox.wait_for(2)
        assert [(m["seq"], m["text"]) for m, _ in got] == [(1, "hello"), (2, "again")]
        assert got[0][1] == chat(1, "hello").decode()  # the very text that was published


async def test_a_worker_delivers_its_own_batch_once() -> None:
    async with two_workers() as (one, two, _):
        mine, theirs = Inbox(), Inbox()
        await one.join("meeting:7", mine)
        await two.join("meeting:7", theirs)
        await one.publish_batch([(chat(1, "hi"), "meeting:7")])
        assert [m["text"] for m, _ in mine.got] == ["hi"]  # delivered here before Redis was asked
        await theirs.wait_for(1)
        await two.publish_batch([(chat(2, "back"), "meeting:7")])  # after one's own came back, if ever
        await mine.wait_for(2)
        await asyncio.sleep(0.2)
        assert [m["text"] for m, _ in mine.got] == ["hi", "back"]
        assert [m["text"] for m, _ in theirs.got] == ["hi", "back"]


async def test_an_unstored_message_crosses_too() -> None:
    async with two_workers() as (one, two, _):
        inbox = Inbox()
        await one.join("meeting:3", inbox)
        two.publish(encode({"type": "signal", "ephemeral": True, "data": {"sdp": "x"}}), "meeting:3")
        got = await inbox.wait_for(1)
        assert got[0][0] == {"type": "signal", "ephemeral": True, "data": {"sdp": "x"}}


async def test_another_database_and_a_garbled_message_are_not_heard() -> None:
    namespace = fresh_namespace()
    async with (
        two_workers(namespace=namespace) as (one, two, backend),
        worker("other" + namespace) as (stranger, _),
    ):
        inbox = Inbox()
        await one.join("meeting:5", inbox)
        await stranger.publish_batch([(chat(1, "not for you"), "meeting:5")])
        await backend.publish_now(b"\xc1 not a batch", BUS)
        await two.publish_batch([(chat(1, "for you"), "meeting:5")])
        got = await inbox.wait_for(1)
        await asyncio.sleep(0.2)
        assert [m["text"] for m, _ in got] == ["for you"]


async def test_leaving_stops_delivery() -> None:
    async with two_workers() as (one, two, _):
        gone, stays = Inbox(), Inbox()
        await one.join("meeting:9", gone)
        await one.join("meeting:9", stays)
        await one.leave("meeting:9", gone)
        await two.publish_batch([(chat(1, "after"), "meeting:9")])
        await stays.wait_for(1)
        assert gone.got == []


@pytest.mark.parametrize("count", [1, 3])
async def test_joins_at_once_subscribe_the_worker_once(count: int) -> None:
    namespace = fresh_namespace()
    async with two_workers(namespace=namespace) as (one, two, backend):
        inboxes = [Inbox() for _ in range(count)]
        await asyncio.gather(*(one.join(f"meeting:{i}", box) for i, box in enumerate(inboxes)))
        listening = await backend._redis.pubsub_numsub(namespace + BUS)
        assert listening == [((namespace + BUS).encode(), 1)]  # one per worker, whatever its rooms
        await two.join("meeting:0", Inbox())
        listening = await backend._redis.pubsub_numsub(namespace + BUS)
        assert listening == [((namespace + BUS).encode(), 2)]
        await two.publish_batch([(chat(1, f"to {i}"), f"meeting:{i}") for i in range(count)])
        for i, box in enumerate(inboxes):
            got = await box.wait_for(1)
            assert [m["text"] for m, _ in got] == [f"to {i}"]


async def test_a_message_ahead_of_its_turn_waits_for_the_one_before() -> None:
    async with two_workers() as (one, two, _):
        inbox = Inbox()
        await one.join("meeting:4", inbox)
        await one.publish_batch([(chat(1, "first"), "meeting:4")])
        await one.publish_batch([(chat(3, "third, stored here"), "meeting:4")])  # ahead of 2
        assert [m["seq"] for m, _ in inbox.got] == [1]
        await two.publish_batch([(chat(2, "second, from the other worker"), "meeting:4")])
        got = await inbox.wait_for(3)
        assert [m["seq"] for m, _ in got] == [1, 2, 3]


async def test_a_gap_that_is_not_filled_holds_nothing_up_for_long() -> None:
    async with worker(fresh_namespace()) as (one, _):
        inbox = Inbox()
        await one.join("meeting:6", inbox)
        await one.publish_batch([(chat(1, "first"), "meeting:6"), (chat(3, "third"), "meeting:6")])
        assert [m["seq"] for m, _ in inbox.got] == [1]
        got = await inbox.wait_for(2)  # the socket reads the missing one from the database itself
        assert [m["seq"] for m, _ in got] == [1, 3]
        await one.publish_batch([(chat(4, "fourth"), "meeting:6")])
        assert [m["seq"] for m, _ in inbox.got] == [1, 3, 4]


async def test_after_losing_redis_a_worker_hears_again_and_its_sockets_catch_up() -> None:
    async with two_workers() as (one, two, backend):
        inbox = Inbox()
        await one.join("meeting:8", inbox)
        await two.publish_batch([(chat(1, "before"), "meeting:8")])
        await inbox.wait_for(1)
        # Redis drops this worker's subscriber connection, as when it restarts.
        reader = backend._pub_sub.connection
        assert reader is not None and reader._writer is not None
        host, port = reader._writer.get_extra_info("sockname")[:2]
        admin = Redis.from_url(REDIS_URL)
        assert await admin.execute_command("CLIENT", "KILL", "ADDR", f"{host}:{port}") in (True, b"OK", "OK")
        async with asyncio.timeout(TIMEOUT):
            while inbox.catch_ups == 0:
                inbox.arrived.clear()
                await inbox.arrived.wait()
        await two.publish_batch([(chat(2, "after"), "meeting:8")])
        got = await inbox.wait_for(2)
        assert [m["text"] for m, _ in got] == ["before", "after"]
        assert inbox.catch_ups == 1
        await admin.aclose()


class OwnRedis:
    """A Redis server of the test's own, to stop and start again as a restart does."""

    def __init__(self) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = int(s.getsockname()[1])
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        exe = shutil.which("redis-server")
        assert exe, "redis-server is needed (.ci/run installs it)"
        command = [exe, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                assert time.monotonic() < deadline, "redis-server did not start"
                time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)


@pytest.fixture
def own_redis() -> Iterator[OwnRedis]:
    server = OwnRedis()
    server.start()
    try:
        yield server
    finally:
        server.stop()


def signal(n: int) -> bytes:
    return encode({"type": "signal", "ephemeral": True, "data": {"n": n}})


async def test_a_redis_restart_leaves_every_worker_publishing_and_hearing(own_redis: OwnRedis) -> None:
    # Also bounds the workers' shutdown, which waits for the plugin's publishing queue.
    async with asyncio.timeout(30):
        async with two_workers(own_redis.url) as (one, two, _):
            inbox, elsewhere = Inbox(), Inbox()
            await one.join("meeting:2", inbox)
            await two.join("meeting:2", elsewhere)
            two.publish(signal(1), "meeting:2")  # unstored, through the plugin's own publishing task
            await inbox.wait_for(1)

            own_redis.stop()
            two.publish(signal(2), "meeting:2")  # lost: Redis is away
            await asyncio.sleep(0.5)
            own_redis.start()

            async with asyncio.timeout(10):  # both read again, and their sockets catch up
                while inbox.catch_ups == 0 or elsewhere.catch_ups == 0:
                    inbox.arrived.clear()
                    await asyncio.sleep(0.05)
            two.publish(signal(3), "meeting:2")
            await one.publish_batch([(chat(1, "stored"), "meeting:2")])
            got = await inbox.wait_for(3)
            assert sorted(str(m.get("data", m.get("text"))) for m, _ in got) == [
                "stored",
                "{'n': 1}",
                "{'n': 3}",
            ]
            assert [m["text"] for m, _ in await elsewhere.wait_for(3) if m["type"] == "chat"] == ["stored"]
