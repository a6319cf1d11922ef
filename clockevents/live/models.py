"""The live event's records: channels, their stored and numbered messages, room notes,
attendance intervals, and workshops."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from clockevents.db import Base, TimestampMixin, utcnow


class LiveChannel(Base):
    """A live channel ("event:3", "meeting:77", "workshop:5").

    Its messages are numbered 1, 2, 3… in the order they are stored, whichever worker writes: a
    batch takes the numbers after the highest stored one, and the unique index on (channel_id,
    seq) turns away a batch that another worker numbered the same (clockevents/live/storage.py).
    """

    __tablename__ = "live_channels"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)


class LiveMessage(Base):
    """A stored message of a channel: chat, note edit, presence change, announcement, question…"""

    __tablename__ = "live_messages"
    __table_args__ = (
        UniqueConstraint("channel_id", "seq"),
        Index("ix_live_messages_channel_type", "channel_id", "type"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("live_channels.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column()
    type: Mapped[str] = mapped_column(String(24))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class RoomNote(Base):
    """The shared notes of a meeting's two parties (last writer wins)."""

    __tablename__ = "room_notes"

    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"), primary_key=True)
    text: Mapped[str] = mapped_column(Text, default="")
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class Attendance(Base):
    """One connection's stay in a meeting room: who, when they came, when they left.

    ``left_at`` is empty while the connection is open. Organisers who look in are recorded with
    ``participant_id`` empty; only the parties count towards "held".
    """

    __tablename__ = "attendance"
    __table_args__ = (
        Index("ix_attendance_meeting_joined", "meeting_id", "joined_at"),
        Index("ix_attendance_open_seen", "left_at", "seen_at"),  # the sweep: open, unconfirmed
        Index("ix_attendance_pending_left", "pending_left", "left_at"),  # the sweep: "left" owed
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"))
    participant_id: Mapped[int | None] = mapped_column(
        ForeignKey("participants.id", ondelete="SET NULL"), index=True
    )
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    role: Mapped[str] = mapped_column(String(12), default="participant")  # participant | organiser
    joined_at: Mapped[datetime] = mapped_column(default=utcnow)
    left_at: Mapped[datetime | None] = mapped_column(default=None)
    # The worker holding the connection confirms it every few seconds; a row nobody confirms any
    # more belongs to a worker that died, and is closed at this time (clockevents.live.keeper).
    seen_at: Mapped[datetime | None] = mapped_column(default=None)
    # The connection dropped without a goodbye: "left" is still to be said after the grace period.
    pending_left: Mapped[bool] = mapped_column(default=False, server_default=false())


class PresenceLease(Base):
    """One connection's "joined" on a channel without attendance (a workshop room), until its "left".

    The worker holding the connection confirms it (``seen_at``) as it does attendance; a lease
    nobody confirms any more is ended by another worker's sweep, which says the "left".
    """

    __tablename__ = "presence_leases"
    __table_args__ = (Index("ix_presence_leases_open_seen", "left_at", "seen_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(64))
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    who: Mapped[dict[str, Any]] = mapped_column(JSON)  # as the "joined" said it
    joined_at: Mapped[datetime] = mapped_column(default=utcnow)
    seen_at: Mapped[datetime | None] = mapped_column(default=None)
    left_at: Mapped[datetime | None] = mapped_column(default=None)


class Workshop(TimestampMixin, Base):
    """A one-to-many session (a technology dissemination talk) over one or more slots."""

    __tablename__ = "workshops"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    presenter_id: Mapped[int | None] = mapped_column(ForeignKey("participants.id", ondelete="SET NULL"))
    capacity: Mapped[int | None] = mapped_column(default=None)


class WorkshopSlot(Base):
    """A slot a workshop takes: its attendees get no one-to-one meeting then."""

    __tablename__ = "workshop_slots"
    __table_args__ = (UniqueConstraint("workshop_id", "slot_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workshop_id: Mapped[int] = mapped_column(ForeignKey("workshops.id", ondelete="CASCADE"))
    slot_id: Mapped[int] = mapped_column(ForeignKey("slots.id", ondelete="CASCADE"), index=True)


class WorkshopRegistration(Base):
    __tablename__ = "workshop_registrations"
    __table_args__ = (UniqueConstraint("workshop_id", "participant_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workshop_id: Mapped[int] = mapped_column(ForeignKey("workshops.id", ondelete="CASCADE"))
    participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class WorkshopQuestion(Base):
    __tablename__ = "workshop_questions"

    id: Mapped[int] = mapped_column(primary_key=True)
    workshop_id: Mapped[int] = mapped_column(ForeignKey("workshops.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(Text)
    answered: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class WorkshopVote(Base):
    __tablename__ = "workshop_votes"
    __table_args__ = (UniqueConstraint("question_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("workshop_questions.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
