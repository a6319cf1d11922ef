"""WebSocket handlers of the live event (see docs/live-protocol.md)."""

from __future__ import annotations

from web.live import workshops
from web.live.handlers import routes as _room_routes

routes = [*_room_routes, *workshops.routes]

__all__ = ["routes"]
