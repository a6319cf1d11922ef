"""Placeholder: filled in by the events work."""

from __future__ import annotations

routes: list[object] = []
