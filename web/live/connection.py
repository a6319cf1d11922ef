"""One WebSocket connection to a live channel: replay, live delivery, client messages, throttling.

The rules (who may enter, what is stored, what each message means) live in clockevents.live;
this module only moves messages between the socket, the hub and the channels plugin.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

import msgspec
from litestar import WebSocket

from clockevents.errors import DomainError, ValidationFailed
from clockevents.live.hub import LiveHub
from clockevents.live.messages import decode, encode
from web.live.eager import run_eagerly
from web.live.fanout import Fanout
from web.live.protocol import EXTENSION, LiveProtocol

log = logging.getLogger(__name__)

MAX_MESSAGE = 16 * 1024
RATE = 20.0  # messages a second, sustained
BURST = 40.0

CLOSE_NOT_LOGGED_IN = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_NOT_FOUND = 4404
CLOSE_TOO_MANY = 4429  # the user holds too many live sockets in this worker (web/live/handlers.py)

NOT_STORED = "the message could not be stored: please send it again"
MAX_IN_FLIGHT = 8  # a socket's messages taken directly and not yet stored; more go the ASGI way

Handler = Callable[[dict[str, Any]], Awaitable[None]]
# A message taken straight from the protocol (``web/live/protocol.py``): queued for storing, the
# future says when it is stored and published; None when the handler leaves it to ``handlers``.
DirectHandler = Callable[[dict[str, Any]], "asyncio.Future[Any] | None"]


def origin_allowed(socket: WebSocket, base_url: str) -> bool:
    """With a cookie, the Origin must be the site's own: its Host header or BASE_URL."""
    if socket.scope.get("auth") != "cookie":
        return True
    origin = socket.headers.get("origin")
    if not origin:
        return False
    netloc = urlsplit(origin).netloc.lower()
    host = (socket.headers.get("host") or "").lower()
    return netloc == host or origin.rstrip("/").lower() == base_url.rstrip("/").lower()


class _Gone(Exception):
    """Sending failed because the client is no longer there."""


class Throttle:
    """A token bucket: RATE a second, BURST at once."""

    def __init__(self, rate: float = RATE, burst: float = BURST) -> None:
        self.rate, self.burst = rate, burst
        self.tokens = burst
        self.stamp = time.monotonic()

    def _refill(self) -> None:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now

    def wait_time(self) -> float:
        """Take a token; return how long to wait first (0 when one was there)."""
        self._refill()
        self.tokens -= 1
        return 0.0 if self.tokens >= 0 else -self.tokens / self.rate

    def ready(self) -> bool:
        """Whether a token is there now (``take`` it to use it)."""
        self._refill()
        return self.tokens >= 1

    def take(self) -> None:
        self.tokens -= 1

    @property
    def calm(self) -> bool:
        """Half the burst is back: a client warned of a flood may be warned again."""
        return self.tokens >= self.burst / 2


