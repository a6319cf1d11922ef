"""A worker's side of the live fan-out: one channels subscription per channel, shared by its sockets.

With several workers, Litestar's channels plugin carries every published message through Redis to
the workers that listen on its channel; a worker alone delivers to its own sockets directly
(``Fanout(local=True)``). Within a worker the message then goes to each local socket of that
channel. Subscribing once per channel instead of once per socket means one decode per message and
worker, whatever the number of sockets, and the sockets receive the very text that was published.

The plugin hands a channel's messages to its subscriber (``put_nowait``); ours passes them on at
once, without a queue and a task of its own in between. Each socket sends right away when it can
(``LiveConnection.push``) and otherwise keeps the message in its own outbox, so a client that
stops reading holds up nobody else.
"""

from __future__ import annotations

import contextlib
import logging
from typing import Any, Protocol

import msgspec
from litestar.channels import ChannelsPlugin, Subscriber

from clockevents.live.messages import decode

log = logging.getLogger(__name__)


class Receiver(Protocol):
    def push(self, message: dict[str, Any], text: str) -> None: ...


class _Channel:
    __slots__ = ("name", "receivers", "subscriber")

    def __init__(self, name: str) -> None:
        self.name = name
        self.receivers: list[Receiver] = []
        self.subscriber: ChannelSubscriber | None = None

    def dispatch(self, data: bytes) -> None:
        try:
            message = decode(data)
        except msgspec.DecodeError:
            log.warning("undecodable live message on %s dropped", self.name)
            return
        text = data.decode() if isinstance(data, bytes) else str(data)
        for receiver in tuple(self.receivers):
            try:
                receiver.push(message, text)
            except Exception:  # one socket's failure must not stop the others
                log.exception("delivering a live message on %s failed", self.name)


class ChannelSubscriber(Subscriber):
    """A subscriber that hands each message to its channel's sockets instead of queueing it."""

    channel: _Channel | None = None
    early: list[bytes] | None = None

    def attach(self, channel: _Channel) -> None:
        self.channel = channel
        early, self.early = self.early or [], None
        for data in early:  # what came while the subscription was being set up
            channel.dispatch(data)

    def put_nowait(self, item: bytes | None) -> bool:
        if item is None:  # the plugin's end-of-subscription mark
            return super().put_nowait(item)
        if self.channel is None:
            if self.early is None:
                self.early = []
            self.early.append(item)
        else:
            self.channel.dispatch(item)
        return True


class Fanout:
    """Routes each channel's messages to the sockets of this worker that joined it.

    ``local``: this worker is the only one (the in-memory backend). Then a published message
    goes straight to the channel's sockets, in the publisher's own call: through the plugin it
    would wait for the backend's queue, one more turn of the event loop, which under load is
    what a message's latency is mostly made of.
    """

    def __init__(self, plugin: ChannelsPlugin, *, local: bool = False) -> None:
        self.plugin = plugin
        self.local = local
        self._channels: dict[str, _Channel] = {}

    def publish(self, data: bytes, channel: str) -> None:
        """Send ``data`` to every socket of ``channel``: here at once, or through the plugin."""
        if not self.local:
            self.plugin.publish(data, channel)
            return
        target = self._channels.get(channel)
        if target is not None:
            target.dispatch(data)

    async def join(self, name: str, receiver: Receiver) -> None:
        """Start delivering ``name``'s messages to ``receiver`` (subscribing the worker if needed)."""
        channel = self._channels.get(name)
        if channel is not None:
            channel.receivers.append(receiver)
            return
        channel = self._channels[name] = _Channel(name)
        channel.receivers.append(receiver)
        if self.local:
            return
        subscriber = await self.plugin.subscribe([name])
        if not isinstance(subscriber, ChannelSubscriber):
            raise TypeError("the channels plugin needs subscriber_class=ChannelSubscriber")
        if self._channels.get(name) is not channel:  # everyone left while it was subscribing
            await self.plugin.unsubscribe(subscriber)
            return
        channel.subscriber = subscriber
        subscriber.attach(channel)

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
        if channel.subscriber is not None:
            await self.plugin.unsubscribe(channel.subscriber)
