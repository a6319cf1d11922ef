"""Shared API shapes."""

from __future__ import annotations

from typing import Generic, TypeVar

import msgspec

T = TypeVar("T")


class Page(msgspec.Struct, Generic[T]):
    """One page of a list: ``items`` plus what a client needs to fetch the next one."""

    items: list[T]
    total: int
    page: int
    per_page: int
