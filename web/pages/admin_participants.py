"""The organisers' participants tab: review, approve or reject, CSV export and import.

Cluster partners see and manage their own cluster only; the services enforce it.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from clockevents.accounts.models import User
from clockevents.errors import DomainError, NotFound, ValidationFailed
from clockevents.events.permissions import require_staff
from clockevents.events.services import get_event
from clockevents.registration import csvio, directory
from clockevents.registration.directory import MAX_NUMBER
from clockevents.registration.services import get_participant, set_status
from web.api.directory import csv_response
from web.forms import read_form, safe_next, text
from web.pages.directory import pager_query, parse, query_values

ADMIN_FILTERS = ("q", "cluster", "status")
ADMIN_PER_PAGE = "50"
ACTIONS = {"approved": "Approve", "rejected": "Reject", "pending": "Reset to pending"}


def _admin_url(slug: str) -> str:
    return f"/events/{slug}/admin/participants"


@get("/events/{slug:str}/admin/participants", include_in_schema=False)
async def participants_admin(
    slug: str, request: Request[Any, Any, Any], db: AsyncSession, user: User | None
) -> Template:
    """The table of participants the caller manages, filtered by status, cluster and words."""
    event = await get_event(db, slug)
    access = await require_staff(db, event, user)
    values = query_values(request, ADMIN_FILTERS)
    clusters = await directory.event_clusters(db, event)
    if not access.is_organiser:
        clusters = [c for c in clusters if c.id == access.cluster_id]
    context: dict[str, Any] = {
        "event": event,
        "access": access,
        "tab": "participants",
        "values": values,
        "errors": {},
        "result": None,
        "cluster_choices": [(str(c.id), c.name) for c in clusters],
        "status_choices": [(s, s.capitalize()) for s in ("pending", "approved", "rejected")],
        "base_query": pager_query(values),
        "here": request.url.path + (f"?{request.url.query}" if request.url.query else ""),
        "actions": ACTIONS,
    }
    try:
        filters = parse(event, {**values, "per_page": ADMIN_PER_PAGE}, request.query_params.get("page"))
        context["result"] = await directory.search_participants(db, event, user, filters, manage=True)
    except ValidationFailed as exc:
        context["errors"] = exc.fields
        return Template("admin/participants.html", context=context, status_code=400)
    return Template("admin/participants.html", context=context)


@post("/events/{slug:str}/admin/participants/{participant_id:int}/status", include_in_schema=False)
async def change_status(
    slug: str, participant_id: int, request: Request[Any, Any, Any], db: AsyncSession, user: User | None
) -> Redirect:
    """Approve, reject or reset one registration, then go back to the filtered table."""
    event = await get_event(db, slug)
    form = await read_form(request)
    if participant_id > MAX_NUMBER:  # no such row, and PostgreSQL would reject the number
        raise NotFound("No such participant in this event.")
    participant = await get_participant(db, event, participant_id)
    await set_status(db, user, participant, text(form, "status"))
    return Redirect(safe_next(text(form, "next"), _admin_url(event.slug)))


@get("/events/{slug:str}/admin/participants.csv", include_in_schema=False)
async def export_page(slug: str, db: AsyncSession, user: User | None) -> Response[str]:
    """Download the managed participants as CSV."""
    event = await get_event(db, slug)
    return csv_response(event.slug, await csvio.export_participants(db, event, user))


def _import_context(event: Any, access: Any) -> dict[str, Any]:
    return {
        "event": event,
        "access": access,
        "tab": "participants",
        "errors": {},
        "problems": [],
        "columns": csvio.COLUMNS,
        "required": csvio.REQUIRED_COLUMNS,
    }


@get("/events/{slug:str}/admin/participants/import", include_in_schema=False)
async def import_form(slug: str, db: AsyncSession, user: User | None) -> Template:
    """The upload form, with the columns the file needs."""
    event = await get_event(db, slug)
    access = await require_staff(db, event, user)
    return Template("admin/participants_import.html", context=_import_context(event, access))


@post("/events/{slug:str}/admin/participants/import", include_in_schema=False)
async def import_upload(
    slug: str, request: Request[Any, Any, Any], db: AsyncSession, user: User | None
) -> Response[Any]:
    """Import the uploaded CSV; on any problem re-show the form with one line per problem."""
    event = await get_event(db, slug)
    access = await require_staff(db, event, user)
    form = await read_form(request)
    upload = form.get("file")
    context = _import_context(event, access)
    try:
        if not isinstance(upload, UploadFile) or not upload.filename:
            raise ValidationFailed({"file": "Choose a CSV file to upload."})
        result = await csvio.import_participants(db, event, user, await upload.read())
    except DomainError as exc:
        # The service undid its own writes; roll back anyway so this 400 commits nothing.
        await db.rollback()
        context["event"] = await get_event(db, slug)  # the rollback expired the loaded row
        context["errors"] = {"file": exc.fields["file"]} if "file" in exc.fields else {}
        context["problems"] = [f"{k}: {v}" for k, v in exc.fields.items() if k != "file"]
        context["message"] = exc.message
        return Template("admin/participants_import.html", context=context, status_code=exc.status)
    context["imported"] = len(result.participants)
    context["accounts_created"] = result.accounts_created
    return Template("admin/participants_import.html", context=context)


routes = [participants_admin, change_status, export_page, import_form, import_upload]
