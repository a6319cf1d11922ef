"""Real events for tests, with clusters and a slot grid.

Written against the models directly so every area's tests can start at once; the events
service owns validation, and this factory only builds what the service would.
"""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from clockevents.accounts.models import User
from clockevents.events.models import Cluster, Event, EventRole, EventSession, Slot

DEMO_CLUSTERS = (
    "Advanced Materials",
    "ICT & Railway",
    "Nautical",
    "Stone",
    "Fashion",
    "Interiors & Design",
    "Smart City",
)
_counter = itertools.count(1)


async def make_event(
    db: AsyncSession,
    owner: User,
    *,
    slug: str | None = None,
    status: str = "open",
    clusters: tuple[str, ...] = DEMO_CLUSTERS[:3],
    starts_on: date | None = None,
    days: int = 1,
    timezone: str = "Europe/Rome",
    requires_approval: bool = False,
    meeting_minutes: int = 20,
    gap_minutes: int = 5,
    session_times: tuple[tuple[time, time], ...] = ((time(9, 0), time(12, 0)), (time(14, 0), time(16, 0))),
) -> Event:
    n = next(_counter)
    starts_on = starts_on or (datetime.now(UTC).date() + timedelta(days=21))
    event = Event(
        slug=slug or f"event-{n}",
        title=f"Matchmaking day {n}",
        description="A cross-cluster matchmaking day.",
        timezone=timezone,
        starts_on=starts_on,
        ends_on=starts_on + timedelta(days=days - 1),
        status=status,
        meeting_minutes=meeting_minutes,
        gap_minutes=gap_minutes,
        requires_approval=requires_approval,
        created_by_id=owner.id,
    )
    db.add(event)
    await db.flush()
    for i, name in enumerate(clusters):
        db.add(Cluster(event_id=event.id, name=name, position=i))
    db.add(EventRole(event_id=event.id, user_id=owner.id, role="owner"))
    zone = ZoneInfo(timezone)
    index = 0
    for d in range(days):
        day = starts_on + timedelta(days=d)
        for start, end in session_times:
            session = EventSession(
                event_id=event.id, day=day, name=f"{start:%H:%M}", starts_at=start, ends_at=end
            )
            db.add(session)
            await db.flush()
            t = datetime.combine(day, start, tzinfo=zone)
            stop = datetime.combine(day, end, tzinfo=zone)
            while t + timedelta(minutes=meeting_minutes) <= stop:
                db.add(
                    Slot(
                        event_id=event.id,
                        session_id=session.id,
                        index=index,
                        starts_at=t.astimezone(UTC),
                        ends_at=(t + timedelta(minutes=meeting_minutes)).astimezone(UTC),
                    )
                )
                index += 1
                t += timedelta(minutes=meeting_minutes + gap_minutes)
    await db.commit()
    await db.refresh(event, attribute_names=["clusters"])
    return event


async def add_role(
    db: AsyncSession, event: Event, user: User, role: str, cluster: Cluster | None = None
) -> EventRole:
    row = EventRole(event_id=event.id, user_id=user.id, role=role, cluster_id=cluster.id if cluster else None)
    db.add(row)
    await db.commit()
    return row
