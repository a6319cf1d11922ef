"""Import every context's models so ``Base.metadata`` knows all tables (Alembic, tests)."""

from __future__ import annotations

from clockevents.accounts.models import AuthToken, LoginAttempt, User
from clockevents.agenda.feed_models import CalendarFeedToken
from clockevents.agenda.models import Meeting, MeetingSeat, ScheduleRun, TableBooking
from clockevents.db import Base
from clockevents.events.models import Cluster, Event, EventRole, EventSession, Slot
from clockevents.matchmaking.models import MatchmakingSettings, MeetingRequest
from clockevents.notify.mail_models import EventMailSettings, MailPreference, OutboundMail
from clockevents.notify.models import Notification
from clockevents.registration.models import Opportunity, Organisation, Participant

__all__ = [
    "AuthToken",
    "Base",
    "CalendarFeedToken",
    "Cluster",
    "Event",
    "EventMailSettings",
    "EventRole",
    "EventSession",
    "LoginAttempt",
    "MailPreference",
    "MatchmakingSettings",
    "Meeting",
    "MeetingRequest",
    "MeetingSeat",
    "Notification",
    "Opportunity",
    "Organisation",
    "OutboundMail",
    "Participant",
    "ScheduleRun",
    "Slot",
    "TableBooking",
    "User",
]
