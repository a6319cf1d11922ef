"""Placeholder: filled in by the directory work."""

from __future__ import annotations

routes: list[object] = []
