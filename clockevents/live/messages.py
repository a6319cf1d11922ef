"""Live messages on the wire: channel names, encoding, and a stored message as clients see it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import msgspec

_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder()


def event_channel(event_id: int) -> str:
    return f"event:{event_id}"


def meeting_channel(meeting_id: int) -> str:
    return f"meeting:{meeting_id}"


def workshop_channel(workshop_id: int) -> str:
    return f"workshop:{workshop_id}"


def iso(value: datetime) -> str:
    """UTC, to the second, with a Z: what browsers and calendars read without doubt."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def encode(message: dict[str, Any]) -> bytes:
    return _encoder.encode(message)


def decode(data: bytes | str) -> Any:
    return _decoder.decode(data)


def wire_row(type_: str, seq: int, payload: dict[str, Any], created_at: datetime) -> dict[str, Any]:
    """A stored message as clients see it."""
    return {"type": type_, "seq": seq, **payload, "at": iso(created_at)}
