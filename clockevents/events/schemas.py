"""API shapes for events, clusters, roles and the slot grid (msgspec structs)."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

import msgspec

from clockevents.events.models import Cluster, Event, EventSession, Slot
from clockevents.events.team import RoleView


class EventIn(msgspec.Struct):
    """Fields to create or change; every one optional so the service reports all problems at once."""

    slug: str | None = None
    title: str | None = None
    description: str | None = None
    timezone: str | None = None
    starts_on: str | None = None
    ends_on: str | None = None
    registration_opens_at: str | None = None  # ISO 8601; "" clears
    registration_closes_at: str | None = None
    status: str | None = None
    meeting_minutes: int | None = None
    gap_minutes: int | None = None
    tables: int | None = None
    format: str | None = None
    requires_approval: bool | None = None
    participant_types: list[str] | None = None
    opportunity_kinds: list[str] | None = None


def given(data: msgspec.Struct) -> dict[str, Any]:
    """The fields a client actually sent (None means 'not given')."""
    return {name: getattr(data, name) for name in data.__struct_fields__ if getattr(data, name) is not None}


class ClusterIn(msgspec.Struct):
    name: str | None = None
    description: str | None = None


class ClusterOut(msgspec.Struct):
    id: int
    name: str
    description: str
    position: int


class EventOut(msgspec.Struct):
    id: int
    slug: str
    title: str
    description: str
    timezone: str
    starts_on: str
    ends_on: str
    registration_opens_at: str | None
    registration_closes_at: str | None
    status: str
    meeting_minutes: int
    gap_minutes: int
    tables: int
    format: str
    requires_approval: bool
    participant_types: list[str]
    opportunity_kinds: list[str]
    clusters: list[ClusterOut]


class EventSummary(msgspec.Struct):
    id: int
    slug: str
    title: str
    timezone: str
    starts_on: str
    ends_on: str
    status: str
    format: str


class SessionIn(msgspec.Struct):
    day: str | None = None  # YYYY-MM-DD
    starts_at: str | None = None  # HH:MM, the event's local time
    ends_at: str | None = None
    name: str | None = None


class GridIn(msgspec.Struct):
    sessions: list[SessionIn] | None = None


class SessionOut(msgspec.Struct):
    id: int
    day: str
    name: str
    starts_at: str
    ends_at: str


class SlotOut(msgspec.Struct):
    index: int
    session_id: int
    starts_at: str  # UTC, ISO 8601
    ends_at: str
    local_starts_at: str  # the event's zone, with its offset
    local_ends_at: str


class GridOut(msgspec.Struct):
    timezone: str
    meeting_minutes: int
    gap_minutes: int
    sessions: list[SessionOut]
    slots: list[SlotOut]


class RoleIn(msgspec.Struct):
    email: str | None = None
    role: str | None = None
    cluster_id: int | None = None


class RoleOut(msgspec.Struct):
    id: int
    role: str
    user_id: int
    email: str
    name: str
    cluster_id: int | None
    cluster_name: str | None


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def cluster_out(cluster: Cluster) -> ClusterOut:
    return ClusterOut(
        id=cluster.id, name=cluster.name, description=cluster.description, position=cluster.position
    )


def event_summary(event: Event) -> EventSummary:
    return EventSummary(
        id=event.id,
        slug=event.slug,
        title=event.title,
        timezone=event.timezone,
        starts_on=event.starts_on.isoformat(),
        ends_on=event.ends_on.isoformat(),
        status=event.status,
        format=event.format,
    )


def event_out(event: Event, clusters: list[Cluster]) -> EventOut:
    return EventOut(
        id=event.id,
        slug=event.slug,
        title=event.title,
        description=event.description,
        timezone=event.timezone,
        starts_on=event.starts_on.isoformat(),
        ends_on=event.ends_on.isoformat(),
        registration_opens_at=_iso(event.registration_opens_at),
        registration_closes_at=_iso(event.registration_closes_at),
        status=event.status,
        meeting_minutes=event.meeting_minutes,
        gap_minutes=event.gap_minutes,
        tables=event.tables,
        format=event.format,
        requires_approval=event.requires_approval,
        participant_types=list(event.participant_types),
        opportunity_kinds=list(event.opportunity_kinds),
        clusters=[cluster_out(c) for c in clusters],
    )


def grid_out(event: Event, sessions: list[EventSession], slots: list[Slot]) -> GridOut:
    zone = ZoneInfo(event.timezone)
    return GridOut(
        timezone=event.timezone,
        meeting_minutes=event.meeting_minutes,
        gap_minutes=event.gap_minutes,
        sessions=[
            SessionOut(
                id=s.id,
                day=s.day.isoformat(),
                name=s.name,
                starts_at=s.starts_at.strftime("%H:%M"),
                ends_at=s.ends_at.strftime("%H:%M"),
            )
            for s in sessions
        ],
        slots=[
            SlotOut(
                index=s.index,
                session_id=s.session_id,
                starts_at=s.starts_at.isoformat(),
                ends_at=s.ends_at.isoformat(),
                local_starts_at=s.starts_at.astimezone(zone).isoformat(),
                local_ends_at=s.ends_at.astimezone(zone).isoformat(),
            )
            for s in slots
        ],
    )


def role_out(view: RoleView) -> RoleOut:
    return RoleOut(
        id=view.id,
        role=view.role,
        user_id=view.user_id,
        email=view.email,
        name=view.name,
        cluster_id=view.cluster_id,
        cluster_name=view.cluster_name,
    )
