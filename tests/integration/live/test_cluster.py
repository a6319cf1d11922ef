"""Two workers as real processes, one database, fan-out through Redis: a room spans both."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from clockevents.live.models import Attendance
from clockevents.settings import Settings
from tests.integration.live.conftest import Room, connect, free_port, recv, recv_until

ROOT = Path(__file__).resolve().parents[3]
REDIS_HOST, REDIS_PORT = "127.0.0.1", 6379


def _redis_up() -> bool:
    import socket

    try:
        with socket.create_connection((REDIS_HOST, REDIS_PORT), timeout=1):
            return True
    except OSError:
        return False


pytestmark = pytest.mark.skipif(not _redis_up(), reason="Redis is not running on 127.0.0.1:6379")


def redis_url(settings: Settings) -> str:
    """A database index of its own per test database (1-15), so concurrent runs keep apart."""
    index = 1 + int(hashlib.sha256(settings.database_url.encode()).hexdigest(), 16) % 15
    return f"redis://{REDIS_HOST}:{REDIS_PORT}/{index}"


def start_worker(
    settings: Settings, port: int, log: Path, extra: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DATABASE_URL": settings.database_url,
        "SECRET_KEY": settings.secret_key,
        "CLOCKEVENTS_DATA_DIR": str(settings.data_dir),
        "BASE_URL": f"http://127.0.0.1:{port}",
        "REDIS_URL": redis_url(settings),
        **(extra or {}),
    }
    # The server as deployments run it (clockevents.cli.SERVER_OPTIONS), without migrating again.
    command = [sys.executable, "-m", "clockevents.cli", "serve", "--host", "127.0.0.1", "--port", str(port)]
    command += ["--log-level", "warning"]
    with log.open("wb") as out:
        return subprocess.Popen(command, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)


def wait_healthy(process: subprocess.Popen[bytes], port: int, log: Path) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"worker on port {port} did not start:\n{log.read_text()}")
        time.sleep(0.2)


@contextlib.contextmanager
def two_workers(
    settings: Settings, extra: dict[str, str] | None = None
) -> Iterator[tuple[list[str], list[subprocess.Popen[bytes]]]]:
    """Two uvicorn processes on two ports over one database: their ws:// bases and processes."""
    ports = [free_port(), free_port()]
    logs = [settings.data_dir / f"worker-{i}.log" for i in (1, 2)]
    processes = [start_worker(settings, port, log, extra) for port, log in zip(ports, logs, strict=True)]
    try:
        for process, port, log in zip(processes, ports, logs, strict=True):
            wait_healthy(process, port, log)
        yield [f"ws://127.0.0.1:{port}" for port in ports], processes
    finally:
        for process in processes:
            if process.poll() is None:
                process.terminate()
        for process in processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@pytest.fixture
def workers(settings: Settings, room: Room) -> Iterator[tuple[str, str]]:
    """Two uvicorn processes on two ports over the room's database; yield their ws:// bases."""
    with two_workers(settings) as (bases, _):
        yield bases[0], bases[1]


async def test_chat_and_presence_cross_between_workers(workers: tuple[str, str], room: Room) -> None:
    one, two = workers
    path = f"/ws/meetings/{room.meeting.id}"
    a = await connect(one + path, room.a_token)
    assert (await recv(a))["type"] == "snapshot"
    assert (await recv_until(a, "presence"))["who"]["participant_id"] == room.a.id

    b = await connect(two + path, room.b_token)
    snap = await recv(b)
    assert snap["presence"] == {str(room.a.id): "joined", str(room.b.id): "absent"}
    b_joined = await recv_until(a, "presence")  # stored by worker 2, heard on worker 1
    assert (b_joined["who"]["participant_id"], b_joined["state"]) == (room.b.id, "joined")

    await a.send(json.dumps({"type": "chat", "text": "from worker one"}))
    at_b = await recv_until(b, "chat")
    assert (at_b["text"], at_b["from"]["participant_id"]) == ("from worker one", room.a.id)
    assert (await recv_until(a, "chat"))["seq"] == at_b["seq"]

    await b.send(json.dumps({"type": "chat", "text": "from worker two"}))
    at_a = await recv_until(a, "chat")
    assert (at_a["text"], at_a["from"]["participant_id"], at_a["seq"]) == (
        "from worker two",
        room.b.id,
        at_b["seq"] + 1,
    )

    await b.send(json.dumps({"type": "signal", "data": {"sdp": "offer"}}))
    signal = await recv_until(a, "signal")
    assert (signal["data"], signal["from"]["participant_id"]) == ({"sdp": "offer"}, room.b.id)

    await b.close()
    left = await recv_until(a, "presence")
    assert (left["who"]["participant_id"], left["state"]) == (room.b.id, "left")
    await a.close()


