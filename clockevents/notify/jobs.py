"""Timed work: meeting reminders, request expiry, follow-up mail and surveys, and mail delivery with retries.

It runs in the app process (``JobRunner.start`` on startup), one tick every ``interval`` seconds,
each step in its own short session. With ``REDIS_URL`` set, a tick first takes a Redis lock
(``SET key token NX PX``) so several workers never do the same tick twice; without Redis, or if
two runners race anyway, the UNIQUE ``dedupe_key`` and the outbox claim still make every
reminder and every mail go out once.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from clockevents.accounts.models import User
from clockevents.agenda.models import Meeting
from clockevents.background import cancel_and_wait
from clockevents.db import utcnow
from clockevents.errors import ValidationFailed
from clockevents.events.models import Event, Slot
from clockevents.events.permissions import require_organiser
from clockevents.followup.reminders import queue_followup_mail
from clockevents.followup.surveys import send_due_surveys
from clockevents.matchmaking.requests import expire_pending
from clockevents.notify import mail as mails
from clockevents.notify import transport
from clockevents.notify.mail_models import EventMailSettings, OutboundMail
from clockevents.notify.outbox import BATCH, deliver_due
from clockevents.settings import Settings

log = logging.getLogger(__name__)

DEFAULT_REMINDER_MINUTES = 15
VIRTUAL_REMINDER_MINUTES = 5
MAX_REMINDER_MINUTES = 24 * 60
LOCK_KEY = "clockevents:jobs:tick"


def reminder_minutes(event: Event, configured: int | None) -> int:
    """Minutes before a meeting that its reminder goes: the event's choice, else 5 online, 15 otherwise."""
    if configured is not None:
        return configured
    return VIRTUAL_REMINDER_MINUTES if event.format == "virtual" else DEFAULT_REMINDER_MINUTES


async def set_reminder_minutes(db: AsyncSession, event: Event, value: object) -> int:
    """Store an event's reminder lead time (``None`` restores the default); return the minutes in force.

    Permission checks are the caller's (an organiser's settings page).
    """
    if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
        raise ValidationFailed({"reminder_minutes": "Give a whole number of minutes."})
    if isinstance(value, int) and not 0 < value <= MAX_REMINDER_MINUTES:
        raise ValidationFailed({"reminder_minutes": f"Choose between 1 and {MAX_REMINDER_MINUTES} minutes."})
    row = await db.get(EventMailSettings, event.id)
    if row is None:
        row = EventMailSettings(event_id=event.id)
        db.add(row)
    row.reminder_minutes = value  # type: ignore[assignment]
    await db.flush()
    return reminder_minutes(event, row.reminder_minutes)


async def reminder_setting(db: AsyncSession, event: Event, user: User | None) -> tuple[int | None, int]:
    """The event's configured reminder minutes (None: default) and the minutes in force; organisers only."""
    await require_organiser(db, event, user)
    row = await db.get(EventMailSettings, event.id)
    configured = row.reminder_minutes if row else None
    return configured, reminder_minutes(event, configured)


async def configure_reminders(db: AsyncSession, event: Event, user: User | None, value: object) -> int:
    """Set the event's reminder lead time as an organiser; ``value`` may be typed text ('' = default)."""
    await require_organiser(db, event, user)
    if isinstance(value, str):
        text = value.strip()
        if not text:
            value = None
        elif text.isdigit() and len(text) < 7:
            value = int(text)
    return await set_reminder_minutes(db, event, value)


async def queue_due_reminders(db: AsyncSession, now: datetime | None = None) -> int:
    """Queue reminders for scheduled meetings starting within their event's lead time; return how many.

    A meeting already started gets none; a moved meeting (new sequence) gets a new one.
    """
    now = now or utcnow()
    horizon = now + timedelta(minutes=MAX_REMINDER_MINUTES)
    soon = (
        select(Meeting.event_id)
        .join(Slot, Slot.id == Meeting.slot_id)
        .where(Meeting.status == "scheduled", Slot.starts_at > now, Slot.starts_at <= horizon)
        .distinct()
    )
    events = (
        await db.execute(
            select(Event, EventMailSettings.reminder_minutes)
            .outerjoin(EventMailSettings, EventMailSettings.event_id == Event.id)
            .where(Event.id.in_(soon))
        )
    ).all()
    count = 0
    for event, configured in events:
        minutes = reminder_minutes(event, configured)
        rows = (
            await db.execute(
                select(Meeting, Slot)
                .join(Slot, Slot.id == Meeting.slot_id)
                .where(
                    Meeting.event_id == event.id,
                    Meeting.status == "scheduled",
                    Slot.starts_at > now,
                    Slot.starts_at <= now + timedelta(minutes=minutes),
                )
                .order_by(Slot.starts_at, Meeting.id)
            )
        ).all()
        for meeting, slot in rows:
            count += await mails.queue_reminder(db, meeting, slot, event, minutes)
    return count


