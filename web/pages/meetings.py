"""Organiser pages for published meetings: the grid, a participant's agenda, the table plan,
the CSV export, and one meeting's move / cancel forms."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.response import Redirect, Template
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from clockevents.accounts.models import User
from clockevents.agenda.changes import MeetingContext, cancel_meeting, load_meeting, move_meeting
from clockevents.agenda.meetings import MeetingView, list_meetings
from clockevents.agenda.views import by_day, export_csv, meeting_grid, participant_agenda
from clockevents.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from clockevents.events.models import Event, Slot
from clockevents.events.permissions import access_for
from clockevents.events.services import get_visible_event
from web.auth import requires_login
from web.forms import read_form, text
from web.templating import local_time


@get("/events/{slug:str}/admin/meetings", guards=[requires_login], include_in_schema=False)
async def grid(slug: str, db: AsyncSession, user: User) -> Template:
    """Every live meeting by slot and table (cluster partners: their cluster's)."""
    event = await get_visible_event(db, slug, user)
    access, layout = await meeting_grid(db, event, user)
    return Template(
        "agenda/grid.html",
        context={"event": event, "access": access, "tab": "meetings", "grid": layout},
    )


@get("/events/{slug:str}/admin/table-plan", guards=[requires_login], include_in_schema=False)
async def table_plan(slug: str, db: AsyncSession, user: User) -> Template:
    """A printable plan: per slot, each table and the two people sitting at it."""
    event = await get_visible_event(db, slug, user)
    access, layout = await meeting_grid(db, event, user)
    return Template(
        "agenda/table_plan.html",
        context={"event": event, "access": access, "tab": "meetings", "plan": layout.plan()},
    )


@get("/events/{slug:str}/admin/meetings.csv", guards=[requires_login], include_in_schema=False)
async def meetings_csv(slug: str, db: AsyncSession, user: User) -> Response[str]:
    event = await get_visible_event(db, slug, user)
    return Response(
        await export_csv(db, event, user),
        media_type="text/csv",
        headers={"content-disposition": f'attachment; filename="{event.slug}-meetings.csv"'},
    )


@get(
    "/events/{slug:str}/admin/participants/{participant_id:int}/agenda",
    guards=[requires_login],
    include_in_schema=False,
)
async def participant_page(slug: str, participant_id: int, db: AsyncSession, user: User) -> Template:
    """Any participant's agenda as the organisers see it, with a change link per meeting."""
    event = await get_visible_event(db, slug, user)
    participant, person, meetings = await participant_agenda(db, event, user, participant_id)
    return Template(
        "agenda/participant.html",
        context={
            "event": event,
            "access": await access_for(db, event, user),
            "tab": "meetings",
            "participant": participant,
            "person": person,
            "days": by_day(meetings),
            "zone": participant.timezone or event.timezone,
            "browser_zone": False,
            "manage": True,
            "failed": None,
            "values": {},
            "errors": {},
        },
    )


async def _staff_meeting(db: AsyncSession, event: Event, meeting_id: int, user: User) -> MeetingContext:
    context = await load_meeting(db, meeting_id, user)
    if context.event.id != event.id:
        raise NotFound("No such meeting.")
    if not context.staff_covers:
        raise PermissionDenied("Only the organisers may change meetings here.")
    return context


async def _view_of(db: AsyncSession, event: Event, user: User, meeting_id: int) -> MeetingView | None:
    views = await list_meetings(db, event, user, statuses=("scheduled", "held", "cancelled"))
    return next((v for v in views if v.id == meeting_id), None)


async def _meeting_page(
    db: AsyncSession,
    event: Event,
    user: User,
    meeting_id: int,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Template:
    context = await _staff_meeting(db, event, meeting_id, user)
    view = await _view_of(db, event, user, meeting_id)
    slots = list(await db.scalars(select(Slot).where(Slot.event_id == event.id).order_by(Slot.index)))
    current = next((s.index for s in slots if s.id == context.meeting.slot_id), "")
    table = context.meeting.table
    return Template(
        "agenda/meeting.html",
        context={
            "event": event,
            "access": context.access,
            "tab": "meetings",
            "meeting": context.meeting,
            "view": view,
            "slots_options": [
                (s.index, f"{s.index}: {local_time(s.starts_at, event.timezone, '%a %d %b %H:%M')}")
                for s in slots
            ],
            "values": {"slot": str(current), "table": "" if table is None else str(table), **(values or {})},
            "errors": errors or {},
        },
        status_code=status,
    )


@get("/events/{slug:str}/admin/meetings/{meeting_id:int}", guards=[requires_login], include_in_schema=False)
async def meeting_page(slug: str, meeting_id: int, db: AsyncSession, user: User) -> Template:
    event = await get_visible_event(db, slug, user)
    return await _meeting_page(db, event, user, meeting_id)


@post(
    "/events/{slug:str}/admin/meetings/{meeting_id:int}/move",
    guards=[requires_login],
    include_in_schema=False,
)
async def move(
    slug: str, meeting_id: int, request: Request[Any, Any, Any], db: AsyncSession, user: User
) -> Response[Any]:
    """Move the meeting; every broken rule is shown next to its field."""
    event = await get_visible_event(db, slug, user)
    await _staff_meeting(db, event, meeting_id, user)
    form = await read_form(request)
    values = {"slot": text(form, "slot"), "table": text(form, "table")}
    try:
        await move_meeting(db, meeting_id, user, slot=values["slot"], table=values["table"])
    except (ValidationFailed, Conflict) as exc:
        # Nothing was written: the service checks before it writes, and a lost race is undone
        # by its savepoint (rolling back here would expire the event and user the page needs).
        errors = exc.fields or {"form": exc.message}
        page = await _meeting_page(
            db, event, user, meeting_id, values=values, errors=errors, status=exc.status
        )
        return page  # type: ignore[return-value]
    return Redirect(f"/events/{event.slug}/admin/meetings/{meeting_id}", status_code=303)


@post(
    "/events/{slug:str}/admin/meetings/{meeting_id:int}/cancel",
    guards=[requires_login],
    include_in_schema=False,
)
async def cancel(
    slug: str, meeting_id: int, request: Request[Any, Any, Any], db: AsyncSession, user: User
) -> Response[Any]:
    """Cancel the meeting for both participants (they are told, with the reason)."""
    event = await get_visible_event(db, slug, user)
    await _staff_meeting(db, event, meeting_id, user)
    form = await read_form(request)
    values = {"reason": text(form, "reason")}
    try:
        await cancel_meeting(db, meeting_id, user, values["reason"])
    except (ValidationFailed, Conflict) as exc:
        # Nothing was written: the service checks before it writes, and a lost race is undone
        # by its savepoint (rolling back here would expire the event and user the page needs).
        errors = exc.fields or {"form": exc.message}
        page = await _meeting_page(
            db, event, user, meeting_id, values=values, errors=errors, status=exc.status
        )
        return page  # type: ignore[return-value]
    return Redirect(f"/events/{event.slug}/admin/meetings/{meeting_id}", status_code=303)


routes = [grid, table_plan, meetings_csv, participant_page, meeting_page, move, cancel]
