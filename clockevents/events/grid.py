"""The slot grid: sessions per day in the event's local time, materialised as UTC ``Slot`` rows.

Slots are laid out in real elapsed time from each session's start, so a session that spans a
daylight-saving change holds as many meetings as the hours it really lasts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from clockevents.accounts.models import User
from clockevents.errors import Conflict, ValidationFailed
from clockevents.events.models import Event, EventSession, Slot
from clockevents.events.permissions import require_organiser
from clockevents.events.validation import Invalid, parse_date, parse_time

FROZEN_STATUSES = ("live", "closed")
GRID_FIELDS = ("day", "name", "starts_at", "ends_at")


@dataclass(frozen=True)
class SessionSpec:
    """One validated session: a day and its local start and end."""

    day: date
    starts_at: time
    ends_at: time
    name: str = ""


@dataclass(frozen=True)
class SlotSpec:
    """One slot to materialise: its session (by position in the specs) and UTC bounds."""

    session: int
    index: int
    starts_at: datetime
    ends_at: datetime


def session_bounds(spec: SessionSpec, zone: str) -> tuple[datetime, datetime]:
    """The session's start and end as UTC instants."""
    tz = ZoneInfo(zone)
    start = datetime.combine(spec.day, spec.starts_at, tzinfo=tz).astimezone(UTC)
    end = datetime.combine(spec.day, spec.ends_at, tzinfo=tz).astimezone(UTC)
    return start, end


def _row_blank(row: Mapping[str, Any]) -> bool:
    return all(not (isinstance(row.get(k), str) and row.get(k, "").strip()) for k in GRID_FIELDS)


def validate_sessions(
    rows: Sequence[Mapping[str, Any]],
    *,
    starts_on: date,
    ends_on: date,
    timezone: str,
    meeting_minutes: int,
) -> tuple[list[tuple[int, SessionSpec]], dict[str, str]]:
    """Check each row (blank rows are skipped); return ((row number, spec) pairs, errors).

    Error keys name the row: ``sessions[2].ends_at``.
    """
    errors: dict[str, str] = {}
    specs: list[tuple[int, SessionSpec]] = []
    for i, row in enumerate(rows):
        if _row_blank(row):
            continue
        key = f"sessions[{i}]."
        parsed: dict[str, Any] = {}
        for name, parse in (("day", parse_date), ("starts_at", parse_time), ("ends_at", parse_time)):
            try:
                parsed[name] = parse(row.get(name))
            except Invalid as exc:
                errors[key + name] = str(exc)
        label = row.get("name")
        label = " ".join(label.split()) if isinstance(label, str) else ""
        if len(label) > 80:
            errors[key + "name"] = "Use at most 80 characters."
        if "day" in parsed and not starts_on <= parsed["day"] <= ends_on:
            errors[key + "day"] = f"Choose a day from {starts_on.isoformat()} to {ends_on.isoformat()}."
        if {"day", "starts_at", "ends_at"} <= parsed.keys() and key + "day" not in errors:
            spec = SessionSpec(parsed["day"], parsed["starts_at"], parsed["ends_at"], label)
            start, end = session_bounds(spec, timezone)
            if spec.ends_at <= spec.starts_at:
                errors[key + "ends_at"] = "End after the start."
            elif end - start < timedelta(minutes=meeting_minutes):
                errors[key + "ends_at"] = f"Too short for one {meeting_minutes}-minute meeting."
            else:
                specs.append((i, spec))
    if not specs and not errors:
        errors["sessions"] = "Add at least one session."
    # Overlaps are checked on the well-formed rows, in time order.
    ordered = sorted(specs, key=lambda item: session_bounds(item[1], timezone))
    latest: SessionSpec | None = None  # the session reaching furthest so far
    for j, spec in ordered:
        if latest is not None and session_bounds(spec, timezone)[0] < session_bounds(latest, timezone)[1]:
            errors.setdefault(
                f"sessions[{j}].starts_at",
                f"Overlaps the session {latest.starts_at:%H:%M}-{latest.ends_at:%H:%M} on {latest.day}.",
            )
        if latest is None or session_bounds(spec, timezone)[1] > session_bounds(latest, timezone)[1]:
            latest = spec
    return specs, errors


