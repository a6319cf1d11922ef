"""Import every context's models so ``Base.metadata`` knows all tables (Alembic, tests)."""

from __future__ import annotations

from clockevents.accounts.models import AuthToken, LoginAttempt, User
from clockevents.agenda.feed_models import CalendarFeedToken
from clockevents.agenda.models import Meeting, MeetingSeat, ScheduleRun, TableBooking
from clockevents.db import Base
from clockevents.events.models import Cluster, Event, EventRole, EventSession, Slot
from clockevents.followup.models import FollowUpComment, FollowUpTask, MeetingOutcome, SurveyInvitation
from clockevents.live.models import (
    Attendance,
    LiveChannel,
    LiveMessage,
    RoomNote,
    Workshop,
    WorkshopQuestion,
    WorkshopRegistration,
    WorkshopSlot,
    WorkshopVote,
)
from clockevents.matchmaking.models import MatchmakingSettings, MeetingRequest
from clockevents.notify.mail_models import EventMailSettings, MailPreference, OutboundMail
from clockevents.notify.models import Notification
from clockevents.registration.models import Opportunity, Organisation, Participant

__all__ = [
    "Attendance",
    "AuthToken",
    "Base",
    "CalendarFeedToken",
    "Cluster",
    "Event",
    "EventMailSettings",
    "EventRole",
    "EventSession",
    "FollowUpComment",
    "FollowUpTask",
    "LiveChannel",
    "LiveMessage",
    "LoginAttempt",
    "MailPreference",
    "MatchmakingSettings",
    "Meeting",
    "MeetingOutcome",
    "MeetingRequest",
    "MeetingSeat",
    "Notification",
    "Opportunity",
    "Organisation",
    "OutboundMail",
    "Participant",
    "RoomNote",
    "ScheduleRun",
    "Slot",
    "SurveyInvitation",
    "TableBooking",
    "User",
    "Workshop",
    "WorkshopQuestion",
    "WorkshopRegistration",
    "WorkshopSlot",
    "WorkshopVote",
]
