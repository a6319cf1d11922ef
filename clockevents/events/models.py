"""Events, their co-organising clusters, organiser roles and the slot grid."""

from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy import JSON, Date, ForeignKey, String, Text, Time, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from clockevents.db import Base, TimestampMixin

EVENT_STATUSES = ("draft", "open", "live", "closed")
PARTICIPANT_TYPES = ("business", "research", "finance", "public_body", "other")
ROLES = ("owner", "organiser", "cluster_partner")
DEFAULT_OPPORTUNITY_KINDS = ("offer", "request", "partnership", "investment")


class Event(TimestampMixin, Base):
    __tablename__ = "events"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/Rome")
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    registration_opens_at: Mapped[datetime | None] = mapped_column(default=None)
    registration_closes_at: Mapped[datetime | None] = mapped_column(default=None)
    status: Mapped[str] = mapped_column(String(16), default="draft")
    meeting_minutes: Mapped[int] = mapped_column(default=20)
    gap_minutes: Mapped[int] = mapped_column(default=5)
    tables: Mapped[int] = mapped_column(default=20)
    format: Mapped[str] = mapped_column(String(16), default="virtual")  # virtual | in_person | hybrid
    requires_approval: Mapped[bool] = mapped_column(default=False)
    participant_types: Mapped[list[str]] = mapped_column(JSON, default=lambda: list(PARTICIPANT_TYPES))
    opportunity_kinds: Mapped[list[str]] = mapped_column(
        JSON, default=lambda: list(DEFAULT_OPPORTUNITY_KINDS)
    )
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    clusters: Mapped[list[Cluster]] = relationship(
        back_populates="event", cascade="all, delete-orphan", order_by="Cluster.position"
    )
    sessions: Mapped[list[EventSession]] = relationship(
        back_populates="event",
        cascade="all, delete-orphan",
        order_by="(EventSession.day, EventSession.starts_at)",
    )
    roles: Mapped[list[EventRole]] = relationship(back_populates="event", cascade="all, delete-orphan")


class Cluster(Base):
    """A co-organising technology district (Advanced Materials, Nautical, ...)."""

    __tablename__ = "clusters"
    __table_args__ = (UniqueConstraint("event_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int] = mapped_column(default=0)

    event: Mapped[Event] = relationship(back_populates="clusters")


class EventRole(Base):
    """A user's organising role in one event; cluster partners are tied to one cluster."""

    __tablename__ = "event_roles"
    __table_args__ = (UniqueConstraint("event_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(20))
    cluster_id: Mapped[int | None] = mapped_column(ForeignKey("clusters.id", ondelete="CASCADE"))

    event: Mapped[Event] = relationship(back_populates="roles")


class EventSession(Base):
    """One run of meetings on one day (a morning, an afternoon), in the event's local time."""

    __tablename__ = "event_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    day: Mapped[date] = mapped_column(Date)
    name: Mapped[str] = mapped_column(String(80), default="")
    starts_at: Mapped[time] = mapped_column(Time)
    ends_at: Mapped[time] = mapped_column(Time)

    event: Mapped[Event] = relationship(back_populates="sessions")
    slots: Mapped[list[Slot]] = relationship(
        back_populates="session", cascade="all, delete-orphan", order_by="Slot.index"
    )


class Slot(Base):
    """One meeting slot, materialised from the grid so meetings can reference it."""

    __tablename__ = "slots"
    __table_args__ = (UniqueConstraint("event_id", "index"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("event_sessions.id", ondelete="CASCADE"), index=True)
    index: Mapped[int] = mapped_column()
    starts_at: Mapped[datetime] = mapped_column()
    ends_at: Mapped[datetime] = mapped_column()

    session: Mapped[EventSession] = relationship(back_populates="slots")
