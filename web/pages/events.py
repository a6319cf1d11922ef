"""The public page of one event."""

from __future__ import annotations

from litestar import get
from litestar.response import Template
from sqlalchemy.ext.asyncio import AsyncSession

from clockevents.accounts.models import User
from clockevents.events import grid, services, team
from clockevents.events.permissions import access_for
from clockevents.registration.services import get_own_participant


@get("/events/{slug:str}", include_in_schema=False)
async def event_page(slug: str, db: AsyncSession, user: User | None) -> Template:
    event = await services.get_visible_event(db, slug, user)
    sessions, _ = await grid.get_grid(db, event)
    return Template(
        "events/event.html",
        context={
            "event": event,
            "clusters": await team.list_clusters(db, event),
            "sessions": sessions,
            "access": await access_for(db, event, user),
            "registration": services.registration_state(event),
            "participant": await get_own_participant(db, event, user) if user else None,
        },
    )


routes = [event_page]
