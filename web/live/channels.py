"""The Redis fan-out of the live channels, for several workers sharing one database.

Two things Litestar's ``RedisChannelsPubSubBackend`` leaves to us:

- Redis pub/sub channels are global to the server (the database index does not separate them),
  and our channel names (``meeting:12``) are only unique within one database. Two deployments,
  or two test runs, sharing a Redis would hear each other's rooms; a message from elsewhere with
  a larger ``seq`` would even make a connection skip the real ones. Every name gets a namespace
  derived from the database URL: workers that share a database share channels, no one else.
- redis-py's ``PubSub`` opens its connection on the first command. Concurrent first subscribes
  (many sockets connecting at once) each open one, and only the last is ever read: rooms
  subscribed on the others never receive anything. Subscribes and unsubscribes go one at a time.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncGenerator, Iterable
from typing import Any

from litestar.channels.backends.redis import RedisChannelsPubSubBackend
from redis.asyncio import Redis
from sqlalchemy.engine import make_url


def namespace_for(database_url: str) -> str:
    """A short prefix shared by every worker of one database (the password plays no part)."""
    url = make_url(database_url).render_as_string(hide_password=True)  # "***" whatever the password
    return "ce" + hashlib.sha256(url.encode()).hexdigest()[:12] + ":"


class NamespacedRedisBackend(RedisChannelsPubSubBackend):
    """Redis pub/sub with a per-database namespace and serialised subscriptions."""

    def __init__(self, *, redis: Redis, namespace: str) -> None:
        super().__init__(redis=redis)
        self.namespace = namespace
        self._subscribing = asyncio.Lock()

    async def subscribe(self, channels: Iterable[str]) -> None:
        async with self._subscribing:
            await super().subscribe([self.namespace + c for c in channels])

    async def unsubscribe(self, channels: Iterable[str]) -> None:
        async with self._subscribing:
            await super().unsubscribe([self.namespace + c for c in channels])

    async def publish(self, data: bytes, channels: Iterable[str]) -> None:
        await super().publish(data, [self.namespace + c for c in channels])

    async def stream_events(self) -> AsyncGenerator[tuple[str, Any], None]:
        cut = len(self.namespace)
        async for channel, data in super().stream_events():
            yield channel[cut:], data
