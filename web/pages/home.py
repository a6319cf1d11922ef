"""The landing page: events open for registration or under way, then past ones."""

from __future__ import annotations

from litestar import get
from litestar.response import Template
from sqlalchemy.ext.asyncio import AsyncSession

from clockevents.accounts.models import User
from clockevents.events import services as events


@get("/", include_in_schema=False)
async def landing(db: AsyncSession, user: User | None) -> Template:
    public = await events.list_public_events(db)
    drafts: list[object] = []
    if user is not None:
        drafts = list((await events.list_events(db, user, status="draft", per_page=50))[0])
    return Template(
        "home.html",
        context={
            "events": [e for e in public if e.status in ("open", "live")],
            "past_events": [e for e in reversed(public) if e.status == "closed"],
            "drafts": drafts,
            "can_create": user is not None and user.is_admin,
        },
    )


routes = [landing]
