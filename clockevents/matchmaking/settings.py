"""Each event's matchmaking settings: request mode, caps, expiry, scheduling mode."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from clockevents.accounts.models import User
from clockevents.errors import ValidationFailed
from clockevents.events.models import Event
from clockevents.events.permissions import require_organiser, require_staff
from clockevents.matchmaking.models import REQUEST_MODES, SCHEDULING_MODES, MatchmakingSettings

SETTING_FIELDS = ("request_mode", "scheduling_mode", "max_sent", "max_received", "expiry_hours")
CAP_MAX = 1000
EXPIRY_MAX_HOURS = 24 * 90


def _defaults(event_id: int) -> MatchmakingSettings:
    return MatchmakingSettings(
        event_id=event_id,
        request_mode="accept",
        scheduling_mode="organiser",
        max_sent=None,
        max_received=None,
        expiry_hours=None,
    )


async def load_settings(db: AsyncSession, event_id: int) -> MatchmakingSettings:
    """The event's settings, or unsaved defaults when no organiser has changed them yet."""
    found = await db.get(MatchmakingSettings, event_id)
    return found if found is not None else _defaults(event_id)


def parse_optional_int(value: Any) -> int | None:
    """Read an optional whole number from JSON or a form ("" and None mean none); ValueError if bad."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise ValueError("not a number")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    raise ValueError("not a number")


def _clean_limit(
    data: Mapping[str, Any], name: str, top: int, errors: dict[str, str], what: str
) -> int | None:
    try:
        value = parse_optional_int(data.get(name))
    except ValueError:
        errors[name] = f"Enter a whole number of {what}, or leave empty for no limit."
        return None
    if value is not None and not 1 <= value <= top:
        errors[name] = f"Enter a number from 1 to {top}, or leave empty for no limit."
    return value


def clean_settings(data: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """Check the settings given in ``data`` (only the keys present); return (values, errors)."""
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    if "request_mode" in data:
        if data["request_mode"] not in REQUEST_MODES:
            errors["request_mode"] = "Choose 'accept' (the receiver accepts) or 'auto' (accepted at once)."
        values["request_mode"] = data["request_mode"]
    if "scheduling_mode" in data:
        if data["scheduling_mode"] not in SCHEDULING_MODES:
            errors["scheduling_mode"] = "Choose 'organiser' (the agenda builder) or 'self_booking'."
        values["scheduling_mode"] = data["scheduling_mode"]
    for name in ("max_sent", "max_received"):
        if name in data:
            values[name] = _clean_limit(data, name, CAP_MAX, errors, "requests")
    if "expiry_hours" in data:
        values["expiry_hours"] = _clean_limit(data, "expiry_hours", EXPIRY_MAX_HOURS, errors, "hours")
    return values, errors


async def view_settings(db: AsyncSession, event: Event, user: User | None) -> MatchmakingSettings:
    """The settings, for the event's staff."""
    await require_staff(db, event, user)
    return await load_settings(db, event.id)


async def update_settings(
    db: AsyncSession, event: Event, user: User | None, data: Mapping[str, Any]
) -> MatchmakingSettings:
    """Change the settings given in ``data`` (owner and organisers); every bad field reported at once."""
    await require_organiser(db, event, user)
    values, errors = clean_settings(data)
    if errors:
        raise ValidationFailed(errors)
    row = await db.get(MatchmakingSettings, event.id)
    if row is None:
        row = _defaults(event.id)
        db.add(row)
    for name, value in values.items():
        setattr(row, name, value)
    await db.flush()
    return row
