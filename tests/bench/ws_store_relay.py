"""The live benchmark's second yardstick: the minimal relay, storing each message before passing it on.

Like ``ws_relay.py`` (each path a room, every text message sent on to the others of its room),
but a message is first written to PostgreSQL, as our server must (the issue: stored before
published), in the cheapest way we know: one writer, group commit (whatever queued while the last
batch was being written goes in one ``INSERT … unnest``), asynchronous commit, asyncpg directly.
No sequence numbers, no authentication, no JSON parsing. It shows what storing first costs by
itself on this machine, apart from everything else our server does.

Run: python tests/bench/ws_store_relay.py --port 8766 --database-url postgresql://…
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from collections import defaultdict
from pathlib import Path

import asyncpg
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.bench.live_load import raise_file_limit  # noqa: E402

TABLE = "bench_relay_messages"
MAX_BATCH = 400


class StoringRelay:
    def __init__(self, db: asyncpg.Connection) -> None:
        self.db = db
        self.rooms: dict[str, set[ServerConnection]] = defaultdict(set)
        self.queue: list[tuple[str, str, ServerConnection]] = []
        self.wakeup = asyncio.Event()

    async def writer(self) -> None:
        while True:
            await self.wakeup.wait()
            self.wakeup.clear()
            while self.queue:
                batch, self.queue = self.queue[:MAX_BATCH], self.queue[MAX_BATCH:]
                await self.db.execute(
                    f"INSERT INTO {TABLE} (room, body) SELECT * FROM unnest($1::text[], $2::text[])",
                    [path for path, _, _ in batch],
                    [message for _, message, _ in batch],
                )
                for path, message, sender in batch:
                    for other in self.rooms.get(path, ()):
                        if other is not sender:
                            with contextlib.suppress(ConnectionClosed):
                                await other.send(message)

    async def relay(self, ws: ServerConnection) -> None:
        path = ws.request.path if ws.request else "/"
        room = self.rooms[path]
        room.add(ws)
        try:
            async for message in ws:
                text = message if isinstance(message, str) else message.decode()
                self.queue.append((path, text, ws))
                self.wakeup.set()
        except ConnectionClosed:
            pass
        finally:
            room.discard(ws)
            if not room:
                self.rooms.pop(path, None)


async def main(host: str, port: int, database_url: str) -> None:
    db = await asyncpg.connect(database_url)
    await db.execute("SET synchronous_commit = off")
    await db.execute(f"DROP TABLE IF EXISTS {TABLE}")
    await db.execute(
        f"CREATE TABLE {TABLE} (id bigserial PRIMARY KEY, room text NOT NULL, body text NOT NULL)"
    )
    relay = StoringRelay(db)
    writer = asyncio.create_task(relay.writer())
    stop = asyncio.get_running_loop().create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set_result, None)
    try:
        async with serve(relay.relay, host, port, max_size=64 * 1024, backlog=4096):
            print(f"storing relay listening on ws://{host}:{port}", flush=True)
            await stop
    finally:
        writer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await writer
        await db.execute(f"DROP TABLE IF EXISTS {TABLE}")
        await db.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8766)
    parser.add_argument("--database-url", required=True, help="a PostgreSQL URL (postgresql://…)")
    args = parser.parse_args()
    raise_file_limit()
    import uvloop

    url = args.database_url.replace("postgresql+asyncpg://", "postgresql://")
    uvloop.run(main(args.host, args.port, url))
