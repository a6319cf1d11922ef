"""``clockevents demo --live``: make the demo event happen now.

Publishes an agenda when none is published, then moves every slot of the event by the same
amount so that the slot with the most meetings began two minutes ago. Meetings keep their slots (so their times
move with them) and their SEQUENCE grows, so subscribed calendars follow.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from clockevents.accounts.models import User
from clockevents.agenda.models import Meeting, ScheduleRun
from clockevents.db import utcnow
from clockevents.errors import DomainError, NotFound
from clockevents.events.models import Event, EventSession, Slot
from clockevents.registration.models import Participant

STARTED_AGO = timedelta(minutes=2)


@dataclass(frozen=True)
class LiveDemo:
    slug: str
    slot_starts: datetime
    slot_ends: datetime
    meetings_now: int
    pair: tuple[str, str] | None  # two logins with a meeting now
    meeting_id: int | None

    def describe(self, base_url: str) -> str:
        lines = [
            f"{self.slug} is live: the current slot runs {self.slot_starts:%H:%M} to {self.slot_ends:%H:%M} UTC "
            f"with {self.meetings_now} meetings",
            f"organiser's live monitor: {base_url}/events/{self.slug}/live/monitor",
        ]
        if self.pair and self.meeting_id:
            lines += [
                f"a meeting happening now: {base_url}/meetings/{self.meeting_id}/room",
                f"  its two participants: {self.pair[0]} and {self.pair[1]}",
                f"  their dashboard: {base_url}/events/{self.slug}/live",
            ]
        return "\n".join(lines)


async def ensure_published(
    factory: async_sessionmaker[AsyncSession], event: Event, time_limit: float = 20
) -> None:
    """Build and publish the agenda when the event has no published meeting yet."""
    from clockevents.agenda import runs
    from clockevents.agenda.publish import publish_run

    async with factory() as db:
        published = await db.scalar(
            select(func.count())
            .select_from(Meeting)
            .where(Meeting.event_id == event.id, Meeting.published_at.is_not(None))
        )
    if published:
        return
    run = await runs.start_run(factory, event, None, time_limit, None, check_access=False, spawn=False)
    await runs.execute_run(factory, run.id)
    async with factory() as db:
        done = await db.get(ScheduleRun, run.id)
        if done is None or done.status != "done":
            raise DomainError(f"building the demo agenda ended {done.status if done else 'missing'}")
        await publish_run(db, run.id, None, check_access=False)
        await db.commit()


async def shift_to_now(db: AsyncSession, event: Event, now: datetime | None = None) -> LiveDemo:
    """Move the event's slots so its busiest one started ``STARTED_AGO`` before ``now``."""
    now = (now or utcnow()).replace(second=0, microsecond=0)
    event_id, zone = event.id, ZoneInfo(event.timezone)
    # The busiest slot becomes the current one, so that as many rooms as possible are live.
    busiest = (
        select(Slot)
        .outerjoin(Meeting, (Meeting.slot_id == Slot.id) & (Meeting.status == "scheduled"))
        .where(Slot.event_id == event_id)
        .group_by(Slot.id)
        .order_by(func.count(Meeting.id).desc(), Slot.starts_at)
        .limit(1)
    )
    first = await db.scalar(busiest)
    if first is None:
        raise NotFound("The demo event has no slots.")
    delta = (now - STARTED_AGO) - first.starts_at
    first_id = first.id
    for slot in (await db.scalars(select(Slot).where(Slot.event_id == event_id))).all():
        slot.starts_at, slot.ends_at = slot.starts_at + delta, slot.ends_at + delta
    await db.flush()
    for meeting in (
        await db.scalars(select(Meeting).where(Meeting.event_id == event_id, Meeting.slot_id.is_not(None)))
    ).all():
        meeting.sequence += 1  # the time changed: calendars must take the new one
    # Sessions and the event's dates follow their slots (in the event's zone).
    for session in (await db.scalars(select(EventSession).where(EventSession.event_id == event_id))).all():
        bounds = (
            await db.execute(
                select(func.min(Slot.starts_at), func.max(Slot.ends_at)).where(Slot.session_id == session.id)
            )
        ).one()
        if bounds[0] is None:
            continue
        start, end = (_aware(v).astimezone(zone) for v in bounds)
        session.day, session.starts_at, session.ends_at = start.date(), start.time(), end.time()
    days = (
        await db.execute(
            select(func.min(EventSession.day), func.max(EventSession.day)).where(
                EventSession.event_id == event_id
            )
        )
    ).one()
    event = await db.get(Event, event_id)  # type: ignore[assignment]
    assert event is not None
    if days[0] is not None:
        event.starts_on, event.ends_on = days[0], days[1]
    if event.status in ("draft",):
        event.status = "open"
    await db.flush()
    slot = await db.get(Slot, first_id)
    assert slot is not None
    meeting = await db.scalar(
        select(Meeting)
        .where(Meeting.slot_id == slot.id, Meeting.status == "scheduled", Meeting.published_at.is_not(None))
        .order_by(Meeting.id)
        .limit(1)
    )
    count = await db.scalar(
        select(func.count())
        .select_from(Meeting)
        .where(Meeting.slot_id == slot.id, Meeting.status == "scheduled", Meeting.published_at.is_not(None))
    )
    pair = None
    if meeting is not None:
        emails = dict(
            (
                await db.execute(
                    select(Participant.id, User.email)
                    .join(User, User.id == Participant.user_id)
                    .where(Participant.id.in_([meeting.a_id, meeting.b_id]))
                )
            ).all()
        )
        pair = (emails.get(meeting.a_id, "?"), emails.get(meeting.b_id, "?"))
    return LiveDemo(
        event.slug,
        _aware(slot.starts_at),
        _aware(slot.ends_at),
        count or 0,
        pair,
        meeting.id if meeting else None,
    )


def _aware(value: datetime) -> datetime:
    from datetime import UTC

    return value if value.tzinfo else value.replace(tzinfo=UTC)


async def make_live(
    factory: async_sessionmaker[AsyncSession], slug: str, now: datetime | None = None
) -> LiveDemo:
    async with factory() as db:
        event = await db.scalar(select(Event).where(Event.slug == slug))
        if event is None:
            raise NotFound(f"no event {slug}: run `clockevents demo` first")
    await ensure_published(factory, event)
    async with factory() as db:
        event = await db.get(Event, event.id)
        assert event is not None
        live = await shift_to_now(db, event, now)
        await db.commit()
    return live
