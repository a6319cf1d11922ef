"""The registration wizard and "My events".

The wizard works without JavaScript: every step posts the whole state (the current step's
fields visibly, the others as hidden fields), the service checks the step's fields, and only the
final confirmation writes anything, in one transaction.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from litestar import Request, Response, get, post
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from clockevents.accounts.models import User
from clockevents.errors import Conflict, ValidationFailed
from clockevents.events.models import Event
from clockevents.events.services import get_visible_event
from clockevents.registration import organisations as orgs
from clockevents.registration import services
from clockevents.registration.models import ORGANISATION_SIZES, Organisation
from clockevents.registration.validation import ORGANISATION_KINDS, PITCH_MAX, is_id
from web.auth import requires_login
from web.forms import read_form
from web.pages import profiles
from web.pages.registration_forms import (
    STEP_TITLES,
    read_state,
    slot_days,
    step_of,
    timezone_options,
    to_input,
    type_options,
)


async def _render(
    db: AsyncSession,
    event: Event,
    user: User,
    values: dict[str, Any],
    step: int,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
    query: str = "",
) -> Template:
    clusters = await services.event_clusters(db, event)
    zone = values["timezone"] or event.timezone
    choice = values["org_choice"]
    found = await orgs.search_organisations(db, user, query)
    chosen = None
    if choice.isdigit() and is_id(int(choice)):
        chosen = next((o for o in found if o.id == int(choice)), None)
        chosen = chosen or await db.get(Organisation, int(choice))
        if chosen is not None and chosen not in found:
            found.insert(0, chosen)
    return Template(
        "registration/register.html",
        context={
            "event": event,
            "step": step,
            "steps": STEP_TITLES,
            "values": values,
            "errors": errors or {},
            "query": query,
            "organisations": found,
            "chosen": chosen,
            "cluster_options": [(str(c.id), c.name) for c in clusters],
            "cluster_names": {str(c.id): c.name for c in clusters},
            "type_options": type_options(event),
            "kinds": [(k, k.replace("_", " ").capitalize()) for k in ORGANISATION_KINDS],
            "sizes": [(s, s) for s in ORGANISATION_SIZES],
            "timezone_options": timezone_options(),
            "pitch_max": PITCH_MAX,
            "days": slot_days(
                await services.event_slots(db, event), zone, values["unavailable_slots"], event.timezone
            ),
            "zone": zone,
        },
        status_code=status_code,
    )


async def _open_event(db: AsyncSession, slug: str, user: User | None) -> Event | Response[Any]:
    """The event, or where to send the visitor instead (sign-up, their profile)."""
    event = await get_visible_event(db, slug, user)
    if user is None:
        return Redirect(f"/signup?next={quote(f'/events/{slug}/register')}")
    if await services.get_own_participant(db, event, user) is not None:
        return Redirect(f"/events/{slug}/profile")
    if reason := services.registration_state(event):
        raise Conflict(reason)
    return event


@get("/events/{slug:str}/register", include_in_schema=False)
async def register_form(
    slug: str, request: Request[Any, Any, Any], db: AsyncSession, user: User | None
) -> Response[Any]:
    """Step 1, also re-shown by the organisation search (a GET form that carries the state)."""
    event = await _open_event(db, slug, user)
    if not isinstance(event, Event):
        return event
    assert user is not None
    values = read_state(request.query_params)
    if not values["timezone"]:
        values["timezone"] = user.timezone or event.timezone
    query = (request.query_params.get("q") or "").strip()[:100]
    return await _render(db, event, user, values, 1, query=query)  # type: ignore[return-value]


@post("/events/{slug:str}/register", include_in_schema=False)
async def register_step(
    slug: str, request: Request[Any, Any, Any], db: AsyncSession, user: User | None
) -> Response[Any]:
    """Move between steps (checking the current one) or, on confirmation, register."""
    event = await _open_event(db, slug, user)
    if not isinstance(event, Event):
        return event
    assert user is not None
    form = await read_form(request)
    values = read_state(form)
    raw_step = form.get("step")
    step = int(raw_step) if isinstance(raw_step, str) and raw_step in ("1", "2", "3", "4") else 1
    action = form.get("action")
    if action == "back":
        return await _render(db, event, user, values, max(1, step - 1))  # type: ignore[return-value]
    data = to_input(values)
    if action == "confirm":
        try:
            await services.register(db, user, event, data)
        except ValidationFailed as exc:
            first = min(step_of(f) for f in exc.fields) if exc.fields else 1
            return await _render(db, event, user, values, first, exc.fields, 400)  # type: ignore[return-value]
        except Conflict as exc:
            errors = {"form": exc.message}
            return await _render(db, event, user, values, 4, errors, 409)  # type: ignore[return-value]
        return Redirect(f"/events/{slug}/profile?welcome=1")
    errors = {
        f: m for f, m in (await services.registration_errors(db, event, data)).items() if step_of(f) == step
    }
    if errors:
        return await _render(db, event, user, values, step, errors, 400)  # type: ignore[return-value]
    return await _render(db, event, user, values, min(4, step + 1))  # type: ignore[return-value]


@get("/my/events", guards=[requires_login], include_in_schema=False)
async def my_events(db: AsyncSession, user: User) -> Template:
    """The user's registrations with their status, and the events they help organise."""
    mine = await services.my_events(db, user)
    return Template(
        "registration/my_events.html",
        context={"registrations": mine.registrations, "organising": mine.organising},
    )


routes = [register_form, register_step, my_events, *profiles.routes]
