"""WebSocket handlers of the live event (see docs/live-protocol.md)."""

from __future__ import annotations

from web.live.handlers import routes

__all__ = ["routes"]
