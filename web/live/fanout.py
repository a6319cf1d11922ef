"""A worker's side of the live fan-out: one bus subscription per worker, shared by its sockets.

A worker alone delivers each published message to its own sockets directly (``Fanout(local=True)``,
the in-memory backend). With several workers, every message also goes through Redis, on one bus
channel that each worker subscribes to once, through Litestar's channels plugin. A bus message is
a whole batch of the hub (``[origin, [[channel, data], ...]]`` in MessagePack): one PUBLISH and,
on each worker, one read and one decode per batch instead of per message, and no Redis
subscription per room. Each worker delivers its own batches to its own sockets at once and skips
them when they come back from the bus. Within a worker a message goes to each local socket of its
channel as the very text that was published.

Every worker hears every live message of its database this way; one it has no socket for costs a
dictionary lookup. (With many workers and many simultaneous events, a bus per event would be the
next step.)

Joining waits until the bus is known to be live: the worker publishes a probe and waits to hear
it, so a message stored after a socket joined cannot pass it by.

The plugin hands the bus's messages to its subscriber (``put_nowait``); ours passes them on at
once, without a queue and a task of its own in between. Each socket sends right away when it can
(``LiveConnection.push``) and otherwise keeps the message in its own outbox, so a client that
stops reading holds up nobody else.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

import msgspec
from litestar.channels import ChannelsPlugin, Subscriber
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from clockevents.live.messages import decode
from web.live.channels import NamespacedRedisBackend

log = logging.getLogger(__name__)

BUS = "live"  # the one channel of the plugin that carries every live channel's messages
PROBE_EVERY = 0.05  # seconds between probes while the bus subscription settles
PROBE_TIMEOUT = 10.0
GAP_WAIT = 0.1  # seconds a channel's message waits for one that was sent before it

_pack = msgspec.msgpack.Encoder().encode
_unpack = msgspec.msgpack.Decoder(tuple[str, list[tuple[str, bytes]]]).decode


class Receiver(Protocol):
    def push(self, message: dict[str, Any], text: str) -> None: ...

    def catch_up(self) -> None:
        """Messages may have been missed (Redis was lost for a while): read them from the database."""


class _Channel:
    """One live channel's sockets in this worker, and the order its messages reach them in.

    Messages of one channel come from every worker, each worker's in sequence; two workers' can
    cross on the way (a worker's own batch is delivered here at once, another's comes through
    Redis). A message that arrives ahead of a missing one waits up to ``GAP_WAIT`` for it, so the
    sockets receive them in order instead of each reading the gap from the database; if the
    missing one does not come, the waiting ones go on and the sockets fill the gap themselves.
    """

    __slots__ = ("held", "last", "name", "receivers", "timer")

    def __init__(self, name: str) -> None:
        self.name = name
        self.receivers: list[Receiver] = []
        self.last = 0  # the highest sequence number passed on
        self.held: dict[int, tuple[dict[str, Any], str]] | None = None
        self.timer: asyncio.TimerHandle | None = None

    def dispatch(self, data: bytes) -> None:
        try:
            message = decode(data)
        except msgspec.DecodeError:
            log.warning("undecodable live message on %s dropped", self.name)
            return
        text = data.decode() if isinstance(data, bytes) else str(data)
        seq = message.get("seq") if isinstance(message, dict) else None
        if type(seq) is not int or message.get("ephemeral") or seq <= self.last:
            self._pass(message, text)  # unordered, or a late copy the sockets drop
        elif self.held is not None:
            self.held[seq] = (message, text)
            while self.last + 1 in self.held:
                self.last += 1
                self._pass(*self.held.pop(self.last))
            if not self.held:
                self._stop_waiting()
        elif self.last and seq > self.last + 1:
            self.held = {seq: (message, text)}
            self.timer = asyncio.get_running_loop().call_later(GAP_WAIT, self._give_up)
        else:
            self.last = seq
            self._pass(message, text)

    def _give_up(self) -> None:
        held, self.held, self.timer = self.held or {}, None, None
        for seq in sorted(held):
            self.last = max(self.last, seq)
            self._pass(*held[seq])

    def _stop_waiting(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
        self.held = self.timer = None

    def _pass(self, message: dict[str, Any], text: str) -> None:
        for receiver in tuple(self.receivers):
            try:
                receiver.push(message, text)
            except Exception:  # one socket's failure must not stop the others
                log.exception("delivering a live message on %s failed", self.name)


class BusSubscriber(Subscriber):
    """The plugin's subscriber for the bus: hands each batch to the fan-out instead of queueing it."""

    fanout: Fanout | None = None

    def put_nowait(self, item: bytes | None) -> bool:
        if item is None or self.fanout is None:  # the plugin's end-of-subscription mark
            return super().put_nowait(item)
        self.fanout.receive(item)
        return True


