"""Agenda pages: the organiser's builder (start, watch, publish) and a participant's agenda (and cancel)."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.datastructures import State
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from clockevents.accounts.models import User
from clockevents.agenda import runs
from clockevents.agenda.changes import cancel_meeting, load_meeting
from clockevents.agenda.meetings import list_meetings, own_zone, participant_of
from clockevents.agenda.models import ScheduleRun
from clockevents.agenda.publish import compute_changes, publish_run
from clockevents.agenda.views import by_day, for_participant
from clockevents.errors import Conflict, DomainError, NotFound, PermissionDenied, ValidationFailed
from clockevents.events.models import Event
from clockevents.events.permissions import Access, access_for, require_organiser
from clockevents.events.services import get_visible_event
from web.auth import requires_login
from web.forms import read_form, text


async def _organiser(db: AsyncSession, slug: str, user: User | None) -> tuple[Event, Access]:
    event = await get_visible_event(db, slug, user)
    return event, await require_organiser(db, event, user)


async def _builder_page(
    db: AsyncSession,
    event: Event,
    access: Access,
    user: User,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Template:
    history = await runs.list_runs(db, event, user)
    published = await list_meetings(db, event, user, statuses=("scheduled",))
    return Template(
        "agenda/builder.html",
        context={
            "event": event,
            "access": access,
            "tab": "agenda",
            "runs": history,
            "published": [m for m in published if m.table is not None],
            "values": values or {"time_limit": "30"},
            "errors": errors or {},
            "active": runs.ACTIVE,
        },
        status_code=status,
    )


@get("/events/{slug:str}/admin/agenda", guards=[requires_login], include_in_schema=False)
async def builder(slug: str, db: AsyncSession, user: User) -> Template:
    event, access = await _organiser(db, slug, user)
    return await _builder_page(db, event, access, user)


def _free_ids(values: list[str]) -> list[int] | str:
    """Meeting ids ticked in the form (a tampered value is reported, not crashed on)."""
    try:
        return [int(v) for v in values]
    except ValueError:
        return "bad"


@post("/events/{slug:str}/admin/agenda", guards=[requires_login], include_in_schema=False)
async def start_build(
    slug: str, request: Request[Any, Any, Any], db: AsyncSession, user: User, state: State
) -> Response[Any]:
    event, access = await _organiser(db, slug, user)
    form = await read_form(request)
    ticked = [v for v in form.getall("free", []) if isinstance(v, str)]
    values = {
        "time_limit": text(form, "time_limit"),
        "break_spread": text(form, "break_spread"),
        "free": ticked,
    }
    try:
        run = await runs.start_run(
            state.session_factory,
            event,
            user,
            time_limit=values["time_limit"] or None,
            break_spread=values["break_spread"] or None,
            free=_free_ids(ticked),
        )
    except DomainError as exc:
        errors = exc.fields or {"form": exc.message}
        page = await _builder_page(db, event, access, user, values=values, errors=errors, status=exc.status)
        return page  # type: ignore[return-value]
    return Redirect(f"/events/{event.slug}/admin/agenda/runs/{run.id}", status_code=303)


async def _run_of(db: AsyncSession, event: Event, run_id: int, user: User) -> ScheduleRun:
    run, owner_event = await runs.get_run(db, run_id, user)
    if owner_event.id != event.id:
        raise NotFound("No such agenda build.")
    return run


async def _run_page(
    db: AsyncSession, event: Event, access: Access, run: ScheduleRun, error: str = "", status: int = 200
) -> Template:
    changes = await compute_changes(db, run, event) if run.status == "done" else {}
    return Template(
        "agenda/run.html",
        context={
            "event": event,
            "access": access,
            "tab": "agenda",
            "run": run,
            "progress": run.progress or {},
            "stats": run.statistics or {},
            "changes": changes,
            "active": run.status in runs.ACTIVE,
            "error": error,
            "notice": "",
        },
        status_code=status,
    )


@get("/events/{slug:str}/admin/agenda/runs/{run_id:int}", guards=[requires_login], include_in_schema=False)
async def run_page(slug: str, run_id: int, db: AsyncSession, user: User) -> Template:
    event, access = await _organiser(db, slug, user)
    return await _run_page(db, event, access, await _run_of(db, event, run_id, user))


@post(
    "/events/{slug:str}/admin/agenda/runs/{run_id:int}/publish",
    guards=[requires_login],
    include_in_schema=False,
)
async def publish(slug: str, run_id: int, db: AsyncSession, user: User) -> Response[Any]:
    event, access = await _organiser(db, slug, user)
    run = await _run_of(db, event, run_id, user)
    try:
        await publish_run(db, run.id, user)
    except DomainError as exc:
        # Publishing is all or nothing: drop whatever the failed attempt staged, then explain.
        await db.rollback()
        run = await _run_of(db, event, run_id, user)
        return await _run_page(db, event, access, run, error=exc.message, status=exc.status)  # type: ignore[return-value]
    return Redirect(f"/events/{event.slug}/admin/agenda/runs/{run.id}", status_code=303)


@post(
    "/events/{slug:str}/admin/agenda/runs/{run_id:int}/cancel",
    guards=[requires_login],
    include_in_schema=False,
)
async def cancel(slug: str, run_id: int, db: AsyncSession, user: User) -> Response[Any]:
    event, access = await _organiser(db, slug, user)
    run = await _run_of(db, event, run_id, user)
    try:
        await runs.cancel_run(db, run.id, user)
    except DomainError as exc:
        return await _run_page(db, event, access, run, error=exc.message, status=exc.status)  # type: ignore[return-value]
    return Redirect(f"/events/{event.slug}/admin/agenda/runs/{run.id}", status_code=303)


async def _my_agenda_page(
    db: AsyncSession,
    event: Event,
    user: User,
    *,
    failed: int | None = None,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Template:
    me = await participant_of(db, event, user)
    access = await access_for(db, event, user)
    if me is None and not access.is_staff:
        raise PermissionDenied("You are not registered for this event.")
    meetings = []
    if me is not None:
        listed = await list_meetings(db, event, user, statuses=("scheduled", "held", "cancelled"))
        meetings = for_participant(listed, me.id)
    zone = await own_zone(db, event, user)
    return Template(
        "agenda/mine.html",
        context={
            "event": event,
            "access": access,
            "participant": me,
            "days": by_day(meetings),
            "zone": zone,
            # No zone of their own (account unset, registration left at the event's): the
            # browser's zone is filled in by static/js/local-time.js.
            "browser_zone": zone == event.timezone and not user.timezone,
            "failed": failed,
            "values": values or {},
            "errors": errors or {},
        },
        status_code=status,
    )


@get("/events/{slug:str}/agenda", guards=[requires_login], include_in_schema=False)
async def my_agenda(slug: str, db: AsyncSession, user: User) -> Template:
    """A participant's meetings day by day, in the event's zone and their own."""
    event = await get_visible_event(db, slug, user)
    return await _my_agenda_page(db, event, user)


@post(
    "/events/{slug:str}/agenda/meetings/{meeting_id:int}/cancel",
    guards=[requires_login],
    include_in_schema=False,
)
async def cancel_my_meeting(
    slug: str, meeting_id: int, request: Request[Any, Any, Any], db: AsyncSession, user: User
) -> Response[Any]:
    """Cancel one of the caller's meetings from their agenda; the partner is told."""
    event = await get_visible_event(db, slug, user)
    context = await load_meeting(db, meeting_id, user)
    if context.event.id != event.id:
        raise NotFound("No such meeting.")
    form = await read_form(request)
    values = {"reason": text(form, "reason")}
    try:
        await cancel_meeting(db, meeting_id, user, values["reason"])
    except (ValidationFailed, Conflict) as exc:
        # Nothing was written: the service checks before it writes, and a lost race is undone
        # by its savepoint (rolling back here would expire the event and user the page needs).
        errors = exc.fields or {"form": exc.message}
        page = await _my_agenda_page(
            db, event, user, failed=meeting_id, values=values, errors=errors, status=exc.status
        )
        return page  # type: ignore[return-value]
    return Redirect(f"/events/{event.slug}/agenda", status_code=303)


routes = [builder, start_build, run_page, publish, cancel, my_agenda, cancel_my_meeting]