def compute_slots(
    specs: Sequence[SessionSpec], *, timezone: str, meeting_minutes: int, gap_minutes: int
) -> list[SlotSpec]:
    """Lay out the slots of every session, numbered 0.. in time order across days."""
    step = timedelta(minutes=meeting_minutes + gap_minutes)
    length = timedelta(minutes=meeting_minutes)
    order = sorted(range(len(specs)), key=lambda k: session_bounds(specs[k], timezone))
    slots: list[SlotSpec] = []
    for k in order:
        start, end = session_bounds(specs[k], timezone)
        t = start
        while t + length <= end:
            slots.append(SlotSpec(k, len(slots), t, t + length))
            t += step
    return slots


async def materialise(
    db: AsyncSession,
    event: Event,
    specs: Sequence[SessionSpec],
) -> list[Slot]:
    """Replace the event's sessions and slots with ``specs`` (no checks: callers validate)."""
    await db.execute(delete(Slot).where(Slot.event_id == event.id))
    await db.execute(delete(EventSession).where(EventSession.event_id == event.id))
    ordered = sorted(specs, key=lambda s: session_bounds(s, event.timezone))
    sessions = [
        EventSession(event_id=event.id, day=s.day, name=s.name, starts_at=s.starts_at, ends_at=s.ends_at)
        for s in ordered
    ]
    db.add_all(sessions)
    await db.flush()
    slots = [
        Slot(
            event_id=event.id,
            session_id=sessions[s.session].id,
            index=s.index,
            starts_at=s.starts_at,
            ends_at=s.ends_at,
        )
        for s in compute_slots(
            ordered,
            timezone=event.timezone,
            meeting_minutes=event.meeting_minutes,
            gap_minutes=event.gap_minutes,
        )
    ]
    db.add_all(slots)
    await db.flush()
    # The relationship was loaded before the bulk delete; reload so callers see the new grid.
    await db.refresh(event, attribute_names=["sessions"])
    return slots


async def save_grid(
    db: AsyncSession, event: Event, user: User | None, rows: Sequence[Mapping[str, Any]]
) -> list[Slot]:
    """Validate the sessions and rebuild the slots in one go (organisers; not once live)."""
    await require_organiser(db, event, user)
    if event.status in FROZEN_STATUSES:
        raise Conflict(f"The slot grid cannot change once the event is {event.status}.")
    specs, errors = validate_sessions(
        rows,
        starts_on=event.starts_on,
        ends_on=event.ends_on,
        timezone=event.timezone,
        meeting_minutes=event.meeting_minutes,
    )
    if errors:
        raise ValidationFailed(errors)
    return await materialise(db, event, [spec for _, spec in specs])


async def current_specs(db: AsyncSession, event: Event) -> list[SessionSpec]:
    """The event's saved sessions as specs."""
    result = await db.scalars(
        select(EventSession)
        .where(EventSession.event_id == event.id)
        .order_by(EventSession.day, EventSession.starts_at)
    )
    return [SessionSpec(s.day, s.starts_at, s.ends_at, s.name) for s in result]


async def get_grid(db: AsyncSession, event: Event) -> tuple[list[EventSession], list[Slot]]:
    """The event's sessions and slots, in time order."""
    sessions = await db.scalars(
        select(EventSession)
        .where(EventSession.event_id == event.id)
        .order_by(EventSession.day, EventSession.starts_at)
    )
    slots = await db.scalars(select(Slot).where(Slot.event_id == event.id).order_by(Slot.index))
    return list(sessions), list(slots)


def grid_row(session: EventSession | SessionSpec) -> dict[str, str]:
    """A session as the strings a form or the API shows."""
    return {
        "day": session.day.isoformat(),
        "name": session.name,
        "starts_at": session.starts_at.strftime("%H:%M"),
        "ends_at": session.ends_at.strftime("%H:%M"),
    }
