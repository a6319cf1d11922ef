"""Calendar pages: subscribe to your agenda, download it, and the secret feed itself."""

from __future__ import annotations

from typing import Any

from litestar import Response, get, post
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from clockevents.accounts.models import User
from clockevents.agenda import feeds
from clockevents.errors import NotFound
from clockevents.events.services import get_visible_event
from clockevents.settings import Settings
from web.api.calendar import ics_response
from web.auth import requires_login


@get("/calendar/{filename:str}", include_in_schema=False)
async def feed(filename: str, db: AsyncSession, settings: Settings) -> Response[bytes]:
    """Serve a secret feed; anything that is not a live token's .ics is the same 404."""
    token = filename.removesuffix(".ics")
    if token == filename:
        raise NotFound(feeds.FEED_NOT_FOUND)
    return ics_response(await feeds.feed_by_token(db, token, base_url=settings.base_url))


@get("/events/{slug:str}/calendar", guards=[requires_login], include_in_schema=False)
async def calendar_page(
    slug: str, db: AsyncSession, user: User, settings: Settings, rotated: bool = False
) -> Template:
    """Show the secret feed addresses with how to subscribe in each calendar app."""
    event = await get_visible_event(db, slug, user)
    links = await feeds.links_for(db, event, user, base_url=settings.base_url)
    return Template("calendar/subscribe.html", context={"event": event, "links": links, "rotated": rotated})


@post("/events/{slug:str}/calendar/rotate", guards=[requires_login], include_in_schema=False)
async def rotate_page(slug: str, db: AsyncSession, user: User, settings: Settings) -> Redirect:
    """Replace the secret address, then show the page again (a reload must not rotate twice)."""
    event = await get_visible_event(db, slug, user)
    await feeds.rotate(db, event, user, base_url=settings.base_url)
    return Redirect(f"/events/{event.slug}/calendar?rotated=1")


@get("/events/{slug:str}/agenda.ics", guards=[requires_login], include_in_schema=False)
async def agenda_download(slug: str, db: AsyncSession, user: User, settings: Settings) -> Response[Any]:
    """Download the caller's published meetings once (no subscription)."""
    event = await get_visible_event(db, slug, user)
    body = await feeds.agenda_ics(db, event, user, base_url=settings.base_url)
    return ics_response(body, f"{event.slug}-agenda.ics")


routes = [feed, calendar_page, rotate_page, agenda_download]
