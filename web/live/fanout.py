"""A worker's side of the live fan-out: one channels subscription per channel, shared by its sockets.

Litestar's channels plugin carries every published message to the workers that listen on its
channel (in memory, or through Redis when several workers share the event). Within a worker the
message then goes to each local socket of that channel. Subscribing once per channel instead of
once per socket means one queue, one task and one decode per message and worker, whatever the
number of sockets; a meeting room's two parties receive the very text that was published.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any, Protocol

import msgspec
from litestar.channels import ChannelsPlugin, Subscriber

from clockevents.live.hub import decode

log = logging.getLogger(__name__)


# Up to this many sockets on a channel (a meeting room's two parties) are served one after the
# other by the channel's task; a busier channel hands each socket its own queue, so that a client
# that stops reading cannot hold up everyone else's messages.
DIRECT = 2


class Receiver(Protocol):
    async def deliver(self, message: dict[str, Any], text: str | None = None) -> None: ...

    def offer(self, message: dict[str, Any], text: str | None = None) -> None: ...


class _Channel:
    __slots__ = ("name", "receivers", "subscriber", "task")

    def __init__(self, name: str) -> None:
        self.name = name
        self.receivers: list[Receiver] = []
        self.subscriber: Subscriber | None = None
        self.task: asyncio.Task[None] | None = None


class Fanout:
    """Routes each channel's messages to the sockets of this worker that joined it."""

    def __init__(self, plugin: ChannelsPlugin) -> None:
        self.plugin = plugin
        self._channels: dict[str, _Channel] = {}

    def receivers(self, name: str) -> int:
        channel = self._channels.get(name)
        return len(channel.receivers) if channel else 0

    async def join(self, name: str, receiver: Receiver) -> None:
        """Start delivering ``name``'s messages to ``receiver`` (subscribing the worker if needed)."""
        channel = self._channels.get(name)
        if channel is not None:
            channel.receivers.append(receiver)
            return
        channel = self._channels[name] = _Channel(name)
        channel.receivers.append(receiver)
        subscriber = await self.plugin.subscribe([name])
        if self._channels.get(name) is not channel:  # everyone left while it was subscribing
            await self.plugin.unsubscribe(subscriber)
            return
        channel.subscriber = subscriber
        channel.task = asyncio.create_task(self._pump(channel), name=f"live-fanout {name}")

    async def leave(self, name: str, receiver: Receiver) -> None:
        """Stop delivering to ``receiver``; the last one to leave ends the worker's subscription."""
        channel = self._channels.get(name)
        if channel is None:
            return
        with contextlib.suppress(ValueError):
            channel.receivers.remove(receiver)
        if channel.receivers:
            return
        del self._channels[name]  # a socket joining from now on subscribes afresh
        if channel.task is not None:
            channel.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await channel.task
        if channel.subscriber is not None:
            await self.plugin.unsubscribe(channel.subscriber)

    async def _pump(self, channel: _Channel) -> None:
        assert channel.subscriber is not None
        async for data in channel.subscriber.iter_events():
            try:
                message = decode(data)
            except msgspec.DecodeError:
                log.warning("undecodable live message on %s dropped", channel.name)
                continue
            text = data.decode() if isinstance(data, bytes) else str(data)
            receivers = tuple(channel.receivers)
            if len(receivers) > DIRECT:
                for receiver in receivers:
                    receiver.offer(message, text)
                continue
            for receiver in receivers:
                try:
                    await receiver.deliver(message, text)
                except Exception:  # one socket's failure must not stop the others
                    log.exception("delivering a live message on %s failed", channel.name)
