"""Jinja environment: filters and globals every template may use."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from litestar.plugins.jinja import JinjaTemplateEngine

from clockevents.db import utcnow
from clockevents.events.models import PARTICIPANT_TYPES

PARTICIPANT_TYPE_LABELS = {
    "business": "Business",
    "research": "Research",
    "finance": "Finance",
    "public_body": "Public body",
    "other": "Other",
}


def local_time(value: datetime | None, zone: str, fmt: str = "%a %d %b %Y, %H:%M") -> str:
    """Format a UTC datetime in the IANA zone ``zone``."""
    if value is None:
        return ""
    return value.astimezone(ZoneInfo(zone)).strftime(fmt)


def configure_environment(engine: JinjaTemplateEngine) -> None:
    env: Any = engine.engine
    env.filters["local_time"] = local_time
    env.filters["ptype"] = lambda v: PARTICIPANT_TYPE_LABELS.get(v, v)
    env.globals["PARTICIPANT_TYPES"] = PARTICIPANT_TYPES
    env.globals["PARTICIPANT_TYPE_LABELS"] = PARTICIPANT_TYPE_LABELS
    env.globals["utcnow"] = utcnow
    env.trim_blocks = True
    env.lstrip_blocks = True
