"""Organisations, participants (a person's registration for one event) and opportunities."""

from __future__ import annotations

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from clockevents.db import Base, TimestampMixin

PARTICIPANT_STATUSES = ("pending", "approved", "rejected")
ORGANISATION_SIZES = ("1-9", "10-49", "50-249", "250+")


class Organisation(TimestampMixin, Base):
    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # one of PARTICIPANT_TYPES
    country: Mapped[str] = mapped_column(String(2))  # ISO 3166-1 alpha-2
    city: Mapped[str] = mapped_column(String(120), default="")
    website: Mapped[str] = mapped_column(String(300), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    size: Mapped[str] = mapped_column(String(10), default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    participants: Mapped[list[Participant]] = relationship(back_populates="organisation")


class Participant(TimestampMixin, Base):
    """A person registered for one event, on behalf of an organisation, in one cluster."""

    __tablename__ = "participants"
    __table_args__ = (
        UniqueConstraint("event_id", "user_id"),
        Index("ix_participants_event_status", "event_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="RESTRICT"), index=True
    )
    cluster_id: Mapped[int | None] = mapped_column(ForeignKey("clusters.id", ondelete="SET NULL"), index=True)
    participant_type: Mapped[str] = mapped_column(String(20))
    job_title: Mapped[str] = mapped_column(String(120), default="")
    pitch: Mapped[str] = mapped_column(Text, default="")
    keywords: Mapped[list[str]] = mapped_column(JSON, default=list)
    sectors: Mapped[list[str]] = mapped_column(JSON, default=list)
    languages: Mapped[list[str]] = mapped_column(JSON, default=list)
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/Rome")
    unavailable_slots: Mapped[list[int]] = mapped_column(JSON, default=list)  # slot indexes
    listed: Mapped[bool] = mapped_column(default=True)  # consent to appear in the directory
    status: Mapped[str] = mapped_column(String(16), default="pending")
    # Lower-cased text over name, organisation, pitch, keywords and opportunities,
    # rebuilt by the service on every change; the directory searches it.
    search_text: Mapped[str] = mapped_column(Text, default="")

    organisation: Mapped[Organisation] = relationship(back_populates="participants")
    opportunities: Mapped[list[Opportunity]] = relationship(
        back_populates="participant", cascade="all, delete-orphan", order_by="Opportunity.id"
    )


class Opportunity(TimestampMixin, Base):
    """What a participant offers or seeks on the event's marketplace."""

    __tablename__ = "opportunities"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    keywords: Mapped[list[str]] = mapped_column(JSON, default=list)

    participant: Mapped[Participant] = relationship(back_populates="opportunities")