class Fanout:
    """Routes each channel's messages to the sockets of this worker that joined it.

    ``local``: this worker is the only one (the in-memory backend). Then a published message
    goes straight to the channel's sockets, in the publisher's own call.
    ``send``: with several workers, how a packed batch reaches the bus (one Redis PUBLISH); by
    default the plugin's own ``publish``.
    """

    def __init__(
        self,
        plugin: ChannelsPlugin,
        *,
        local: bool = False,
        send: Callable[[bytes, str], Awaitable[None]] | None = None,
    ) -> None:
        self.plugin = plugin
        self.local = local
        self._send = send
        self.origin = secrets.token_hex(6)  # this worker, on the bus
        self._channels: dict[str, _Channel] = {}
        self._bus: asyncio.Task[BusSubscriber] | None = None
        self._probe: tuple[str, asyncio.Event] | None = None
        self._resuming: asyncio.Task[None] | None = None

    @classmethod
    def over_redis(cls, plugin: ChannelsPlugin, backend: NamespacedRedisBackend) -> Fanout:
        """The fan-out of one of several workers: batches go out as one PUBLISH each, and after
        Redis was lost for a while the sockets catch up."""
        fanout = cls(plugin, send=backend.publish_now)
        backend.on_resume.append(fanout.resume)
        return fanout

    # publishing ---------------------------------------------------------------------------

    def publish(self, data: bytes, channel: str) -> None:
        """Send ``data`` to every socket of ``channel``: here at once, and to the other workers."""
        self._dispatch(channel, data)
        if not self.local:
            self.plugin.publish(_pack((self.origin, [(channel, data)])), BUS)

    async def publish_batch(self, messages: list[tuple[bytes, str]]) -> None:
        """Send each ``(data, channel)`` in order: here at once, then to the others in one message."""
        for data, channel in messages:
            self._dispatch(channel, data)
        if not self.local:
            await self._publish_packed(_pack((self.origin, [(c, d) for d, c in messages])))

    async def _publish_packed(self, packed: bytes) -> None:
        if self._send is not None:
            await self._send(packed, BUS)
        else:
            await self.plugin.wait_published(packed, BUS)

    def _dispatch(self, channel: str, data: bytes) -> None:
        target = self._channels.get(channel)
        if target is not None:
            target.dispatch(data)

    # receiving ----------------------------------------------------------------------------

    def receive(self, item: bytes) -> None:
        """A batch from the bus: each message to this worker's sockets of its channel."""
        try:
            origin, messages = _unpack(item)
        except (msgspec.DecodeError, msgspec.ValidationError):
            log.warning("undecodable batch on the live bus dropped")
            return
        if origin == self.origin:
            probe = self._probe
            if probe is not None and messages and messages[0][0] == probe[0]:
                probe[1].set()
            return  # delivered here when it was published
        for channel, data in messages:
            self._dispatch(channel, data)

    async def _subscribe_bus(self) -> BusSubscriber:
        subscriber = await self.plugin.subscribe([BUS])
        if not isinstance(subscriber, BusSubscriber):
            raise TypeError("the channels plugin needs subscriber_class=BusSubscriber")
        subscriber.fanout = self
        try:
            await self._hear_myself()
        except BaseException:
            subscriber.fanout = None
            await self.plugin.unsubscribe(subscriber)
            raise
        return subscriber

    async def _hear_myself(self, *, patient: bool = False) -> None:
        """Return once a probe published now comes back: the subscription is live.

        Redis confirms a subscription asynchronously, after ``subscribe`` has returned.
        ``patient``: a failed publish is tried again (Redis is just back) instead of raised.
        """
        token, heard = "\0probe:" + secrets.token_hex(8), asyncio.Event()
        self._probe = (token, heard)
        try:
            async with asyncio.timeout(PROBE_TIMEOUT):
                while not heard.is_set():
                    try:
                        await self._publish_packed(_pack((self.origin, [(token, b"")])))
                    except (RedisConnectionError, RedisTimeoutError, OSError):
                        if not patient:
                            raise
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(heard.wait(), PROBE_EVERY)
        finally:
            if self._probe is not None and self._probe[0] == token:
                self._probe = None

    def resume(self) -> None:
        """Redis is back after a loss: once the bus is live again, every socket here catches up."""
        if self._resuming is None or self._resuming.done():
            self._resuming = asyncio.get_running_loop().create_task(self._resume())

    async def _resume(self) -> None:
        try:
            await self._hear_myself(patient=True)
        except Exception:
            log.warning("the live bus did not come back; sockets catch up all the same")
        for channel in tuple(self._channels.values()):
            for receiver in tuple(channel.receivers):
                receiver.catch_up()

    async def ready(self) -> None:
        """Wait until this worker hears the bus (subscribing on first use)."""
        if self.local:
            return
        bus = self._bus
        if bus is None or (bus.done() and (bus.cancelled() or bus.exception() is not None)):
            self._bus = asyncio.ensure_future(self._subscribe_bus())
        await asyncio.shield(self._bus)

    async def close(self) -> None:
        """Stop listening to the bus (the worker is shutting down)."""
        for task in (self._resuming, self._bus):
            if task is not None and not task.done():
                task.cancel()
                with contextlib.suppress(BaseException):
                    await task
        bus, self._bus, self._resuming = self._bus, None, None
        if bus is None or not bus.done():
            return
        if not bus.cancelled() and bus.exception() is None:
            subscriber = bus.result()
            subscriber.fanout = None
            with contextlib.suppress(Exception):
                await self.plugin.unsubscribe(subscriber)

    # sockets ------------------------------------------------------------------------------

    async def join(self, name: str, receiver: Receiver) -> None:
        """Start delivering ``name``'s messages to ``receiver``, once the bus is live."""
        await self.ready()
        channel = self._channels.get(name)
        if channel is None:
            channel = self._channels[name] = _Channel(name)
        channel.receivers.append(receiver)

    async def leave(self, name: str, receiver: Receiver) -> None:
        """Stop delivering to ``receiver``."""
        channel = self._channels.get(name)
        if channel is None:
            return
        with contextlib.suppress(ValueError):
            channel.receivers.remove(receiver)
        if not channel.receivers:
            del self._channels[name]
