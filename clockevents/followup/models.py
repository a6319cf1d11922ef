"""What came of each meeting: both parties' outcomes, follow-up tasks and their comments, and
the answers to the survey sent months after the event."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from clockevents.db import Base, TimestampMixin, utcnow

OUTCOME_KINDS = (
    "none",
    "further_contact",
    "technical_cooperation",
    "commercial_agreement",
    "research_cooperation",
    "investment",
    "licence",
)
SURVEY_STAGES = ("no_contact", "negotiation", "agreement_signed", "joint_project")


class MeetingOutcome(TimestampMixin, Base):
    """One party's report on one meeting. ``private_notes`` is never shown to the other party."""

    __tablename__ = "meeting_outcomes"
    __table_args__ = (UniqueConstraint("meeting_id", "participant_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"), index=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id", ondelete="CASCADE"), index=True)
    took_place: Mapped[bool] = mapped_column(default=True)
    rating: Mapped[int | None] = mapped_column(default=None)  # 1-5
    wants_to_continue: Mapped[bool] = mapped_column(default=False)
    outcome: Mapped[str] = mapped_column(String(32), default="none")  # one of OUTCOME_KINDS
    private_notes: Mapped[str] = mapped_column(Text, default="")


class FollowUpTask(TimestampMixin, Base):
    """A next step agreed in a meeting, owned by one of its parties."""

    __tablename__ = "followup_tasks"
    __table_args__ = (Index("ix_followup_tasks_due", "due_on", "done_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"), index=True)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("participants.id", ondelete="SET NULL"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("participants.id", ondelete="SET NULL"))
    title: Mapped[str] = mapped_column(String(300))
    due_on: Mapped[date | None] = mapped_column(Date, default=None)
    done_at: Mapped[datetime | None] = mapped_column(default=None)
    reminded_at: Mapped[datetime | None] = mapped_column(default=None)


class FollowUpComment(Base):
    __tablename__ = "followup_comments"

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("followup_tasks.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("participants.id", ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SurveyInvitation(Base):
    """The follow-up survey sent months after the event for one party of one meeting.

    The link's token is signed and single-purpose; ``used_at`` makes it single-use.
    """

    __tablename__ = "survey_invitations"
    __table_args__ = (UniqueConstraint("meeting_id", "participant_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"), index=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id", ondelete="CASCADE"), index=True)
    sent_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
    used_at: Mapped[datetime | None] = mapped_column(default=None)
    stage: Mapped[str | None] = mapped_column(String(32), default=None)  # one of SURVEY_STAGES
    agreement_kind: Mapped[str | None] = mapped_column(String(32), default=None)  # an OUTCOME_KINDS value
