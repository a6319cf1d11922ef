"""Meeting requests between participants and each event's matchmaking settings."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from clockevents.db import Base, TimestampMixin

REQUEST_STATUSES = ("pending", "accepted", "declined", "cancelled", "expired")
REQUEST_MODES = ("accept", "auto")  # receiver must accept | accepted at once
SCHEDULING_MODES = ("organiser", "self_booking")


class MatchmakingSettings(Base):
    """How requests work in one event (one row per event, created on first use)."""

    __tablename__ = "matchmaking_settings"

    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), primary_key=True)
    request_mode: Mapped[str] = mapped_column(String(16), default="accept")
    scheduling_mode: Mapped[str] = mapped_column(String(16), default="organiser")
    max_sent: Mapped[int | None] = mapped_column(default=None)  # per participant; None: no cap
    max_received: Mapped[int | None] = mapped_column(default=None)
    expiry_hours: Mapped[int | None] = mapped_column(default=None)  # pending requests expire after


class MeetingRequest(TimestampMixin, Base):
    """One participant asks another for a one-to-one meeting (or an organiser matches them)."""

    __tablename__ = "meeting_requests"
    __table_args__ = (
        Index("ix_meeting_requests_event_status", "event_id", "status"),
        Index("ix_meeting_requests_sender", "sender_id", "status"),
        Index("ix_meeting_requests_receiver", "receiver_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    sender_id: Mapped[int] = mapped_column(ForeignKey("participants.id", ondelete="CASCADE"))
    receiver_id: Mapped[int] = mapped_column(ForeignKey("participants.id", ondelete="CASCADE"))
    message: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default="pending")
    decline_reason: Mapped[str] = mapped_column(Text, default="")
    origin: Mapped[str] = mapped_column(String(16), default="participant")  # participant | organiser
    priority: Mapped[int] = mapped_column(default=1)  # the scheduler's weight, 1..3
    responded_at: Mapped[datetime | None] = mapped_column(default=None)
    expires_at: Mapped[datetime | None] = mapped_column(default=None)
    # Self-booking: the slot the sender picked, held while the request is pending.
    held_slot_id: Mapped[int | None] = mapped_column(
        ForeignKey("slots.id", ondelete="SET NULL"), default=None
    )
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
