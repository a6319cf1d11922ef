"""Where a chat message's time goes inside one worker of ours: ``bench_live.py --stages``.

Installed in the server's process (``live_servers.py --stages FILE``) before the app starts, by
wrapping three methods of the live hub. Between SIGUSR1 and SIGUSR2 (the load generator's steady
state) it times every chat message of the benchmark, whose text carries the moment it was sent on
the clock that all processes of the machine share (``time.perf_counter``):

- ``received``: from the send to the hub's queue (the socket, the event loop, the handler);
- ``queued``: from there to the start of the write of its batch (waiting for the batch before);
- ``written``: the batch's write, once per batch (for PostgreSQL its round trip to the server);
- ``published``: from the end of the write to the end of the sends to the channel's sockets;
- ``to_publish``: the whole way, from the send to the end of those sends;
- the event loop's lateness: how late a 1 ms timer fires, and how much of the longer delays (over
  2 ms) the loop's thread spent on the CPU: a delay with little CPU in it is time the process did
  not run at all (the operating system ran another).

At SIGUSR2 it writes the percentiles to FILE as JSON; the benchmark prints them under our row. The
wrappers cost a few microseconds per message.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

LATE_MS = 2.0  # the loop's delays counted apart (and the CPU in them)


class StageClock:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.on = False
        self.samples: dict[str, list[float]] = defaultdict(list)
        self.batch_sizes: list[int] = []
        self.posted: dict[int, tuple[float, float]] = {}  # id(payload): (sent, posted)
        self.written_at: dict[int, float] = {}
        self.late: list[tuple[float, float]] = []  # (delay, thread CPU during it), seconds
        self._ticker: asyncio.Task[None] | None = None

    # recording ---------------------------------------------------------------------------

    def begin(self) -> None:
        self.on = True

    def end(self) -> None:
        self.on = False
        self.path.write_text(json.dumps(self.summary()))

    def posting(self, payload: dict[str, Any]) -> None:
        now = time.perf_counter()
        try:
            sent = float(str(payload.get("text", "")).split(" ")[2])
        except (IndexError, ValueError):  # not one of the load generator's messages
            return
        self.samples["received"].append(now - sent)
        self.posted[id(payload)] = (sent, now)
        if self._ticker is None or self._ticker.done():
            self._ticker = asyncio.get_running_loop().create_task(self._tick())

    def writing(self, payloads: list[dict[str, Any]], started: float, done: float) -> None:
        self.samples["written"].append(done - started)
        self.batch_sizes.append(len(payloads))
        for payload in payloads:
            mark = self.posted.get(id(payload))
            if mark is not None:
                self.samples["queued"].append(started - mark[1])
                self.written_at[id(payload)] = done

    def resolving(self, payloads: list[dict[str, Any]]) -> None:
        now = time.perf_counter()
        for payload in payloads:
            mark = self.posted.pop(id(payload), None)
            written = self.written_at.pop(id(payload), None)
            if mark is not None and written is not None:
                self.samples["published"].append(now - written)
                self.samples["to_publish"].append(now - mark[0])

    async def _tick(self) -> None:
        while self.on:
            started, cpu = time.perf_counter(), time.thread_time()
            await asyncio.sleep(0.001)
            delay = time.perf_counter() - started - 0.001
            self.samples["loop_late"].append(delay)
            if delay * 1000 > LATE_MS:
                self.late.append((delay, time.thread_time() - cpu))

    def summary(self) -> dict[str, Any]:
        out: dict[str, Any] = {name: percentiles(values) for name, values in self.samples.items()}
        out["batch"] = sum(self.batch_sizes) / len(self.batch_sizes) if self.batch_sizes else 0.0
        total = sum(delay for delay, _ in self.late)
        out["late"] = {
            "count": len(self.late),
            "ms": 1000 * total,
            "cpu_share": sum(cpu for _, cpu in self.late) / total if total else 0.0,
        }
        return out

    # installing --------------------------------------------------------------------------

    def install(self) -> None:
        """Wrap the hub's ``_enqueue`` (every message stored goes through it, waited for or
        not), ``_write`` and ``_resolve`` (called once its batch is published)."""
        from clockevents.live.hub import LiveHub

        clock = self
        enqueue, write, resolve = LiveHub._enqueue, LiveHub._write, LiveHub._resolve

        def timed_enqueue(hub: LiveHub, *args: Any) -> asyncio.Future[dict[str, Any]]:
            _channel_id, _channel, kind, payload, _user_id = args  # as the hub passes them
            if clock.on and kind == "chat":
                clock.posting(payload)
            return enqueue(hub, *args)

        async def timed_write(hub: LiveHub, batch: list[Any]) -> list[dict[str, Any]]:
            started = time.perf_counter()
            messages = await write(hub, batch)
            if clock.on:
                clock.writing([item.payload for item in batch], started, time.perf_counter())
            return messages

        def timed_resolve(batch: list[Any], messages: list[dict[str, Any]]) -> None:
            if clock.on:
                clock.resolving([item.payload for item in batch])
            resolve(batch, messages)

        LiveHub._enqueue = timed_enqueue  # type: ignore[method-assign]
        LiveHub._write = timed_write  # type: ignore[method-assign]
        LiveHub._resolve = staticmethod(timed_resolve)  # type: ignore[method-assign]


def percentiles(values: list[float]) -> dict[str, float]:
    """p50, p90, p99 and max in milliseconds."""
    if not values:
        return {"n": 0}
    ordered = sorted(values)

    def at(q: float) -> float:
        return 1000 * ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    return {"n": len(ordered), "p50": at(0.50), "p90": at(0.90), "p99": at(0.99), "max": 1000 * ordered[-1]}


def line(stages: dict[str, Any]) -> str:
    """The benchmark's line for one server's stages."""

    def part(name: str, label: str) -> str:
        p = stages.get(name) or {}
        if not p.get("n"):
            return f"{label} -"
        return f"{label} {p['p50']:.2f}/{p['p90']:.2f}/{p['p99']:.2f}"

    late = stages.get("late", {})
    return (
        "stages, ms p50/p90/p99: "
        + " · ".join(
            (
                part("received", "received"),
                part("queued", "queued"),
                part("written", f"written (batches of {stages.get('batch', 0):.1f})"),
                part("published", "published"),
                part("to_publish", "sent to published"),
            )
        )
        + f"; loop late > {LATE_MS:g} ms {late.get('count', 0)} times, {late.get('ms', 0):.0f} ms in all,"
        f" {100 * late.get('cpu_share', 0):.0f} % of it on the CPU"
    )