class LiveConnection:
    """Runs one socket: join the channel, replay or snapshot, then serve the client until it closes."""

    def __init__(
        self,
        socket: WebSocket,
        hub: LiveHub,
        fanout: Fanout,
        channel: str,
        *,
        sees: Callable[[dict[str, Any]], bool] | None = None,
        present: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
    ) -> None:
        self.socket = socket
        self.hub = hub
        self.fanout = fanout
        self.channel = channel
        # Without a filter every client of the channel gets the very text that was published.
        self.verbatim = sees is None and present is None
        self.sees = sees or (lambda _m: True)
        self.present = present or (lambda m: m)
        self.last_seq = 0
        self.conn_id = f"{id(self):x}"
        self._deliver_lock = asyncio.Lock()
        self._outbox: deque[tuple[dict[str, Any], str | None]] = deque()
        self._drainer: asyncio.Task[None] | None = None
        self._sending: asyncio.Future[Any] | None = None  # a pushed message still on its way out
        self._catching: asyncio.Task[None] | None = None
        self.handlers: dict[str, Handler] = {}
        # Message types that may be taken straight from the protocol, without the socket's task;
        # each also needs its entry in ``handlers`` for the messages that go the ASGI way.
        self.direct: dict[str, DirectHandler] = {}
        self.throttle = Throttle()
        self._warned = False
        extensions = socket.scope.get("extensions") or {}
        self._protocol: LiveProtocol | None = extensions.get(EXTENSION)
        self._busy = True  # the socket's task has a message in hand (or is not reading yet)
        self._in_flight = 0
        self._last_direct: asyncio.Future[Any] | None = None
        self._errors: set[asyncio.Task[None]] = set()
        self.close_code: int = 1000
        self.gone = False
        self._started = False  # until the replay or snapshot is out, live messages wait in the outbox

    async def send(self, message: dict[str, Any] | bytes | str) -> None:
        if isinstance(message, dict):
            text = encode(message).decode()
        else:
            text = message.decode() if isinstance(message, bytes) else message
        if self._protocol is not None and self._protocol.send_text_now(text):
            return
        try:
            await self.socket.send({"type": "websocket.send", "text": text})
        except Exception as exc:  # the client has gone; the receiving side ends the connection
            self.gone = True
            raise _Gone from exc

    async def error(self, reason: str) -> None:
        await self.send({"type": "error", "reason": reason, "seq": self.last_seq, "ephemeral": True})

    def push(self, message: dict[str, Any], text: str) -> None:
        """A message just published on the channel: sent at once when nothing is ahead of it.

        The common case — the next message in sequence, with the socket ready — is sent (or, for
        a client that may not see it, skipped) without leaving the caller; anything else (a gap
        to fill from the database, a socket that has to wait) goes through the outbox, in order.
        """
        if self.gone:
            return
        seq = message.get("seq")
        if (
            self._outbox
            or not self._started
            or self._sending is not None
            or self._deliver_lock.locked()
            or message.get("ephemeral")
            or seq != self.last_seq + 1
        ):
            self.offer(message, text)
            return
        if not self.verbatim:
            if not self.sees(message):
                self.last_seq = seq
                return
            text = encode(self.present(message)).decode()
        self.last_seq = seq
        if self._protocol is not None and self._protocol.send_text_now(text):
            return
        try:
            pending = run_eagerly(self.socket.send({"type": "websocket.send", "text": text}))
        except Exception:  # the client has gone; the receiving side ends the connection
            self.gone = True
            return
        if pending is not None:  # the socket has to wait: later messages queue behind this one
            self._sending = pending
            pending.add_done_callback(self._sent)

    def _sent(self, pending: asyncio.Future[Any]) -> None:
        self._sending = None
        if pending.cancelled() or pending.exception() is not None:
            self.gone = True
        elif self._outbox and (self._drainer is None or self._drainer.done()):
            self._drainer = asyncio.create_task(self._drain())

    async def deliver(self, message: dict[str, Any], text: str | None = None) -> None:
        """Send a published message once, in order, filling any gap from the database.

        ``text`` is the message as published: sent as it is when this client sees everything.
        """
        if self.gone:
            return
        if self._outbox or not self._started or self._sending is not None:  # queued ones go first
            self.offer(message, text)
            return
        try:
            async with self._deliver_lock:  # the live messages and the catch-up never interleave
                await self._deliver(message, text)
        except _Gone:
            pass

    def offer(self, message: dict[str, Any], text: str | None = None) -> None:
        """Queue a message for this socket's own sending task, behind what is already waiting."""
        if self.gone:
            return
        self._outbox.append((message, text))
        if self._started and self._sending is None and (self._drainer is None or self._drainer.done()):
            self._drainer = asyncio.create_task(self._drain())

    async def _drain(self) -> None:
        while self._outbox and not self.gone:
            if self._sending is not None:  # a pushed message first; its callback drains on
                return
            message, text = self._outbox.popleft()
            try:
                async with self._deliver_lock:
                    await self._deliver(message, text)
            except _Gone:
                self._outbox.clear()
            except Exception:  # one bad message must not end the connection
                log.exception("delivering a live message failed")

    async def _deliver(self, message: dict[str, Any], text: str | None) -> None:
        seq = message.get("seq")
        if message.get("ephemeral"):
            if message.get("conn") == self.conn_id:
                return
            out = {k: v for k, v in message.items() if k != "conn"}
            out["seq"] = self.last_seq
            await self.send(out)
            return
        if not isinstance(seq, int) or seq <= self.last_seq:
            return
        if seq > self.last_seq + 1:
            async with self.hub.session_factory() as db:
                missed = await self.hub.history(db, self.channel, after=self.last_seq, before=seq)
            for old in missed:
                self.last_seq = old["seq"]
                if self.sees(old):
                    await self.send(self.present(old))
        self.last_seq = seq
        if self.verbatim and text is not None:
            await self.send(text)
        elif self.sees(message):
            await self.send(self.present(message))

    async def start(self, after: int | None, snapshot: Callable[[], Awaitable[dict[str, Any]]]) -> None:
        """Join the channel first, then replay (``after``) or send the snapshot, so nothing falls between.

        A join takes effect at once (with several workers, once the worker hears the Redis bus),
        so whatever is stored after the snapshot or replay was read also arrives live.
        """
        await self.fanout.join(self.channel, self)
        try:
            if after is None:
                first = await snapshot()
                self.last_seq = first["seq"]
                await self.send(first)
            else:
                async with self.hub.session_factory() as db:
                    self.last_seq = max(0, after)
                    for old in await self.hub.history(db, self.channel, after=self.last_seq):
                        self.last_seq = old["seq"]
                        if self.sees(old):
                            await self.send(self.present(old))
        except BaseException:
            self.gone = True
            await self.fanout.leave(self.channel, self)
            raise
        self._started = True
        if self._outbox:  # what arrived meanwhile, in order
            self._drainer = asyncio.create_task(self._drain())

    def catch_up(self) -> None:
        """Deliver what was stored after the last message this client got (live ones may be lost)."""
        if self.gone or not self._started:
            return
        if self._catching is None or self._catching.done():
            self._catching = asyncio.get_running_loop().create_task(self._catch_up())

    async def _catch_up(self) -> None:
        try:
            async with self.hub.session_factory() as db:
                missed = await self.hub.history(db, self.channel, after=self.last_seq)
            for message in missed:
                await self.deliver(message)
        except _Gone:
            pass
        except Exception:
            log.exception("catching up a live connection failed")

    async def run(self) -> None:
        """Serve the client until it goes; ``close_code`` tells how it went."""
        throttle = self.throttle
        protocol = self._protocol
        if protocol is not None and self.direct:
            protocol.receiver = self._receive_now
        try:
            while True:
                self._busy = False
                event = await self.socket.receive()
                self._busy = True  # set before anything else runs: no message is taken directly now
                if event["type"] == "websocket.disconnect":
                    self.close_code = int(event.get("code", 1000))
                    return
                last = self._last_direct
                if last is not None and not last.done():  # what was taken directly goes first
                    await asyncio.wait((last,))
                wait = throttle.wait_time()
                if wait > 0:
                    if not self._warned:
                        self._warned = True
                        await self.error("too many messages: slowed down")
                    await asyncio.sleep(wait)
                elif throttle.calm:
                    self._warned = False
                raw = event.get("text")
                if raw is None:
                    raw = event.get("bytes") or b""
                # A character takes at most 4 bytes: most messages need no encoding to be measured.
                if len(raw) * (4 if isinstance(raw, str) else 1) > MAX_MESSAGE:
                    size = len(raw.encode() if isinstance(raw, str) else raw)
                    if size > MAX_MESSAGE:
                        await self.error(f"message too large: at most {MAX_MESSAGE} bytes")
                        continue
                await self.handle(raw)
        except _Gone:
            self.close_code = 1006
        finally:
            self.gone = True
            self._busy = True
            if protocol is not None:
                protocol.receiver = None
            if self._catching is not None:
                self._catching.cancel()
            if self._drainer is not None:
                self._drainer.cancel()
            if self._sending is not None:
                self._sending.cancel()
            try:
                await self.fanout.leave(self.channel, self)
            except Exception:
                log.exception("leaving live channel %s failed", self.channel)

    def _receive_now(self, text: str) -> bool:
        """A message straight from the protocol, while the socket's task waits for one: take it
        here (True) when its type has a ``direct`` handler that queues it at once; anything else,
        or anything wrong with it, goes the ASGI way to ``run`` (False), which answers for it.

        Taken, a message is throttled as in ``run`` and queued for storing in the order it came;
        the socket's task handles its next message only once this one is stored and published,
        as it does with its own.
        """
        if self._busy or self.gone or self._in_flight >= MAX_IN_FLIGHT or len(text) * 4 > MAX_MESSAGE:
            return False
        try:
            data = decode(text)
        except msgspec.DecodeError:
            return False
        kind = data.get("type") if type(data) is dict else None
        handler = self.direct.get(kind) if type(kind) is str else None
        if handler is None or not self.throttle.ready():
            return False
        try:
            stored = handler(data)
        except DomainError:  # ValidationFailed too: answered the ASGI way
            return False
        if stored is None:
            return False
        self.throttle.take()
        if self.throttle.calm:
            self._warned = False
        self._in_flight += 1
        self._last_direct = stored
        stored.add_done_callback(self._stored)
        return True

    def _stored(self, stored: asyncio.Future[Any]) -> None:
        self._in_flight -= 1
        if stored.cancelled():
            return
        exc = stored.exception()
        if exc is None or self.gone:
            return
        log.warning("storing a live message on %s failed: %r", self.channel, exc)
        task = asyncio.get_running_loop().create_task(self._report(exc))
        self._errors.add(task)
        task.add_done_callback(self._errors.discard)

    async def _report(self, exc: BaseException) -> None:
        try:
            if isinstance(exc, DomainError):
                await self.error(exc.message)
            else:
                await self.error(NOT_STORED)
        except _Gone:
            pass

    async def handle(self, raw: str | bytes) -> None:
        try:
            data = decode(raw)
        except (msgspec.DecodeError, UnicodeDecodeError):
            await self.error("malformed JSON")
            return
        if not isinstance(data, dict):
            await self.error("a message is a JSON object with a type")
            return
        kind = data.get("type")
        if kind == "ping":
            await self.send({"type": "pong", "seq": self.last_seq, "ephemeral": True})
            return
        handler = self.handlers.get(kind) if isinstance(kind, str) else None
        if handler is None:
            await self.error(
                f"unknown message type: {kind!r}" if isinstance(kind, str) else "a message needs a type"
            )
            return
        try:
            await handler(data)
        except ValidationFailed as exc:
            await self.error("; ".join(f"{k}: {v}" for k, v in exc.fields.items()) or exc.message)
        except DomainError as exc:
            await self.error(exc.message)
        except _Gone:
            raise
        except Exception:  # the database gone, say: the client hears of it, the connection stays
            log.exception("handling a live %r message on %s failed", kind, self.channel)
            await self.error(NOT_STORED)
