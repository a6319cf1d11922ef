"""Calendar API: the caller's agenda as .ics and their secret feed addresses."""

from __future__ import annotations

import msgspec
from litestar import Response, get, post
from litestar.status_codes import HTTP_201_CREATED
from sqlalchemy.ext.asyncio import AsyncSession

from clockevents.accounts.models import User
from clockevents.agenda import feeds
from clockevents.events.services import get_visible_event
from clockevents.settings import Settings
from web.auth import requires_login

TAGS = ["calendar"]


class FeedLinksOut(msgspec.Struct):
    https: str
    webcal: str


def ics_response(body: bytes, filename: str | None = None) -> Response[bytes]:
    """Serve iCalendar bytes as text/calendar; charset=utf-8 (an attachment when named)."""
    headers = {"Cache-Control": "private, max-age=0, no-cache"}
    if filename:
        headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    # Litestar appends "; charset=utf-8" to text/* media types itself.
    return Response(content=body, media_type="text/calendar", headers=headers)


@get(
    "/events/{slug:str}/agenda.ics",
    operation_id="downloadAgendaIcs",
    tags=TAGS,
    guards=[requires_login],
    summary="The caller's published meetings as an iCalendar file",
)
async def download_agenda_ics(slug: str, db: AsyncSession, user: User, settings: Settings) -> Response[bytes]:
    event = await get_visible_event(db, slug, user)
    body = await feeds.agenda_ics(db, event, user, base_url=settings.base_url)
    return ics_response(body, f"{event.slug}-agenda.ics")


@get(
    "/events/{slug:str}/calendar-feed",
    operation_id="getCalendarFeed",
    tags=TAGS,
    guards=[requires_login],
    summary="The caller's secret calendar subscription addresses",
)
async def get_calendar_feed(slug: str, db: AsyncSession, user: User, settings: Settings) -> FeedLinksOut:
    event = await get_visible_event(db, slug, user)
    links = await feeds.links_for(db, event, user, base_url=settings.base_url)
    return FeedLinksOut(https=links.https, webcal=links.webcal)


@post(
    "/events/{slug:str}/calendar-feed",
    operation_id="rotateCalendarFeed",
    tags=TAGS,
    guards=[requires_login],
    status_code=HTTP_201_CREATED,
    summary="Replace the caller's secret calendar address; the old one stops working",
)
async def rotate_calendar_feed(slug: str, db: AsyncSession, user: User, settings: Settings) -> FeedLinksOut:
    event = await get_visible_event(db, slug, user)
    links = await feeds.rotate(db, event, user, base_url=settings.base_url)
    return FeedLinksOut(https=links.https, webcal=links.webcal)


routes = [download_agenda_ics, get_calendar_feed, rotate_calendar_feed]
