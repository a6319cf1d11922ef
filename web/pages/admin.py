"""The organiser's event admin: create an event, overview, settings, slot grid, clusters, roles.

The participants tab (``/events/{slug}/admin/participants``) lives in ``admin_participants.py``.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from litestar import Request, Response, get, post
from litestar.datastructures import FormMultiDict
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from clockevents.accounts.models import User
from clockevents.errors import DomainError
from clockevents.events import grid, services, team
from clockevents.events.models import EVENT_STATUSES, ROLES, Event
from clockevents.events.permissions import Access, require_organiser, require_staff
from clockevents.events.validation import FORMATS, NEXT_STATUS
from web.auth import requires_admin, requires_login
from web.forms import many, read_form, text

BLANK_GRID_ROWS = 4
FORMAT_LABELS = {"virtual": "Virtual", "in_person": "In person", "hybrid": "Hybrid"}
ROLE_LABELS = {"owner": "Owner", "organiser": "Organiser", "cluster_partner": "Cluster partner"}
TEXT_FIELDS = (
    "slug",
    "title",
    "description",
    "timezone",
    "starts_on",
    "ends_on",
    "registration_opens_at",
    "registration_closes_at",
    "status",
    "meeting_minutes",
    "gap_minutes",
    "tables",
    "format",
    "opportunity_kinds",
)


def _form_values(form: FormMultiDict) -> dict[str, Any]:
    """What the settings form posted, as typed (re-shown on error and given to the service)."""
    values: dict[str, Any] = {name: text(form, name) for name in TEXT_FIELDS if name in form}
    values["requires_approval"] = "on" if form.get("requires_approval") else ""
    values["participant_types"] = many(form, "participant_types")
    return values


def _event_values(event: Event) -> dict[str, Any]:
    """The event's fields as the settings form shows them (times in the event's zone)."""
    zone = ZoneInfo(event.timezone)

    def local(value: Any) -> str:
        return value.astimezone(zone).strftime("%Y-%m-%dT%H:%M") if value else ""

    return {
        "slug": event.slug,
        "title": event.title,
        "description": event.description,
        "timezone": event.timezone,
        "starts_on": event.starts_on.isoformat(),
        "ends_on": event.ends_on.isoformat(),
        "registration_opens_at": local(event.registration_opens_at),
        "registration_closes_at": local(event.registration_closes_at),
        "status": event.status,
        "meeting_minutes": str(event.meeting_minutes),
        "gap_minutes": str(event.gap_minutes),
        "tables": str(event.tables),
        "format": event.format,
        "requires_approval": "on" if event.requires_approval else "",
        "participant_types": list(event.participant_types),
        "opportunity_kinds": ", ".join(event.opportunity_kinds),
    }


def _choices(event: Event | None) -> dict[str, Any]:
    statuses = [event.status, NEXT_STATUS[event.status]] if event and event.status in NEXT_STATUS else []
    return {
        "format_options": [(f, FORMAT_LABELS[f]) for f in FORMATS],
        "status_options": [(s, s.capitalize()) for s in EVENT_STATUSES if s in statuses],
    }


async def _staff(db: AsyncSession, slug: str, user: User | None) -> tuple[Event, Access]:
    event = await services.get_visible_event(db, slug, user)
    return event, await require_staff(db, event, user)


async def _organiser(db: AsyncSession, slug: str, user: User | None) -> tuple[Event, Access]:
    event = await services.get_visible_event(db, slug, user)
    return event, await require_organiser(db, event, user)


def _page(name: str, event: Event, access: Access, tab: str, status: int = 200, **context: Any) -> Template:
    return Template(
        f"admin/{name}.html",
        context={"event": event, "access": access, "tab": tab, **context},
        status_code=status,
    )


def _errors(exc: DomainError) -> dict[str, str]:
    return exc.fields or {"form": exc.message}


@get("/admin/events/new", guards=[requires_admin], include_in_schema=False)
async def new_event_form() -> Template:
    return Template(
        "admin/event_new.html",
        context={
            "values": {"timezone": "Europe/Rome", **_event_values_defaults()},
            "errors": {},
            **_choices(None),
        },
    )


def _event_values_defaults() -> dict[str, Any]:
    return {
        "meeting_minutes": "20",
        "gap_minutes": "5",
        "tables": "20",
        "format": "virtual",
        "participant_types": ["business", "research", "finance", "public_body", "other"],
        "opportunity_kinds": "offer, request, partnership, investment",
    }


@post("/admin/events/new", guards=[requires_admin], include_in_schema=False)
async def create_event(request: Request[Any, Any, Any], db: AsyncSession, user: User) -> Response[Any]:
    values = _form_values(await read_form(request))
    values.pop("status", None)
    try:
        event = await services.create_event(db, user, values)
    except DomainError as exc:
        return Template(
            "admin/event_new.html",
            context={"values": values, "errors": _errors(exc), **_choices(None)},
            status_code=exc.status,
        )  # type: ignore[return-value]
    return Redirect(f"/events/{event.slug}/admin")


@get("/events/{slug:str}/admin", guards=[requires_login], include_in_schema=False)
async def overview(slug: str, db: AsyncSession, user: User) -> Template:
    event, access = await _staff(db, slug, user)
    counts = await services.overview(db, event)
    clusters = await team.list_clusters(db, event)
    return _page(
        "overview",
        event,
        access,
        "overview",
        counts=counts,
        clusters=clusters,
        registration=services.registration_state(event),
    )


@get("/events/{slug:str}/admin/settings", guards=[requires_login], include_in_schema=False)
async def settings_form(slug: str, db: AsyncSession, user: User) -> Template:
    event, access = await _organiser(db, slug, user)
    return _page(
        "settings", event, access, "settings", values=_event_values(event), errors={}, **_choices(event)
    )


@post("/events/{slug:str}/admin/settings", guards=[requires_login], include_in_schema=False)
async def save_settings(
    slug: str, request: Request[Any, Any, Any], db: AsyncSession, user: User
) -> Response[Any]:
    event, access = await _organiser(db, slug, user)
    values = _form_values(await read_form(request))
    try:
        await services.update_event(db, event, user, values)
    except DomainError as exc:
        await db.refresh(event)
        return _page(
            "settings",
            event,
            access,
            "settings",
            exc.status,
            values=values,
            errors=_errors(exc),
            **_choices(event),
        )  # type: ignore[return-value]
    return Redirect(f"/events/{event.slug}/admin/settings?saved=1")


def _day_options(event: Event) -> list[tuple[str, str]]:
    days = (event.ends_on - event.starts_on).days + 1
    return [
        (
            (event.starts_on + timedelta(days=d)).isoformat(),
            (event.starts_on + timedelta(days=d)).strftime("%a %d %b %Y"),
        )
        for d in range(days)
    ]


async def _grid_page(
    db: AsyncSession,
    event: Event,
    access: Access,
    rows: list[dict[str, str]] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
    saved: bool = False,
) -> Template:
    sessions, slots = await grid.get_grid(db, event)
    if rows is None:
        rows = [grid.grid_row(s) for s in sessions]
        rows += [{"day": "", "name": "", "starts_at": "", "ends_at": ""} for _ in range(BLANK_GRID_ROWS)]
    by_session: dict[int, list[Any]] = {}
    for slot in slots:
        by_session.setdefault(slot.session_id, []).append(slot)
    return _page(
        "grid",
        event,
        access,
        "grid",
        status,
        rows=rows,
        errors=errors or {},
        sessions=sessions,
        slots_by_session=by_session,
        slot_count=len(slots),
        day_options=_day_options(event),
        frozen=event.status in grid.FROZEN_STATUSES,
        saved=saved,
    )


@get("/events/{slug:str}/admin/grid", guards=[requires_login], include_in_schema=False)
async def grid_form(slug: str, request: Request[Any, Any, Any], db: AsyncSession, user: User) -> Template:
    event, access = await _organiser(db, slug, user)
    return await _grid_page(db, event, access, saved=request.query_params.get("saved") == "1")


@post("/events/{slug:str}/admin/grid", guards=[requires_login], include_in_schema=False)
async def save_grid(
    slug: str, request: Request[Any, Any, Any], db: AsyncSession, user: User
) -> Response[Any]:
    event, access = await _organiser(db, slug, user)
    form = await read_form(request)
    columns = {name: [str(v).strip() for v in form.getall(name, [])] for name in grid.GRID_FIELDS}
    count = max((len(v) for v in columns.values()), default=0)
    rows = [
        {name: (columns[name][i] if i < len(columns[name]) else "") for name in grid.GRID_FIELDS}
        for i in range(count)
    ]
    try:
        await grid.save_grid(db, event, user, rows)
    except DomainError as exc:
        return await _grid_page(db, event, access, rows, _errors(exc), exc.status)  # type: ignore[return-value]
    return Redirect(f"/events/{event.slug}/admin/grid?saved=1")


async def _clusters_page(
    db: AsyncSession,
    event: Event,
    access: Access,
    errors: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
    status: int = 200,
) -> Template:
    clusters = await team.list_clusters(db, event)
    return _page(
        "clusters",
        event,
        access,
        "clusters",
        status,
        clusters=clusters,
        errors=errors or {},
        values=values or {},
    )


@get("/events/{slug:str}/admin/clusters", guards=[requires_login], include_in_schema=False)
async def clusters_page(slug: str, db: AsyncSession, user: User) -> Template:
    event, access = await _organiser(db, slug, user)
    return await _clusters_page(db, event, access)


@post("/events/{slug:str}/admin/clusters", guards=[requires_login], include_in_schema=False)
async def add_cluster(
    slug: str, request: Request[Any, Any, Any], db: AsyncSession, user: User
) -> Response[Any]:
    event, access = await _organiser(db, slug, user)
    form = await read_form(request)
    values = {"name": text(form, "name"), "description": text(form, "description")}
    try:
        await team.add_cluster(db, event, user, values["name"], values["description"])
    except DomainError as exc:
        return await _clusters_page(db, event, access, _errors(exc), values, exc.status)  # type: ignore[return-value]
    return Redirect(f"/events/{event.slug}/admin/clusters")


@post("/events/{slug:str}/admin/clusters/{cluster_id:int}", guards=[requires_login], include_in_schema=False)
async def rename_cluster(
    slug: str, cluster_id: int, request: Request[Any, Any, Any], db: AsyncSession, user: User
) -> Response[Any]:
    event, access = await _organiser(db, slug, user)
    form = await read_form(request)
    try:
        await team.update_cluster(db, event, user, cluster_id, text(form, "name"), text(form, "description"))
    except DomainError as exc:
        message = "; ".join(exc.fields.values()) or exc.message
        return await _clusters_page(
            db, event, access, {"form": f"Could not rename: {message}"}, status=exc.status
        )  # type: ignore[return-value]
    return Redirect(f"/events/{event.slug}/admin/clusters")


@post(
    "/events/{slug:str}/admin/clusters/{cluster_id:int}/delete",
    guards=[requires_login],
    include_in_schema=False,
)
async def remove_cluster(slug: str, cluster_id: int, db: AsyncSession, user: User) -> Response[Any]:
    event, access = await _organiser(db, slug, user)
    try:
        await team.remove_cluster(db, event, user, cluster_id)
    except DomainError as exc:
        return await _clusters_page(db, event, access, {"form": exc.message}, status=exc.status)  # type: ignore[return-value]
    return Redirect(f"/events/{event.slug}/admin/clusters")


async def _roles_page(
    db: AsyncSession,
    event: Event,
    access: Access,
    user: User,
    errors: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
    status: int = 200,
) -> Template:
    roles = await team.list_roles(db, event, user)
    clusters = await team.list_clusters(db, event)
    return _page(
        "roles",
        event,
        access,
        "roles",
        status,
        roles=roles,
        errors=errors or {},
        values=values or {"role": "organiser"},
        role_options=[(r, ROLE_LABELS[r]) for r in ROLES],
        role_labels=ROLE_LABELS,
        cluster_options=[(str(c.id), c.name) for c in clusters],
    )


@get("/events/{slug:str}/admin/roles", guards=[requires_login], include_in_schema=False)
async def roles_page(slug: str, db: AsyncSession, user: User) -> Template:
    event, access = await _organiser(db, slug, user)
    return await _roles_page(db, event, access, user)


@post("/events/{slug:str}/admin/roles", guards=[requires_login], include_in_schema=False)
async def add_role(slug: str, request: Request[Any, Any, Any], db: AsyncSession, user: User) -> Response[Any]:
    event, access = await _organiser(db, slug, user)
    form = await read_form(request)
    values = {
        "email": text(form, "email"),
        "role": text(form, "role"),
        "cluster_id": text(form, "cluster_id"),
    }
    try:
        await team.add_role(
            db,
            event,
            user,
            email=values["email"],
            role=values["role"],
            cluster_id=values["cluster_id"] or None,
        )
    except DomainError as exc:
        return await _roles_page(db, event, access, user, _errors(exc), values, exc.status)  # type: ignore[return-value]
    return Redirect(f"/events/{event.slug}/admin/roles")


@post("/events/{slug:str}/admin/roles/{role_id:int}/delete", guards=[requires_login], include_in_schema=False)
async def remove_role(slug: str, role_id: int, db: AsyncSession, user: User) -> Response[Any]:
    event, access = await _organiser(db, slug, user)
    try:
        await team.remove_role(db, event, user, role_id)
    except DomainError as exc:
        return await _roles_page(db, event, access, user, {"form": exc.message}, status=exc.status)  # type: ignore[return-value]
    return Redirect(f"/events/{event.slug}/admin/roles")


routes = [
    new_event_form,
    create_event,
    overview,
    settings_form,
    save_settings,
    grid_form,
    save_grid,
    clusters_page,
    add_cluster,
    rename_cluster,
    remove_cluster,
    roles_page,
    add_role,
    remove_role,
]
