"""Parse and check an event's fields, reporting every wrong field at once.

Values arrive as the API's JSON types or as the strings a form posts; both are accepted so the
API and the pages share one set of rules.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from clockevents.events.models import EVENT_STATUSES, PARTICIPANT_TYPES

SLUG_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")
KIND_RE = re.compile(r"^[a-z][a-z0-9_ -]{0,39}$")
FORMATS = ("virtual", "in_person", "hybrid")
MAX_DAYS = 31
# The fields an event carries, in the order a form shows them.
EVENT_FIELDS = (
    "slug",
    "title",
    "description",
    "timezone",
    "starts_on",
    "ends_on",
    "registration_opens_at",
    "registration_closes_at",
    "status",
    "meeting_minutes",
    "gap_minutes",
    "tables",
    "format",
    "requires_approval",
    "participant_types",
    "opportunity_kinds",
)
# Each status may move only to the next one: the life of an event runs one way.
NEXT_STATUS = {"draft": "open", "open": "live", "live": "closed"}


class Invalid(ValueError):
    """One field's problem, with the message shown to the user."""


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def parse_slug(value: Any) -> str:
    slug = value.strip() if isinstance(value, str) else ""
    if not slug:
        raise Invalid("Enter a short name for the address, e.g. clock-2026.")
    if not SLUG_RE.match(slug):
        raise Invalid("Use lowercase letters, digits and hyphens (at most 64), e.g. clock-2026.")
    return slug


def parse_title(value: Any) -> str:
    title = " ".join(value.split()) if isinstance(value, str) else ""
    if not title:
        raise Invalid("Enter a title.")
    if len(title) > 200:
        raise Invalid("Use at most 200 characters.")
    return title


def parse_description(value: Any) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise Invalid("Enter text.")
    if len(value) > 20000:
        raise Invalid("Use at most 20,000 characters.")
    return value.strip()


def parse_timezone(value: Any) -> str:
    name = value.strip() if isinstance(value, str) else ""
    if not name:
        raise Invalid("Choose a time zone, e.g. Europe/Rome.")
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise Invalid("Unknown time zone; use an IANA name such as Europe/Rome.") from exc
    return name


def parse_date(value: Any) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not value.strip():
        raise Invalid("Enter a date (YYYY-MM-DD).")
    try:
        return date.fromisoformat(value.strip())
    except ValueError as exc:
        raise Invalid("Enter a date as YYYY-MM-DD.") from exc


def parse_time(value: Any) -> time:
    if isinstance(value, time):
        return value
    if not isinstance(value, str) or not value.strip():
        raise Invalid("Enter a time (HH:MM).")
    try:
        parsed = time.fromisoformat(value.strip())
    except ValueError as exc:
        raise Invalid("Enter a time as HH:MM.") from exc
    if parsed.tzinfo is not None:
        raise Invalid("Enter a local time without an offset.")
    return parsed.replace(second=0, microsecond=0)


def parse_moment(value: Any, zone: str) -> datetime | None:
    """An instant: aware ISO text as given, naive text (a form's datetime-local) in ``zone``."""
    if _blank(value):
        return None
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str):
        text = value.strip().replace("Z", "+00:00")
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError as exc:
            raise Invalid("Enter a date and time, e.g. 2026-12-01T09:00.") from exc
    else:
        raise Invalid("Enter a date and time, e.g. 2026-12-01T09:00.")
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=ZoneInfo(zone))
    return parsed.astimezone(UTC)


def parse_int(value: Any, low: int, high: int) -> int:
    if isinstance(value, bool):
        raise Invalid("Enter a whole number.")
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and re.fullmatch(r"\s*-?\d{1,9}\s*", value):
        number = int(value)
    else:
        raise Invalid("Enter a whole number.")
    if not low <= number <= high:
        raise Invalid(f"Enter a number from {low} to {high}.")
    return number


def parse_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("on", "true", "1", "yes"):
        return True
    if isinstance(value, str) and value.strip().lower() in ("", "off", "false", "0", "no"):
        return False
    raise Invalid("Enter true or false.")


def parse_choice(value: Any, choices: tuple[str, ...], what: str) -> str:
    if not isinstance(value, str) or value not in choices:
        raise Invalid(f"Choose {what}: {', '.join(choices)}.")
    return value


def parse_participant_types(value: Any) -> list[str]:
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise Invalid("Choose at least one participant type.")
    unknown = [v for v in value if v not in PARTICIPANT_TYPES]
    if unknown:
        raise Invalid(f"Unknown type {unknown[0]!r}; choose from {', '.join(PARTICIPANT_TYPES)}.")
    chosen = [t for t in PARTICIPANT_TYPES if t in value]
    if not chosen:
        raise Invalid("Choose at least one participant type.")
    return chosen


