"""The WebSocket protocol the app is served with: uvicorn's Sans-I/O one, plus a direct way in and out.

Through ASGI, each message a client sends goes into the connection's queue, reading is paused
until the connection's task takes it (two calls into the event loop's poller), the task is woken
and resumes through Litestar's layers; and each message out goes back down through them. For the
live rooms' chat, the bulk of their traffic, this protocol offers the application two shortcuts
(``web/live/connection.py`` takes them):

- ``receiver``: a function the application sets once its socket is serving. A whole text message
  goes to it straight from the parser, in the protocol's own callback, when nothing is waiting in
  the queue ahead of it; it returns False for a message it leaves to the ASGI way, and the
  message then goes into the queue as usual.
- ``send_text_now``: writes a text message at once, when the socket can take it.

The application finds the protocol in its scope, as ``scope["extensions"][EXTENSION]``. Served by
another server (or uvicorn's other bindings) it is not there, and everything goes through ASGI.
The class is named in ``clockevents.cli.SERVER_OPTIONS``.

Both shortcuts read attributes of uvicorn's class that are not its public interface
(``INTERNALS``). A uvicorn release without one of them gets a warning in the log and no
extension in the scope: the live rooms then work the ASGI way, slower but whole, instead of
failing on every message.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.exceptions import InvalidState

EXTENSION = "clockevents.live"
# What this class reads of uvicorn's (all set in its __init__, as of uvicorn 0.50-0.54).
INTERNALS = (
    "frames",
    "curr_msg_data_type",
    "queue",
    "close_sent",
    "handshake_complete",
    "disconnected",
    "initial_response",
    "writable",
    "conn",
    "transport",
)

log = logging.getLogger(__name__)
_usable: dict[type, bool] = {}  # per protocol class, decided by its first connection


def usable(protocol: object) -> bool:
    """Whether ``protocol`` has every attribute of ``INTERNALS``; the first time a class lacks
    some, the log says which."""
    known = _usable.get(type(protocol))
    if known is None:
        missing = [name for name in INTERNALS if not hasattr(protocol, name)]
        if missing:
            log.warning(
                "This uvicorn's WebSocket protocol has no %s: live messages go the ASGI way.",
                ", ".join(missing),
            )
        known = _usable[type(protocol)] = not missing
    return known


class LiveProtocol(WebSocketsSansIOProtocol):
    """uvicorn's Sans-I/O WebSocket protocol with ``receiver`` and ``send_text_now`` (above)."""

    receiver: Callable[[str], bool] | None = None

    def handle_connect(self, event: object) -> None:
        super().handle_connect(event)  # type: ignore[arg-type]
        scope = getattr(self, "scope", None)  # there only when the handshake goes on to the app
        if scope is not None and usable(self):
            scope["extensions"][EXTENSION] = self

    def send_receive_event_to_app(self) -> None:
        receiver = self.receiver
        if (
            receiver is not None
            and self.curr_msg_data_type == "text"
            and not self.close_sent
            and self.queue.empty()  # nothing ahead of it: it cannot overtake a message
        ):
            frames = self.frames
            data = frames[0] if len(frames) == 1 else b"".join(frames)
            try:
                taken = receiver(data.decode())
            except UnicodeDecodeError:
                taken = False  # the ASGI way reports it
            except Exception:
                self.logger.exception("The live receiver failed; the message goes through ASGI.")
                taken = False
            if taken:
                self.frames = []
                return
        super().send_receive_event_to_app()

    def send_text_now(self, text: str) -> bool:
        """Write ``text`` as one message now; False when the socket cannot take it at once (its
        client reads slowly, or it is closing): then send it through ASGI, which waits or fails."""
        if (
            not self.handshake_complete
            or self.close_sent
            or self.disconnected
            or self.initial_response is not None
            or not self.writable.is_set()
        ):
            return False
        try:
            self.conn.send_text(text.encode())
        except InvalidState:
            return False
        self.transport.write(b"".join(self.conn.data_to_send()))
        return True
