"""Small helpers for server-rendered forms."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from litestar import Request
from litestar.datastructures import FormMultiDict


async def read_form(request: Request[Any, Any, Any]) -> FormMultiDict:
    form = await request.form()
    return form  # type: ignore[return-value]


def text(form: FormMultiDict, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def many(form: FormMultiDict, name: str) -> list[str]:
    return [v.strip() for v in form.getall(name, []) if isinstance(v, str) and v.strip()]


def words(value: str) -> list[str]:
    """Split a comma-separated field ("coatings, graphene") into clean, unique items."""
    seen: dict[str, None] = {}
    for item in value.split(","):
        item = " ".join(item.split())
        if item and item.lower() not in {k.lower() for k in seen}:
            seen[item] = None
    return list(seen)


def safe_next(value: str | None, default: str = "/") -> str:
    """Only same-site paths may be redirect targets (no open redirect)."""
    if not value:
        return default
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or not value.startswith("/") or value.startswith("//"):
        return default
    return value
