"""Workshop pages: the organisers' admin page, the participants' list with register / withdraw,
and the workshop room."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.datastructures import FormMultiDict
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from clockevents.accounts.models import User
from clockevents.errors import DomainError, NotFound
from clockevents.events.models import Event
from clockevents.events.permissions import Access, access_for, require_organiser
from clockevents.events.services import get_visible_event
from clockevents.live import workshop_registration, workshop_room, workshops
from clockevents.matchmaking.parties import approved_parties
from web.auth import requires_login
from web.forms import many, read_form, text


def _values(form: FormMultiDict) -> dict[str, Any]:
    return {
        "title": text(form, "title"),
        "description": text(form, "description"),
        "presenter_id": text(form, "presenter_id"),
        "slots": many(form, "slots"),
        "capacity": text(form, "capacity"),
    }


def _errors(exc: DomainError) -> dict[str, str]:
    return exc.fields or {"form": exc.message}


async def _admin(db: AsyncSession, slug: str, user: User) -> tuple[Event, Access]:
    event = await get_visible_event(db, slug, user)
    return event, await require_organiser(db, event, user)


async def _form_choices(db: AsyncSession, event: Event) -> dict[str, Any]:
    return {
        "presenters": [(p.id, p.label) for p in await approved_parties(db, event)],
        "slots": await workshops.slot_choices(db, event),
    }


async def _admin_page(
    db: AsyncSession,
    event: Event,
    access: Access,
    user: User,
    values: dict[str, Any],
    errors: dict[str, str],
    status: int = 200,
) -> Template:
    return Template(
        "workshops/admin.html",
        context={
            "event": event,
            "access": access,
            "tab": "workshops",
            "workshops": await workshops.list_workshops(db, event, user),
            "values": values,
            "errors": errors,
            **await _form_choices(db, event),
        },
        status_code=status,
    )


@get("/events/{slug:str}/admin/workshops", guards=[requires_login], include_in_schema=False)
async def admin_page(slug: str, db: AsyncSession, user: User) -> Template:
    """The event's workshops with their attendance, and the form to add one."""
    event, access = await _admin(db, slug, user)
    return await _admin_page(db, event, access, user, {"slots": []}, {})


@post("/events/{slug:str}/admin/workshops", guards=[requires_login], include_in_schema=False)
async def create(slug: str, request: Request[Any, Any, Any], db: AsyncSession, user: User) -> Response[Any]:
    event, access = await _admin(db, slug, user)
    values = _values(await read_form(request))
    try:
        await workshops.create_workshop(db, event, user, values)
    except DomainError as exc:
        return await _admin_page(db, event, access, user, values, _errors(exc), exc.status)  # type: ignore[return-value]
    return Redirect(f"/events/{event.slug}/admin/workshops")


async def _edit_page(
    db: AsyncSession,
    event: Event,
    access: Access,
    workshop_id: int,
    values: dict[str, Any],
    errors: dict[str, str],
    status: int = 200,
) -> Template:
    return Template(
        "workshops/edit.html",
        context={
            "event": event,
            "access": access,
            "tab": "workshops",
            "workshop_id": workshop_id,
            "values": values,
            "errors": errors,
            **await _form_choices(db, event),
        },
        status_code=status,
    )


async def _owned(db: AsyncSession, slug: str, workshop_id: int, user: User) -> tuple[Event, Access, Any]:
    event, access = await _admin(db, slug, user)
    workshop = await workshops.get_workshop(db, workshop_id)
    if workshop.event_id != event.id:
        raise NotFound("No such workshop in this event.")
    return event, access, workshop


@get("/events/{slug:str}/admin/workshops/{workshop_id:int}", guards=[requires_login], include_in_schema=False)
async def edit_page(slug: str, workshop_id: int, db: AsyncSession, user: User) -> Template:
    event, access, workshop = await _owned(db, slug, workshop_id, user)
    view = await workshops.workshop_view(db, workshop, user)
    values = {
        "title": workshop.title,
        "description": workshop.description,
        "presenter_id": workshop.presenter_id or "",
        "slots": [str(s.index) for s in view.slots],
        "capacity": "" if workshop.capacity is None else workshop.capacity,
    }
    return await _edit_page(db, event, access, workshop.id, values, {})


@post(
    "/events/{slug:str}/admin/workshops/{workshop_id:int}", guards=[requires_login], include_in_schema=False
)
async def save(
    slug: str, workshop_id: int, request: Request[Any, Any, Any], db: AsyncSession, user: User
) -> Response[Any]:
    event, access, workshop = await _owned(db, slug, workshop_id, user)
    values = _values(await read_form(request))
    try:
        await workshops.update_workshop(db, workshop.id, user, values)
    except DomainError as exc:
        return await _edit_page(db, event, access, workshop_id, values, _errors(exc), exc.status)  # type: ignore[return-value]
    return Redirect(f"/events/{event.slug}/admin/workshops")


@post(
    "/events/{slug:str}/admin/workshops/{workshop_id:int}/delete",
    guards=[requires_login],
    include_in_schema=False,
)
async def remove(slug: str, workshop_id: int, db: AsyncSession, user: User) -> Redirect:
    event, _access, workshop = await _owned(db, slug, workshop_id, user)
    await workshops.delete_workshop(db, workshop.id, user)
    return Redirect(f"/events/{event.slug}/admin/workshops")


async def _list_page(
    db: AsyncSession, event: Event, user: User, error: str = "", status: int = 200
) -> Template:
    access = await access_for(db, event, user)
    return Template(
        "workshops/list.html",
        context={
            "event": event,
            "workshops": await workshops.list_workshops(db, event, user),
            "is_staff": access.is_staff,
            "error": error,
        },
        status_code=status,
    )


@get("/events/{slug:str}/workshops", guards=[requires_login], include_in_schema=False)
async def list_page(slug: str, db: AsyncSession, user: User) -> Template:
    """The event's workshops; approved participants register or withdraw here."""
    event = await get_visible_event(db, slug, user)
    return await _list_page(db, event, user)


async def _change_registration(db: AsyncSession, workshop_id: int, user: User, join: bool) -> Response[Any]:
    workshop = await workshops.get_workshop(db, workshop_id)
    event = await workshops.event_of(db, workshop)
    try:
        if join:
            await workshop_registration.register(db, workshop_id, user)
        else:
            await workshop_registration.unregister(db, workshop_id, user)
    except DomainError as exc:
        return await _list_page(db, event, user, exc.message, exc.status)  # type: ignore[return-value]
    return Redirect(f"/events/{event.slug}/workshops")


@post("/workshops/{workshop_id:int}/register", guards=[requires_login], include_in_schema=False)
async def register(workshop_id: int, db: AsyncSession, user: User) -> Response[Any]:
    return await _change_registration(db, workshop_id, user, join=True)


@post("/workshops/{workshop_id:int}/unregister", guards=[requires_login], include_in_schema=False)
async def unregister(workshop_id: int, db: AsyncSession, user: User) -> Response[Any]:
    return await _change_registration(db, workshop_id, user, join=False)


@get("/workshops/{workshop_id:int}/room", guards=[requires_login], include_in_schema=False)
async def room_page(workshop_id: int, db: AsyncSession, user: User) -> Template:
    """The workshop room: chat and questions over /ws/workshops/{id} (static/js/workshop.js)."""
    room = await workshop_room.workshop_access(db, user, workshop_id)
    view = await workshops.workshop_view(db, room.workshop, user)
    return Template("workshops/room.html", context={"room": room, "view": view, "event": room.event})


routes = [admin_page, create, edit_page, save, remove, list_page, register, unregister, room_page]
