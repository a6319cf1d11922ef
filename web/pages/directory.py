"""The event directory pages: participants and opportunities, searchable and filtered, no JavaScript."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from litestar import Request, get
from litestar.response import Template
from sqlalchemy.ext.asyncio import AsyncSession

from clockevents.accounts.models import User
from clockevents.errors import ValidationFailed
from clockevents.events.models import Event
from clockevents.events.permissions import Access
from clockevents.events.services import get_event
from clockevents.registration import directory

FILTER_NAMES = ("q", "kind", "cluster", "country", "type", "status", "per_page")


def query_values(request: Request[Any, Any, Any], names: tuple[str, ...] = FILTER_NAMES) -> dict[str, str]:
    """The filters as typed in the query string (re-shown in the form and kept by the pager)."""
    return {name: (request.query_params.get(name) or "").strip() for name in names}


def pager_query(values: dict[str, str]) -> str:
    """The query string that keeps every filter when moving between pages."""
    return urlencode({k: v for k, v in values.items() if v})


def parse(event: Event, values: dict[str, str], page: str | None) -> directory.DirectoryFilters:
    return directory.parse_filters(
        event,
        q=values.get("q"),
        kind=values.get("kind"),
        cluster=values.get("cluster"),
        country=values.get("country"),
        participant_type=values.get("type"),
        status=values.get("status"),
        page=page,
        per_page=values.get("per_page"),
    )


async def _render(
    slug: str, request: Request[Any, Any, Any], db: AsyncSession, user: User | None, tab: str
) -> Template:
    event = await get_event(db, slug)
    # Who may look is settled before the filters, so an outsider never learns about them.
    access: Access = await directory.directory_access(db, event, user)
    values = query_values(request)
    if not access.is_staff:
        values["status"] = ""
    context: dict[str, Any] = {
        "event": event,
        "tab": tab,
        "values": values,
        "errors": {},
        "result": None,
        "is_staff": access.is_staff,
        "choices": await directory.filter_choices(db, event, access),
        "base_query": pager_query(values),
    }
    try:
        filters = parse(event, values, request.query_params.get("page"))
        if tab == "opportunities":
            context["result"] = await directory.search_opportunities(db, event, user, filters)
        else:
            context["result"] = await directory.search_participants(db, event, user, filters)
    except ValidationFailed as exc:
        context["errors"] = exc.fields
        return Template("directory/directory.html", context=context, status_code=400)
    return Template("directory/directory.html", context=context)


@get("/events/{slug:str}/directory", include_in_schema=False)
async def participants_page(
    slug: str, request: Request[Any, Any, Any], db: AsyncSession, user: User | None
) -> Template:
    """Who takes part: cards with organisation, cluster, country, type, pitch and opportunities."""
    return await _render(slug, request, db, user, "participants")


@get("/events/{slug:str}/directory/opportunities", include_in_schema=False)
async def opportunities_page(
    slug: str, request: Request[Any, Any, Any], db: AsyncSession, user: User | None
) -> Template:
    """What is on offer and sought, with who offers or seeks it."""
    return await _render(slug, request, db, user, "opportunities")


routes = [participants_page, opportunities_page]