async def test_a_chat_sent_while_redis_was_lost_still_arrives(
    workers: tuple[str, str], room: Room, settings: Settings
) -> None:
    from redis.asyncio import Redis

    one, two = workers
    path = f"/ws/meetings/{room.meeting.id}"
    a = await connect(one + path, room.a_token)
    assert (await recv(a))["type"] == "snapshot"
    b = await connect(two + path, room.b_token)
    assert (await recv(b))["type"] == "snapshot"
    await recv_until(a, "presence")  # b joined, heard across

    # Redis drops the workers' subscriber connections (as when it restarts); a chat is sent at once.
    admin = Redis.from_url(redis_url(settings))
    try:
        index = int(redis_url(settings).rsplit("/", 1)[1])
        listing = (await admin.execute_command("CLIENT", "LIST", "TYPE", "pubsub")).decode()
        readers = [
            f for f in (dict(kv.split("=", 1) for kv in line.split()) for line in listing.splitlines())
        ]
        ours = [f["addr"] for f in readers if f.get("db") == str(index)]
        assert len(ours) == 2  # one per worker, whatever the number of rooms
        for addr in ours:
            await admin.execute_command("CLIENT", "KILL", "ADDR", addr)
    finally:
        await admin.aclose()
    await b.send(json.dumps({"type": "chat", "text": "while Redis was away"}))
    at_a = await recv_until(a, "chat", timeout=15)
    assert (at_a["text"], at_a["from"]["participant_id"]) == ("while Redis was away", room.b.id)

    await a.send(json.dumps({"type": "chat", "text": "and after"}))
    at_b = await recv_until(b, "chat", timeout=15)
    while at_b["text"] != "and after":  # b's own message first
        at_b = await recv_until(b, "chat", timeout=15)
    assert at_b["seq"] == at_a["seq"] + 1
    await a.close()
    await b.close()


async def test_resume_on_the_other_worker_misses_nothing(workers: tuple[str, str], room: Room) -> None:
    one, two = workers
    path = f"/ws/meetings/{room.meeting.id}"
    a = await connect(one + path, room.a_token)
    b = await connect(two + path, room.b_token)
    await recv(a)
    await recv(b)
    await a.send(json.dumps({"type": "chat", "text": "one"}))
    seen = await recv_until(b, "chat")
    assert (await recv_until(a, "chat"))["seq"] == seen["seq"]
    await b.close()
    for text in ("two", "three"):
        await a.send(json.dumps({"type": "chat", "text": text}))
        await recv_until(a, "chat")

    # B comes back through worker one, which stored "two" and "three"; then worker two's turn.
    back = await connect(f"{one}{path}?after={seen['seq']}", room.b_token)
    replay = []
    while not replay or replay[-1].get("text") != "three":
        replay.append(await recv(back))
    assert [m["text"] for m in replay if m["type"] == "chat"] == ["two", "three"]
    seqs = [m["seq"] for m in replay]
    assert seqs == list(range(seen["seq"] + 1, seen["seq"] + 1 + len(seqs)))
    await back.close()

    await a.send(json.dumps({"type": "chat", "text": "four"}))
    last = await recv_until(a, "chat")
    again = await connect(f"{two}{path}?after={replay[-1]['seq']}", room.b_token)
    resumed = [await recv(again)]
    while resumed[-1].get("text") != "four":
        resumed.append(await recv(again))
    assert [m["text"] for m in resumed if m["type"] == "chat"] == ["four"]
    assert resumed[-1]["seq"] == last["seq"]
    assert all(m["type"] != "snapshot" for m in replay + resumed)

    await a.send(json.dumps({"type": "chat", "text": "five"}))
    live = await recv_until(again, "chat")  # after the replay, live messages from worker one
    assert (live["text"], live["seq"]) == ("five", (await recv_until(a, "chat"))["seq"])
    await again.close()
    await a.close()


async def test_a_worker_killed_mid_meeting_leaves_nobody_joined(
    settings: Settings, room: Room, db: AsyncSession
) -> None:
    path = f"/ws/meetings/{room.meeting.id}"
    # Confirmations every second: a connection silent for four is taken for a dead worker's.
    with two_workers(settings, {"LIVE_HEARTBEAT_SECONDS": "1"}) as ((one, two), processes):
        a = await connect(one + path, room.a_token)
        await recv_until(a, "presence")
        b = await connect(two + path, room.b_token)
        assert (await recv(b))["presence"][str(room.a.id)] == "joined"
        await recv_until(b, "presence")  # B's own arrival

        processes[0].kill()  # no goodbye, no "reconnecting", no grace timer: worker one is gone
        processes[0].wait()

        left = await recv_until(b, "presence", timeout=20)  # said by worker two's sweep
        assert (left["who"]["participant_id"], left["state"]) == (room.a.id, "left")
        await b.close()
    rows = (await db.scalars(select(Attendance).where(Attendance.participant_id == room.a.id))).all()
    assert len(rows) == 1
    assert rows[0].left_at is not None and rows[0].left_at == rows[0].seen_at  # its last confirmation


def test_channel_namespace_is_shared_by_one_database_only() -> None:
    from web.live.channels import namespace_for

    one = namespace_for("postgresql+asyncpg://app:secret@db:5432/clock")
    assert (
        namespace_for("postgresql+asyncpg://app:rotated@db:5432/clock") == one
    )  # the password plays no part
    assert namespace_for("postgresql+asyncpg://app:secret@db:5432/clock_staging") != one
    assert namespace_for("sqlite+aiosqlite:////srv/a.db") != namespace_for("sqlite+aiosqlite:////srv/b.db")
