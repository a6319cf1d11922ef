"""Placeholder: filled in by the registration work."""

from __future__ import annotations

routes: list[object] = []
