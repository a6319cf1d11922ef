"""Events: lookup, listing, creation and editing.

Clusters and roles live in ``events/team.py``, the slot grid in ``events/grid.py``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import Select

from clockevents.accounts.models import User
from clockevents.db import utcnow
from clockevents.errors import Conflict, NotAuthenticated, NotFound, PermissionDenied, ValidationFailed
from clockevents.events import grid
from clockevents.events.models import EVENT_STATUSES, Cluster, Event, EventRole, EventSession, Slot
from clockevents.events.permissions import access_for, require_organiser
from clockevents.events.validation import clean_event_fields, event_values
from clockevents.registration.models import PARTICIPANT_STATUSES, Participant

PUBLIC_STATUSES = ("open", "live", "closed")
PER_PAGE = 20
# Changing any of these moves or resizes the slots, so the grid is laid out again.
GRID_INPUTS = ("timezone", "starts_on", "ends_on", "meeting_minutes", "gap_minutes")
SLUG_TAKEN = {"slug": "Another event already uses this address."}


async def get_event(db: AsyncSession, slug: str) -> Event:
    """Return the event with ``slug`` or raise NotFound."""
    event = await db.scalar(select(Event).where(Event.slug == slug))
    if event is None:
        raise NotFound(f"No event '{slug}'.")
    return event


async def get_visible_event(db: AsyncSession, slug: str, user: User | None) -> Event:
    """Return the event if the caller may see it: drafts only to their staff (else NotFound)."""
    event = await get_event(db, slug)
    if event.status == "draft" and not (await access_for(db, event, user)).is_staff:
        raise NotFound(f"No event '{slug}'.")
    return event


async def list_public_events(db: AsyncSession) -> list[Event]:
    """Events that are open, live or closed (drafts stay with their organisers)."""
    result = await db.scalars(
        select(Event).where(Event.status.in_(PUBLIC_STATUSES)).order_by(Event.starts_on, Event.id)
    )
    return list(result)


def _visible_to(query: Select[Any], user: User | None) -> Select[Any]:
    if user is not None and user.is_admin:
        return query
    if user is None:
        return query.where(Event.status.in_(PUBLIC_STATUSES))
    staff_of = select(EventRole.event_id).where(EventRole.user_id == user.id)
    return query.where(or_(Event.status.in_(PUBLIC_STATUSES), Event.id.in_(staff_of)))


async def list_events(
    db: AsyncSession,
    user: User | None,
    *,
    q: str | None = None,
    status: str | None = None,
    page: int = 1,
    per_page: int = PER_PAGE,
) -> tuple[list[Event], int]:
    """One page of the events the caller may see, soonest first; returns (events, total)."""
    errors: dict[str, str] = {}
    if status is not None and status not in EVENT_STATUSES:
        errors["status"] = f"Choose a status: {', '.join(EVENT_STATUSES)}."
    if page < 1:
        errors["page"] = "Pages start at 1."
    if q is not None and len(q) > 200:
        errors["q"] = "Use at most 200 characters."
    if errors:
        raise ValidationFailed(errors)
    query = _visible_to(select(Event), user)
    if status:
        query = query.where(Event.status == status)
    if q and q.strip():
        # Escape LIKE's wildcards so a search for "50%" means the text.
        needle = q.strip().lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = f"%{needle}%"
        query = query.where(
            or_(
                func.lower(Event.title).like(pattern, escape="\\"),
                func.lower(Event.description).like(pattern, escape="\\"),
                Event.slug.like(pattern, escape="\\"),
            )
        )
    total = await db.scalar(select(func.count()).select_from(query.subquery())) or 0
    result = await db.scalars(
        query.order_by(Event.starts_on, Event.id).offset((page - 1) * per_page).limit(per_page)
    )
    return list(result), total


async def _slug_taken(db: AsyncSession, slug: str, except_id: int | None = None) -> bool:
    query = select(Event.id).where(Event.slug == slug)
    if except_id is not None:
        query = query.where(Event.id != except_id)
    return await db.scalar(query) is not None


async def _flush_or_conflict(db: AsyncSession) -> None:
    try:
        await db.flush()
    except IntegrityError as exc:  # a concurrent request took the slug first
        await db.rollback()
        raise Conflict("Another event already uses this address.", SLUG_TAKEN) from exc


async def create_event(db: AsyncSession, user: User | None, data: Mapping[str, Any]) -> Event:
    """Create an event (platform admins only); the creator becomes its owner.

    ``data`` needs slug, title, timezone, starts_on and ends_on; the other fields are optional.
    """
    if user is None:
        raise NotAuthenticated()
    if not user.is_admin:
        raise PermissionDenied("Only platform administrators may create events.")
    values, errors = clean_event_fields(data)
    if errors:
        raise ValidationFailed(errors)
    if await _slug_taken(db, values["slug"]):
        raise Conflict("Another event already uses this address.", SLUG_TAKEN)
    event = Event(**values, created_by_id=user.id)
    db.add(event)
    await _flush_or_conflict(db)
    db.add(EventRole(event_id=event.id, user_id=user.id, role="owner"))
    await db.flush()
    await db.refresh(event, attribute_names=["clusters", "sessions"])
    return event


async def update_event(db: AsyncSession, event: Event, user: User | None, data: Mapping[str, Any]) -> Event:
    """Change the fields given in ``data`` (owner and organisers); lay out the grid again if needed."""
    await require_organiser(db, event, user)
    values, errors = clean_event_fields(data, current=event_values(event))
    if errors:
        raise ValidationFailed(errors)
    changed = {k: v for k, v in values.items() if getattr(event, k) != v}
    if "slug" in changed and await _slug_taken(db, changed["slug"], event.id):
        raise Conflict("Another event already uses this address.", SLUG_TAKEN)
    regrid = bool(set(GRID_INPUTS) & changed.keys())
    specs: list[grid.SessionSpec] = []
    if regrid:
        specs = await grid.current_specs(db, event)
    if regrid and specs:
        if event.status in grid.FROZEN_STATUSES:
            raise Conflict(
                f"Dates, time zone and meeting length cannot change once the event is {event.status}."
            )
        merged = {**event_values(event), **changed}
        _, grid_errors = grid.validate_sessions(
            [grid.grid_row(s) for s in specs],
            starts_on=merged["starts_on"],
            ends_on=merged["ends_on"],
            timezone=merged["timezone"],
            meeting_minutes=merged["meeting_minutes"],
        )
        if grid_errors:
            field = next(k for k in GRID_INPUTS if k in changed)
            raise ValidationFailed({field: "The saved slot grid would no longer fit; change the grid first."})
    for name, value in changed.items():
        setattr(event, name, value)
    await _flush_or_conflict(db)
    if regrid and specs:
        await grid.materialise(db, event, specs)
    return event


def registration_state(event: Event, now: datetime | None = None) -> str:
    """'open', 'not_yet' or 'closed': whether people may register for ``event`` right now."""
    now = now or utcnow()
    if event.status not in ("open", "live"):
        return "not_yet" if event.status == "draft" else "closed"
    if event.registration_opens_at is not None and now < event.registration_opens_at:
        return "not_yet"
    if event.registration_closes_at is not None and now >= event.registration_closes_at:
        return "closed"
    return "open"


@dataclass(frozen=True)
class Overview:
    """Counts an organiser sees first."""

    clusters: int
    sessions: int
    slots: int
    participants: dict[str, int]  # by status: pending, approved, rejected


async def overview(db: AsyncSession, event: Event) -> Overview:
    """Count the event's clusters, sessions, slots and participants (by status)."""

    async def count(model: Any) -> int:
        return await db.scalar(select(func.count()).select_from(model).where(model.event_id == event.id)) or 0

    rows = await db.execute(
        select(Participant.status, func.count())
        .where(Participant.event_id == event.id)
        .group_by(Participant.status)
    )
    by_status = dict.fromkeys(PARTICIPANT_STATUSES, 0) | {status: n for status, n in rows.all()}
    return Overview(await count(Cluster), await count(EventSession), await count(Slot), by_status)
