"""E-mail: the durable outbox, each user's mail choices and each event's reminder lead time."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from clockevents.db import Base, utcnow

MAIL_STATUSES = ("queued", "sent", "failed")
MAIL_KINDS = ("registration", "requests", "agenda", "reminders")


class OutboundMail(Base):
    """One composed e-mail waiting for (or done with) delivery.

    Written in the transaction of the change that caused it, so a rolled-back change sends
    nothing; ``dedupe_key`` is unique so the same reminder can never be queued twice.
    """

    __tablename__ = "outbound_mails"
    __table_args__ = (Index("ix_outbound_mails_status_next", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    to: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(300))
    text: Mapped[str] = mapped_column(Text)
    html: Mapped[str] = mapped_column(Text, default="")
    ics: Mapped[str] = mapped_column(Text, default="")
    ics_method: Mapped[str] = mapped_column(String(16), default="")
    kind: Mapped[str] = mapped_column(String(20), default="")
    status: Mapped[str] = mapped_column(String(10), default="queued")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_error: Mapped[str] = mapped_column(Text, default="")
    dedupe_key: Mapped[str | None] = mapped_column(String(200), unique=True, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(default=None)


class MailPreference(Base):
    """A user's choice for one kind of mail; no row means the kind is wanted."""

    __tablename__ = "mail_preferences"
    __table_args__ = (UniqueConstraint("user_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    enabled: Mapped[bool] = mapped_column(default=True)


class EventMailSettings(Base):
    """Per-event mail options; ``reminder_minutes`` None means the default for the format."""

    __tablename__ = "event_mail_settings"

    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), primary_key=True)
    reminder_minutes: Mapped[int | None] = mapped_column(default=None)
