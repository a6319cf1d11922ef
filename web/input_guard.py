"""Refuse input no database can hold, before it reaches one: a clear 4xx instead of a 500.

Runs as the app's ``before_request`` hook, after authentication and guards, so an anonymous
caller still gets 401 and a stranger 403 before any of this is looked at.
"""

from __future__ import annotations

import json
from contextlib import suppress
from typing import Any
from urllib.parse import unquote_to_bytes

from litestar import Request

from clockevents.errors import NotFound, ValidationFailed

# Primary keys are 32-bit INTEGER columns: PostgreSQL refuses a larger parameter and
# SQLite's driver overflows past 64 bits, so either would otherwise end in a 500.
MAX_ID = 2**31 - 1
NUL_MESSAGE = "Remove the control characters."


def check_path_ids(path_params: dict[str, Any]) -> None:
    """Raise NotFound when an integer path parameter lies outside the id range."""
    for name, value in path_params.items():
        if isinstance(value, int) and not isinstance(value, bool) and not 1 <= value <= MAX_ID:
            raise NotFound(f"Nothing found for {name} {value}.")


def _fields_with_nul(value: Any, field: str, found: dict[str, str]) -> None:
    if isinstance(value, str):
        if "\x00" in value:
            found[field or "body"] = NUL_MESSAGE
    elif isinstance(value, dict):
        for key, item in value.items():
            _fields_with_nul(item, field or str(key), found)
            if "\x00" in str(key):
                found[field or "body"] = NUL_MESSAGE
    elif isinstance(value, list):
        for item in value:
            _fields_with_nul(item, field, found)


def nul_fields(query: str, body: bytes, content_type: str) -> dict[str, str]:
    """Name the inputs holding a NUL character, which PostgreSQL refuses in any text."""
    found: dict[str, str] = {}
    for pair in query.split("&"):
        name, _, raw = pair.partition("=")
        if b"\x00" in unquote_to_bytes(raw.replace("+", " ")) or b"\x00" in unquote_to_bytes(name):
            found[unquote_to_bytes(name).decode("utf-8", "replace").strip("\x00") or "query"] = NUL_MESSAGE
    if content_type == "application/json" and b"\\u0000" in body.lower():
        with suppress(ValueError):  # not JSON: the body parser reports that on its own
            _fields_with_nul(json.loads(body), "", found)
    elif content_type == "application/x-www-form-urlencoded" and b"%00" in body:
        for pair in body.split(b"&"):
            name, _, raw = pair.partition(b"=")
            if b"\x00" in unquote_to_bytes(raw.replace(b"+", b" ")):
                found[unquote_to_bytes(name).decode("utf-8", "replace")] = NUL_MESSAGE
    return found


async def reject_impossible_input(request: Request[Any, Any, Any]) -> None:
    """Answer 404 for out-of-range ids and 400 for NUL characters anywhere in the input."""
    check_path_ids(request.path_params)
    if "\x00" in request.scope["path"]:
        raise NotFound("No such page.")  # no slug or name holds a NUL character
    content_type = request.content_type[0]
    body = b""
    if request.method in {"POST", "PUT", "PATCH"} and content_type in {
        "application/json",
        "application/x-www-form-urlencoded",
    }:
        body = await request.body()  # cached on the request: the handler reads it again
    query = request.scope.get("query_string", b"").decode("latin-1")
    found = nul_fields(query, body, content_type)
    if found:
        raise ValidationFailed(found)