def parse_kinds(value: Any) -> list[str]:
    if isinstance(value, str):
        value = value.split(",")
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise Invalid("List the opportunity kinds, e.g. offer, request.")
    kinds: list[str] = []
    for raw in value:
        kind = " ".join(raw.lower().split())
        if not kind:
            continue
        if not KIND_RE.match(kind):
            raise Invalid(f"{raw.strip()!r}: start with a letter; letters, digits, spaces, - and _ only.")
        if kind not in kinds:
            kinds.append(kind)
    if not kinds:
        raise Invalid("Keep at least one opportunity kind.")
    if len(kinds) > 20:
        raise Invalid("Use at most 20 kinds.")
    return kinds


def check_transition(current: str, wanted: str) -> None:
    """Allow staying put or moving one step forward: draft -> open -> live -> closed."""
    if wanted not in EVENT_STATUSES:
        raise Invalid(f"Choose a status: {', '.join(EVENT_STATUSES)}.")
    if wanted != current and NEXT_STATUS.get(current) != wanted:
        following = NEXT_STATUS.get(current)
        hint = f"it can only move on to {following}" if following else "it is closed for good"
        raise Invalid(f"An event that is {current} cannot become {wanted}: {hint}.")


def clean_event_fields(
    data: Mapping[str, Any], *, current: Mapping[str, Any] | None = None
) -> tuple[dict[str, Any], dict[str, str]]:
    """Check the given fields; return (clean values, message per wrong field).

    ``current`` holds the event's present values when editing: only the keys in ``data`` change,
    and the cross-field rules (dates, registration window) see the merged result.
    """
    creating = current is None
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    zone = data.get("timezone") if isinstance(data.get("timezone"), str) else None
    if zone is None and current is not None:
        zone = current["timezone"]
    parsers: dict[str, Any] = {
        "slug": parse_slug,
        "title": parse_title,
        "description": parse_description,
        "timezone": parse_timezone,
        "starts_on": parse_date,
        "ends_on": parse_date,
        "meeting_minutes": lambda v: parse_int(v, 5, 240),
        "gap_minutes": lambda v: parse_int(v, 0, 120),
        "tables": lambda v: parse_int(v, 1, 10000),
        "format": lambda v: parse_choice(v, FORMATS, "a format"),
        "requires_approval": parse_bool,
        "participant_types": parse_participant_types,
        "opportunity_kinds": parse_kinds,
    }
    required = ("slug", "title", "timezone", "starts_on", "ends_on") if creating else ()
    for name, parse in parsers.items():
        if name not in data or (data[name] is None and name not in required):
            if name in required:
                try:
                    parse(None)
                except Invalid as exc:
                    errors[name] = str(exc)
            continue
        try:
            values[name] = parse(data[name])
        except Invalid as exc:
            errors[name] = str(exc)
    safe_zone = values.get("timezone") or (zone if zone and "timezone" not in errors else "UTC")
    try:
        ZoneInfo(safe_zone)
    except (ZoneInfoNotFoundError, ValueError):
        safe_zone = "UTC"
    for name in ("registration_opens_at", "registration_closes_at"):
        if name in data:
            try:
                values[name] = parse_moment(data[name], safe_zone)
            except Invalid as exc:
                errors[name] = str(exc)
    if "status" in data and data["status"] is not None:
        try:
            check_transition(current["status"] if current else "draft", data["status"])
            values["status"] = data["status"]
        except Invalid as exc:
            errors["status"] = str(exc)
    merged = {**(current or {}), **values}
    starts, ends = merged.get("starts_on"), merged.get("ends_on")
    if starts and ends and "starts_on" not in errors and "ends_on" not in errors:
        if ends < starts:
            errors["ends_on"] = "The last day cannot come before the first."
        elif (ends - starts).days >= MAX_DAYS:
            errors["ends_on"] = f"An event lasts at most {MAX_DAYS} days."
    opens, closes = merged.get("registration_opens_at"), merged.get("registration_closes_at")
    window_ok = not {"registration_opens_at", "registration_closes_at"} & errors.keys()
    if opens and closes and window_ok and closes <= opens:
        errors["registration_closes_at"] = "Registration must close after it opens."
    return values, errors


def event_values(event: Any) -> dict[str, Any]:
    """The current values of an event's fields, for merging an edit."""
    return {name: getattr(event, name) for name in EVENT_FIELDS}
