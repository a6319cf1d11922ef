"""Secret calendar feed addresses, one per participant."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from clockevents.db import Base, utcnow


class CalendarFeedToken(Base):
    """The secret in a participant's ``/calendar/{token}.ics`` address.

    The token is a capability URL (like Google Calendar's secret address) that the profile must
    show again, so it is kept in clear in this table of its own; lookups go through
    ``token_hash`` (sha256) so the database compares digests, not the secret. Rotation
    overwrites both in place, so the old address stops working at once.
    """

    __tablename__ = "calendar_feed_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[int] = mapped_column(
        ForeignKey("participants.id", ondelete="CASCADE"), unique=True
    )
    token: Mapped[str] = mapped_column(String(64))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)
