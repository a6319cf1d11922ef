"""The yardstick for the live benchmark: a minimal chat relay written directly on ``websockets``.

Each path is a room; every text message is sent on to the other connections of its room, as is.
No authentication, no storage, no JSON parsing: about the least work a Python server can do
for the same traffic. Run: python tests/bench/ws_relay.py --port 8765
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import resource
import signal
from collections import defaultdict

from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed

rooms: dict[str, set[ServerConnection]] = defaultdict(set)


async def relay(ws: ServerConnection) -> None:
    """Join the room of the request path and pass every message on to the others in it."""
    path = ws.request.path if ws.request else "/"
    room = rooms[path]
    room.add(ws)
    try:
        async for message in ws:
            for other in room:
                if other is not ws:
                    with contextlib.suppress(ConnectionClosed):
                        await other.send(message)
    except ConnectionClosed:
        pass
    finally:
        room.discard(ws)
        if not room:
            rooms.pop(path, None)


async def main(host: str, port: int) -> None:
    stop = asyncio.get_running_loop().create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set_result, None)
    async with serve(relay, host, port, max_size=64 * 1024, backlog=4096):
        print(f"relay listening on ws://{host}:{port}", flush=True)
        await stop


def raise_file_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--no-uvloop", action="store_true", help="the standard asyncio loop instead")
    args = parser.parse_args()
    raise_file_limit()
    if args.no_uvloop:
        asyncio.run(main(args.host, args.port))
    else:
        import uvloop

        uvloop.run(main(args.host, args.port))
