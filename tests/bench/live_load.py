"""The live benchmark's load generator, run as its own process by ``bench_live.py``:
``python tests/bench/live_load.py SPEC.json`` connects every client, has each send one chat
message a second to its partner, measures delivery at the partner, and prints the figures as JSON
on its last line."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import resource
import signal
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


def raise_file_limit() -> None:
    """Thousands of sockets need thousands of descriptors: take the hard limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time a process has used so far (Linux /proc)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def local_postgres_pids() -> list[int]:
    """The processes of a PostgreSQL server on this machine (none when it runs elsewhere)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == "postgres":
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


@dataclass
class Tally:
    sent: list[int] = field(default_factory=list)  # per connection: messages sent
    got: list[set[int]] = field(default_factory=list)  # per connection: message numbers from the partner
    latencies: list[float] = field(default_factory=list)
    by_second: defaultdict[int, list[float]] = field(default_factory=lambda: defaultdict(list))
    in_window: int = 0
    connect_errors: int = 0
    closed_early: int = 0
    server_errors: int = 0
    first_error: str = ""


async def load_run(spec: dict[str, Any]) -> dict[str, Any]:
    """Connect every client, chat for ``seconds``, wait for stragglers, close; return the figures."""
    import websockets
    from websockets.asyncio.client import ClientConnection

    clients: list[tuple[str, str | None]] = []
    for url_a, token_a, url_b, token_b in spec["rooms"]:
        clients += [(url_a, token_a), (url_b, token_b)]
    n = len(clients)
    seconds: int = spec["seconds"]
    tally = Tally(sent=[0] * n, got=[set() for _ in range(n)])
    sockets: list[ClientConnection | None] = [None] * n
    ready = [asyncio.Event() for _ in range(n)]
    closing = False
    window = [float("inf"), float("inf")]
    gate = asyncio.Semaphore(spec.get("connect_concurrency", 64))
    first_message = spec["kind"] == "ours"  # our server greets with a snapshot

    def note_error(text: str) -> None:
        if not tally.first_error:
            tally.first_error = text

    async def reader(i: int, ws: ClientConnection) -> None:
        partner = i ^ 1
        got = tally.got[i]
        latencies = tally.latencies
        by_second = tally.by_second
        try:
            async for raw in ws:
                now = time.perf_counter()
                message = json.loads(raw)
                kind = message.get("type")
                if kind == "chat":
                    sender, k, stamp = message["text"].split(" ")
                    if int(sender) == partner:
                        got.add(int(k))
                        latencies.append(now - float(stamp))
                        by_second[int(k)].append(now - float(stamp))
                        if window[0] <= now <= window[1]:
                            tally.in_window += 1
                elif kind == "snapshot":
                    ready[i].set()
                elif kind == "error":
                    tally.server_errors += 1
                    note_error(f"server error: {message.get('reason')}")
        except websockets.ConnectionClosed as exc:
            if not closing:
                tally.closed_early += 1
                note_error(f"closed early: {exc}")
        except Exception as exc:  # a message we cannot read counts as an error, not a silent stop
            tally.server_errors += 1
            note_error(f"reading: {exc!r}")

    async def open_one(i: int) -> None:
        url, token = clients[i]
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        async with gate:
            try:
                ws = await websockets.connect(
                    url,
                    additional_headers=headers,
                    open_timeout=60,
                    ping_interval=None,
                    max_size=2**20,
                    compression="deflate" if spec.get("deflate", True) else None,
                )
            except Exception as exc:
                tally.connect_errors += 1
                note_error(f"connect: {exc!r}")
                return
            sockets[i] = ws
            readers.append(asyncio.create_task(reader(i, ws)))
            if first_message:
                try:
                    await asyncio.wait_for(ready[i].wait(), 60)
                except TimeoutError:
                    tally.connect_errors += 1
                    note_error("no snapshot within 60 s")

    readers: list[asyncio.Task[None]] = []
    t0 = time.perf_counter()
    await asyncio.gather(*(open_one(i) for i in range(n)))
    connect_seconds = time.perf_counter() - t0
    await asyncio.sleep(spec.get("settle", 2.0))  # let the presence messages of the arrivals pass

    start = time.perf_counter() + 0.5
    window[0], window[1] = start, start + seconds

    async def sender(i: int, ws: ClientConnection) -> None:
        phase = 0.0 if spec.get("shape") in ("tick", "drift") else random.random()
        drift = spec.get("shape") == "drift"
        for k in range(seconds):
            if drift:  # a second after the last send, however late that was
                await asyncio.sleep(max(0.0, start - time.perf_counter()) if k == 0 else 1.0)
            else:
                delay = start + phase + k - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
            text = f"{i} {k} {time.perf_counter():.6f}"
            try:
                await ws.send(json.dumps({"type": "chat", "text": text}))
            except websockets.ConnectionClosed:
                return
            tally.sent[i] += 1

    pids = spec.get("server_pids", [])
    cpu_start = sum(cpu_seconds(pid) for pid in pids)
    own_start = cpu_seconds(os.getpid())
    # The database's part, when it runs on this machine: every PostgreSQL process (the backends
    # serving the workers, the WAL writer…) over the same window.
    db_pids = local_postgres_pids() if spec.get("count_database") else []
    db_start = {pid: cpu_seconds(pid) for pid in db_pids}
    if spec.get("mark_steady"):
        for pid in pids:
            os.kill(pid, signal.SIGUSR1)
    await asyncio.gather(*(sender(i, ws) for i, ws in enumerate(sockets) if ws is not None))
    steady_cpu = sum(cpu_seconds(pid) for pid in pids) - cpu_start
    load_cpu = cpu_seconds(os.getpid()) - own_start
    # Per process, and never below zero: a process that ended meanwhile (an autovacuum worker)
    # reads as 0 and would otherwise take its earlier CPU off the total.
    db_cpu = sum(max(0.0, cpu_seconds(pid) - db_start[pid]) for pid in db_pids) if db_pids else None
    if spec.get("mark_steady"):
        for pid in pids:
            os.kill(pid, signal.SIGUSR2)
    deadline = time.perf_counter() + spec.get("grace", 5.0)
    while time.perf_counter() < deadline:
        if all(len(tally.got[i ^ 1]) >= tally.sent[i] for i in range(n)):
            break
        await asyncio.sleep(0.1)
    closing = True
    lost = sum(max(0, tally.sent[i] - len(tally.got[i ^ 1])) for i in range(n))

    async def close(ws: ClientConnection) -> None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(ws.close(), 10)

    await asyncio.gather(*(close(ws) for ws in sockets if ws is not None))
    for task in readers:
        task.cancel()
    await asyncio.gather(*readers, return_exceptions=True)
    lat = sorted(tally.latencies)

    def pct(p: float) -> float:
        return 1000 * lat[min(len(lat) - 1, int(p * len(lat)))] if lat else float("nan")

    return {
        "connections": n,
        "connected": sum(ws is not None for ws in sockets),
        "connect_seconds": round(connect_seconds, 1),
        "sent": sum(tally.sent),
        "delivered": len(lat),
        "per_second": tally.in_window / seconds,
        "in_window": tally.in_window,
        "p50_ms": pct(0.50),
        "p99_ms": pct(0.99),
        "max_ms": 1000 * lat[-1] if lat else float("nan"),
        "lost": lost,
        "errors": tally.connect_errors + tally.closed_early + tally.server_errors,
        "first_error": tally.first_error,
        "steady_cpu": steady_cpu,
        "load_cpu": load_cpu,  # this process's own, over the same window
        "db_cpu": db_cpu,
        # p99 of the messages sent in each second of the run: a stall shows as one bad second
        "p99_by_second_ms": [
            round(1000 * sorted(v)[int(0.99 * (len(v) - 1))], 1) for _, v in sorted(tally.by_second.items())
        ],
    }


def load_main(argv: list[str]) -> None:
    """``live_load.py SPEC.json``: run the load and print the figures as JSON on the last line."""
    raise_file_limit()
    spec = json.loads(Path(argv[0]).read_text())
    import uvloop

    result = uvloop.run(load_run(spec))
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    load_main(sys.argv[1:])
