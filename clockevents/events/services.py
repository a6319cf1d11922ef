"""Events: lookup and listing. (Creation, editing, the slot grid and roles are added here too.)"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from clockevents.errors import NotFound
from clockevents.events.models import Event


async def get_event(db: AsyncSession, slug: str) -> Event:
    """Return the event with ``slug`` or raise NotFound."""
    event = await db.scalar(select(Event).where(Event.slug == slug))
    if event is None:
        raise NotFound(f"No event '{slug}'.")
    return event


async def list_public_events(db: AsyncSession) -> list[Event]:
    """Events that are open, live or closed (drafts stay with their organisers)."""
    result = await db.scalars(
        select(Event).where(Event.status.in_(("open", "live", "closed"))).order_by(Event.starts_on, Event.id)
    )
    return list(result)
