"""The landing page: open events."""

from __future__ import annotations

from litestar import get
from litestar.response import Template
from sqlalchemy.ext.asyncio import AsyncSession

from clockevents.events import services as events


@get("/", include_in_schema=False)
async def landing(db: AsyncSession) -> Template:
    return Template("home.html", context={"events": await events.list_public_events(db)})


routes = [landing]
