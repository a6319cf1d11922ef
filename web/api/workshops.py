"""Workshops API: list and manage an event's workshops, register for one and withdraw."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import delete, get, patch, post
from litestar.params import JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_204_NO_CONTENT
from sqlalchemy.ext.asyncio import AsyncSession

from clockevents.accounts.models import User
from clockevents.events.services import get_visible_event
from clockevents.live import workshop_registration, workshops
from clockevents.live.messages import iso
from web.auth import requires_login

TAGS = ["workshops"]


class WorkshopIn(msgspec.Struct):
    """Every field typed loosely: the service checks them all and answers per field."""

    title: Any = None
    description: Any = None
    presenter_id: Any = None  # a participant id of the event
    slots: Any = None  # slot indices of the event's grid (0-based, as in the agenda)
    capacity: Any = None  # places, or null for no limit


class SlotOut(msgspec.Struct):
    index: int
    starts_at: str
    ends_at: str


class PresenterOut(msgspec.Struct):
    participant_id: int
    name: str
    organisation: str


class WorkshopOut(msgspec.Struct):
    id: int
    title: str
    description: str
    presenter: PresenterOut | None
    slots: list[SlotOut]
    capacity: int | None
    registered: int
    places_left: int | None
    is_registered: bool  # the caller's registration
    is_presenter: bool
    room_url: str


def workshop_out(view: workshops.WorkshopView) -> WorkshopOut:
    w, p = view.workshop, view.presenter
    return WorkshopOut(
        id=w.id,
        title=w.title,
        description=w.description,
        presenter=PresenterOut(p.id, p.name, p.organisation) if p is not None else None,
        slots=[SlotOut(s.index, iso(s.starts_at), iso(s.ends_at)) for s in view.slots],
        capacity=w.capacity,
        registered=view.registered,
        places_left=view.places_left,
        is_registered=view.is_registered,
        is_presenter=view.is_presenter,
        room_url=view.room_url,
    )


def _given(data: WorkshopIn | None) -> dict[str, Any]:
    if data is None:
        return {}
    return {name: getattr(data, name) for name in data.__struct_fields__}


@get("/events/{slug:str}/workshops", operation_id="listWorkshops", tags=TAGS)
async def list_workshops(slug: str, db: AsyncSession, user: User | None) -> list[WorkshopOut]:
    """The event's workshops by their first slot, with the caller's registration."""
    event = await get_visible_event(db, slug, user)
    return [workshop_out(v) for v in await workshops.list_workshops(db, event, user)]


@post(
    "/events/{slug:str}/workshops",
    operation_id="createWorkshop",
    tags=TAGS,
    guards=[requires_login],
    status_code=HTTP_201_CREATED,
)
async def create_workshop(slug: str, data: JSONBody[WorkshopIn], db: AsyncSession, user: User) -> WorkshopOut:
    """Create a workshop (owner and organisers): title, presenter, one or more slots, capacity."""
    event = await get_visible_event(db, slug, user)
    workshop = await workshops.create_workshop(db, event, user, _given(data))
    return workshop_out(await workshops.workshop_view(db, workshop, user))


@get("/workshops/{workshop_id:int}", operation_id="getWorkshop", tags=TAGS)
async def get_workshop(workshop_id: int, db: AsyncSession, user: User | None) -> WorkshopOut:
    """One workshop (of an event the caller may see)."""
    workshop = await workshops.get_workshop(db, workshop_id)
    await get_visible_event(db, (await workshops.event_of(db, workshop)).slug, user)
    return workshop_out(await workshops.workshop_view(db, workshop, user))


@patch("/workshops/{workshop_id:int}", operation_id="updateWorkshop", tags=TAGS, guards=[requires_login])
async def update_workshop(
    workshop_id: int, data: JSONBody[WorkshopIn], db: AsyncSession, user: User
) -> WorkshopOut:
    """Change a workshop (owner and organisers); every field is sent again, as on create."""
    workshop = await workshops.update_workshop(db, workshop_id, user, _given(data))
    return workshop_out(await workshops.workshop_view(db, workshop, user))


@delete(
    "/workshops/{workshop_id:int}",
    operation_id="deleteWorkshop",
    tags=TAGS,
    guards=[requires_login],
    status_code=HTTP_204_NO_CONTENT,
)
async def delete_workshop(workshop_id: int, db: AsyncSession, user: User) -> None:
    """Delete a workshop with its registrations and questions (owner and organisers)."""
    await workshops.delete_workshop(db, workshop_id, user)


@post(
    "/workshops/{workshop_id:int}/registration",
    operation_id="registerForWorkshop",
    tags=TAGS,
    guards=[requires_login],
    status_code=HTTP_200_OK,
)
async def register(workshop_id: int, db: AsyncSession, user: User) -> WorkshopOut:
    """Register for a workshop (approved participants); 409 when it is full or a slot is taken."""
    return workshop_out(await workshop_registration.register(db, workshop_id, user))


@delete(
    "/workshops/{workshop_id:int}/registration",
    operation_id="unregisterFromWorkshop",
    tags=TAGS,
    guards=[requires_login],
    status_code=HTTP_200_OK,
)
async def unregister(workshop_id: int, db: AsyncSession, user: User) -> WorkshopOut:
    """Withdraw from a workshop (a no-op when not registered)."""
    return workshop_out(await workshop_registration.unregister(db, workshop_id, user))


routes = [
    list_workshops,
    create_workshop,
    get_workshop,
    update_workshop,
    delete_workshop,
    register,
    unregister,
]
