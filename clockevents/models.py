"""Import every context's models so ``Base.metadata`` knows all tables (Alembic, tests)."""

from __future__ import annotations

from clockevents.accounts.models import AuthToken, LoginAttempt
from clockevents.db import Base
from clockevents.events.models import Cluster, Event, EventRole, EventSession, Slot
from clockevents.registration.models import Opportunity, Organisation, Participant

__all__ = [
    "AuthToken",
    "Base",
    "Cluster",
    "Event",
    "EventRole",
    "EventSession",
    "LoginAttempt",
    "Opportunity",
    "Organisation",
    "Participant",
    "Slot",
]
