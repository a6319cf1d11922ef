"""The Redis fan-out of the live channels, for several workers sharing one database.

What Litestar's ``RedisChannelsPubSubBackend`` leaves to us:

- Redis pub/sub channels are global to the server (the database index does not separate them),
  and our channel names (the live bus, ``web.live.fanout``) are only unique within one database.
  Two deployments, or two test runs, sharing a Redis would hear each other's rooms; a message
  from elsewhere with a larger ``seq`` would even make a connection skip the real ones. Every
  name gets a namespace derived from the database URL: workers that share a database share
  channels, no one else.
- Reading: the base class checks each incoming message against the set difference of all
  subscribed and leaving channels, built anew per message. Membership is checked directly here.
- Publishing: the base class runs a Lua script per message; ``publish_now`` is one plain PUBLISH
  (the fan-out sends each of the hub's batches as one message, ``web.live.fanout``). And the
  plugin's own publishing task (``ChannelsPlugin.publish``: the unstored messages, such as WebRTC
  signals) ended on the first failed publish: every later message queued forever, and shutdown
  waited for that queue. A message that cannot be published is logged and dropped here instead.
- A lost connection (Redis restarted, a network blip) ended the base class's reading for good:
  the worker went deaf to the others until it was restarted. Here reading goes on: redis-py
  reconnects and subscribes again, and ``on_resume`` callbacks learn that messages may have been
  missed meanwhile (the fan-out then has its sockets catch up from the database).
- redis-py's ``PubSub`` opens its connection on the first command. Concurrent first subscribes
  each open one, and only the last is ever read: channels subscribed on the others never receive
  anything. Subscribes and unsubscribes go one at a time.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import AsyncGenerator, Callable, Iterable
from typing import Any

from litestar.channels.backends.redis import RedisChannelsPubSubBackend
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy.engine import make_url

log = logging.getLogger(__name__)

RETRY_FIRST, RETRY_MOST = 0.05, 2.0  # seconds between attempts to reach Redis again, doubling


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
        self.on_resume: list[Callable[[], None]] = []

    async def subscribe(self, channels: Iterable[str]) -> None:
        async with self._subscribing:
            await super().subscribe([self.namespace + c for c in channels])

    async def unsubscribe(self, channels: Iterable[str]) -> None:
        async with self._subscribing:
            await super().unsubscribe([self.namespace + c for c in channels])

    async def publish(self, data: bytes, channels: Iterable[str]) -> None:
        try:
            await super().publish(data, [self.namespace + c for c in channels])
        except (RedisConnectionError, RedisTimeoutError, OSError) as exc:
            log.warning("live messages: an unstored message was dropped, Redis is unreachable (%s)", exc)

    async def publish_now(self, data: bytes, channel: str) -> None:
        """Publish ``data`` on ``channel`` and return once Redis has taken it (one round trip)."""
        await self._redis.publish(self.namespace + channel, data)

    async def stream_events(self) -> AsyncGenerator[tuple[str, Any], None]:
        cut = len(self.namespace)
        pubsub = self._pub_sub
        retry = 0.0  # 0 while connected
        while True:
            await self._has_subscribed.wait()
            try:
                message = await pubsub.get_message(
                    ignore_subscribe_messages=True, timeout=self._stream_sleep_no_subscriptions
                )
            except (RedisConnectionError, RedisTimeoutError, OSError) as exc:
                if not retry:
                    log.warning("live messages: lost Redis (%s); reconnecting", exc)
                retry = min(RETRY_MOST, retry * 2 or RETRY_FIRST)
                await asyncio.sleep(retry)
                continue
            if retry:  # connected again, the channels subscribed again by redis-py
                retry = 0.0
                log.warning("live messages: Redis is back")
                for callback in self.on_resume:
                    callback()
            if message is None:
                continue
            channel: bytes = message["channel"]
            # Redis may still deliver on a channel being unsubscribed: those are left out.
            if channel in pubsub.channels and channel not in pubsub.pending_unsubscribe_channels:
                yield channel[cut:].decode(), message["data"]
