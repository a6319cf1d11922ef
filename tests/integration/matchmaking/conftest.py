"""An open event with an owner and three approved participants, for the matchmaking web tests."""

from __future__ import annotations

from tests.unit.matchmaking.conftest import World, world

__all__ = ["World", "world"]
