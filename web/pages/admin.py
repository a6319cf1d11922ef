"""Placeholder: filled in by the admin work."""

from __future__ import annotations

routes: list[object] = []