@dataclass
class TickResult:
    expired: int = 0
    reminders: int = 0
    surveys: int = 0
    sent: int = 0
    failed: int = 0
    skipped: bool = False  # another worker holds the tick


class JobRunner:
    """Run the timed work every ``interval`` seconds until stopped."""

    def __init__(
        self,
        settings: Settings,
        factory: async_sessionmaker[AsyncSession],
        interval: float = 15.0,
        lock_key: str = LOCK_KEY,
    ) -> None:
        self.settings = settings
        self.lock_key = lock_key
        self.factory = factory
        self.interval = interval
        self._task: asyncio.Task[None] | None = None
        self._redis: object | None = None

    def _build(self, mail: OutboundMail) -> EmailMessage:
        return transport.build_message(self.settings, mail)

    async def _lock(self) -> str | None:
        """Take the tick lock in Redis for one interval; None if another worker has it."""
        from redis import asyncio as aioredis

        if self._redis is None:
            self._redis = aioredis.from_url(self.settings.redis_url)  # type: ignore[arg-type]
        token = secrets.token_hex(8)
        ttl = max(int(self.interval * 1000), 1000)
        got = await self._redis.set(self.lock_key, token, nx=True, px=ttl)  # type: ignore[attr-defined]
        return token if got else None

    async def tick(self, now: datetime | None = None) -> TickResult:
        """Do one round of timed work; each step commits on its own so one failure spoils no other."""
        result = TickResult()
        if self.settings.redis_url and await self._lock() is None:
            result.skipped = True
            return result
        now = now or utcnow()
        async with self.factory() as db:
            result.expired = await expire_pending(db, now)
            await db.commit()
        async with self.factory() as db:
            result.reminders = await queue_due_reminders(db, now)
            await db.commit()
        async with self.factory() as db:
            result.reminders += await queue_followup_mail(db, now)
            await db.commit()
        async with self.factory() as db:  # months after an event: where did each contact lead?
            result.surveys = await send_due_surveys(db, now, secret=self.settings.secret_key)
            await db.commit()
        # Mails queued just now (the reminders above) are due in this same tick.
        due = max(now, utcnow())
        result.sent, result.failed = await self._deliver(due)
        return result

    async def _deliver(self, due: datetime) -> tuple[int, int]:
        """Send due mail in batches over one SMTP connection until none is left or the tick's time is up.

        One batch per tick would take hours over a published agenda's thousands of invitations;
        a failing batch ends the round (the server is down: the mails wait for their retry).
        """
        sent = failed = 0
        stop_at = time.monotonic() + max(self.interval * 0.8, 1.0)
        async with transport.Sender(self.settings) as sender:
            while True:
                ok, bad = await deliver_due(self.factory, self._build, sender.send, due, BATCH)
                sent, failed = sent + ok, failed + bad
                if bad or ok < BATCH or time.monotonic() >= stop_at:
                    return sent, failed

    async def _loop(self) -> None:
        while True:
            # Wait first: a worker just starting has nothing urgent, and tests' apps stay quiet.
            await asyncio.sleep(self.interval)
            try:
                await self.tick()
            except Exception:  # keep ticking: the next round retries whatever failed
                log.exception("timed work failed")

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._loop(), name="clockevents-jobs")

    async def stop(self) -> None:
        task, self._task = self._task, None
        await cancel_and_wait(task)
        if self._redis is not None:
            await self._redis.aclose()  # type: ignore[attr-defined]
            self._redis = None
