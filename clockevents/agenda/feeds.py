"""Calendar feeds: each participant's secret subscription address and the .ics behind it."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from clockevents.accounts.models import User
from clockevents.agenda.feed_models import CalendarFeedToken
from clockevents.agenda.ical import participant_calendar
from clockevents.agenda.meetings import participant_of
from clockevents.db import utcnow
from clockevents.errors import NotAuthenticated, NotFound, PermissionDenied
from clockevents.events.models import Event
from clockevents.registration.models import Participant

# One message for unknown, revoked and malformed tokens: the answer must not tell which.
FEED_NOT_FOUND = "No such calendar."
CONTENT_TYPE = "text/calendar; charset=utf-8"


@dataclass
class FeedLinks:
    """The same feed for Google (https) and for Apple, Outlook and Thunderbird (webcal)."""

    https: str
    webcal: str


def hash_token(token: str) -> str:
    """Return the sha256 hex digest the table is searched by."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    """Return a fresh secret: 24 random bytes, 192 bits, URL-safe."""
    return secrets.token_urlsafe(24)


def feed_links(base_url: str, token: str) -> FeedLinks:
    """Build both subscription addresses of a token."""
    https = f"{base_url.rstrip('/')}/calendar/{token}.ics"
    webcal = "webcal://" + https.split("://", 1)[1]
    return FeedLinks(https=https, webcal=webcal)


async def _me(db: AsyncSession, event: Event, user: User | None) -> Participant:
    if user is None:
        raise NotAuthenticated()
    me = await participant_of(db, event, user)
    if me is None:
        raise PermissionDenied("You are not registered for this event.")
    return me


async def token_for(db: AsyncSession, participant_id: int) -> CalendarFeedToken:
    """Return the participant's live feed token, creating (or reviving) it on first use."""
    row = await db.scalar(select(CalendarFeedToken).where(CalendarFeedToken.participant_id == participant_id))
    if row is None:
        token = new_token()
        row = CalendarFeedToken(participant_id=participant_id, token=token, token_hash=hash_token(token))
        db.add(row)
        await db.flush()
    elif row.revoked_at is not None:
        _replace(row)
        await db.flush()
    return row


def _replace(row: CalendarFeedToken) -> None:
    token = new_token()
    row.token = token
    row.token_hash = hash_token(token)
    row.created_at = utcnow()
    row.revoked_at = None


async def links_for(db: AsyncSession, event: Event, user: User | None, *, base_url: str) -> FeedLinks:
    """Return the caller's feed addresses for the event (they must be registered for it)."""
    me = await _me(db, event, user)
    row = await token_for(db, me.id)
    return feed_links(base_url, row.token)


async def rotate(db: AsyncSession, event: Event, user: User | None, *, base_url: str) -> FeedLinks:
    """Give the caller a new secret address; the old one stops working at once."""
    me = await _me(db, event, user)
    row = await token_for(db, me.id)
    _replace(row)
    await db.flush()
    return feed_links(base_url, row.token)


async def revoke(db: AsyncSession, participant_id: int, *, now: datetime | None = None) -> None:
    """Switch a participant's feed off (e.g. when they leave the event) until asked for again."""
    row = await db.scalar(select(CalendarFeedToken).where(CalendarFeedToken.participant_id == participant_id))
    if row is not None and row.revoked_at is None:
        row.revoked_at = now or utcnow()
        await db.flush()


async def feed_by_token(db: AsyncSession, token: str, *, base_url: str, now: datetime | None = None) -> bytes:
    """Return the .ics behind a secret address, or NotFound (same message whatever was wrong)."""
    if not token or len(token) > 64:
        raise NotFound(FEED_NOT_FOUND)
    row = await db.execute(
        select(Participant, Event)
        .join(CalendarFeedToken, CalendarFeedToken.participant_id == Participant.id)
        .join(Event, Event.id == Participant.event_id)
        .where(CalendarFeedToken.token_hash == hash_token(token), CalendarFeedToken.revoked_at.is_(None))
    )
    found = row.first()
    if found is None:
        raise NotFound(FEED_NOT_FOUND)
    participant, event = found
    return await participant_calendar(db, event, participant.id, base_url=base_url, now=now)


async def agenda_ics(
    db: AsyncSession, event: Event, user: User | None, *, base_url: str, now: datetime | None = None
) -> bytes:
    """Return the caller's own published meetings as a one-off .ics download."""
    me = await _me(db, event, user)
    return await participant_calendar(db, event, me.id, base_url=base_url, now=now)
