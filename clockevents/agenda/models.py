"""Meetings (what the agenda holds), the seats that make double-booking impossible, and runs."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from clockevents.db import Base, TimestampMixin, utcnow

MEETING_STATUSES = ("held", "scheduled", "cancelled")
RUN_STATUSES = ("queued", "running", "done", "failed", "cancelled", "published")


class Meeting(TimestampMixin, Base):
    """A one-to-one meeting between two participants, in a slot once scheduled.

    ``status``: "held" (self-booking, waiting for the receiver), "scheduled", "cancelled".
    ``uid`` and ``sequence`` are what calendar clients track: the UID never changes and the
    sequence only grows, raised on every material change (time, place, status).
    """

    __tablename__ = "meetings"
    __table_args__ = (
        Index("ix_meetings_event_status", "event_id", "status"),
        UniqueConstraint("request_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    request_id: Mapped[int | None] = mapped_column(ForeignKey("meeting_requests.id", ondelete="SET NULL"))
    a_id: Mapped[int] = mapped_column(ForeignKey("participants.id", ondelete="CASCADE"), index=True)
    b_id: Mapped[int] = mapped_column(ForeignKey("participants.id", ondelete="CASCADE"), index=True)
    slot_id: Mapped[int | None] = mapped_column(ForeignKey("slots.id", ondelete="RESTRICT"), index=True)
    table: Mapped[int | None] = mapped_column(default=None)  # table / virtual room number, 1-based
    status: Mapped[str] = mapped_column(String(16), default="scheduled")
    weight: Mapped[int] = mapped_column(default=1)
    uid: Mapped[str] = mapped_column(String(120), unique=True)
    sequence: Mapped[int] = mapped_column(default=0)
    published_at: Mapped[datetime | None] = mapped_column(default=None)
    cancelled_at: Mapped[datetime | None] = mapped_column(default=None)
    cancel_reason: Mapped[str] = mapped_column(Text, default="")


class MeetingSeat(Base):
    """A participant's place in a slot: unique per (participant, slot).

    Every live (held or scheduled) meeting with a slot owns two seats, so the database itself
    refuses a second meeting for anyone in the same slot, whatever races the services lose.
    """

    __tablename__ = "meeting_seats"
    __table_args__ = (UniqueConstraint("participant_id", "slot_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"), index=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id", ondelete="CASCADE"))
    slot_id: Mapped[int] = mapped_column(ForeignKey("slots.id", ondelete="CASCADE"), index=True)


class TableBooking(Base):
    """A table (or virtual room) taken in a slot: unique per (slot, table)."""

    __tablename__ = "table_bookings"
    __table_args__ = (UniqueConstraint("slot_id", "table"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"), index=True)
    slot_id: Mapped[int] = mapped_column(ForeignKey("slots.id", ondelete="CASCADE"))
    table: Mapped[int] = mapped_column()


class ScheduleRun(Base):
    """One run of the agenda builder: its problem, progress, result and statistics."""

    __tablename__ = "schedule_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="queued")
    time_limit: Mapped[float] = mapped_column(default=30.0)
    progress: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    statistics: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    problem: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # clockevents-problem/1
    solution: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # clockevents-solution/1
    error: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)
    published_at: Mapped[datetime | None] = mapped_column(default=None)
