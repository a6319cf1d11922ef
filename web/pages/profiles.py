"""A participant's own pages: profile, marketplace opportunities, and organisation pages."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from clockevents.accounts.models import User
from clockevents.errors import ValidationFailed
from clockevents.events.models import Event
from clockevents.events.services import get_visible_event
from clockevents.registration import opportunities as market
from clockevents.registration import organisations as orgs
from clockevents.registration import services
from clockevents.registration.models import ORGANISATION_SIZES, Opportunity, Organisation, Participant
from clockevents.registration.validation import (
    ORGANISATION_KINDS,
    PITCH_MAX,
    OpportunityInput,
    ParticipantUpdate,
)
from web.auth import requires_login
from web.forms import read_form, text, words
from web.pages.registration_forms import (
    ORG_FIELDS,
    int_or_invalid,
    read_state,
    slot_days,
    timezone_options,
    type_options,
)


def profile_values(p: Participant) -> dict[str, Any]:
    """The form's values for a stored profile."""
    return {
        "cluster_id": str(p.cluster_id or ""),
        "participant_type": p.participant_type,
        "job_title": p.job_title,
        "pitch": p.pitch,
        "keywords": ", ".join(p.keywords or []),
        "sectors": ", ".join(p.sectors or []),
        "languages": ", ".join(p.languages or []),
        "timezone": p.timezone,
        "unavailable_slots": [str(i) for i in p.unavailable_slots or []],
        "listed": p.listed,
    }


async def _profile_page(
    db: AsyncSession,
    event: Event,
    participant: Participant,
    values: dict[str, Any],
    errors: dict[str, str] | None = None,
    status_code: int = 200,
    notice: str = "",
) -> Template:
    clusters = await services.event_clusters(db, event)
    zone = values["timezone"] or participant.timezone
    return Template(
        "registration/profile.html",
        context={
            "event": event,
            "participant": participant,
            "values": values,
            "errors": errors or {},
            "notice": notice,
            "cluster_options": [(str(c.id), c.name) for c in clusters],
            "type_options": type_options(event),
            "timezone_options": timezone_options(),
            "pitch_max": PITCH_MAX,
            "days": slot_days(
                await services.event_slots(db, event), zone, values["unavailable_slots"], event.timezone
            ),
            "zone": zone,
        },
        status_code=status_code,
    )


@get("/events/{slug:str}/profile", guards=[requires_login], include_in_schema=False)
async def profile(slug: str, request: Request[Any, Any, Any], db: AsyncSession, user: User) -> Response[Any]:
    """The caller's own profile for the event, as an edit form."""
    event = await get_visible_event(db, slug, user)
    participant = await services.get_own_participant(db, event, user)
    if participant is None:
        return Redirect(f"/events/{slug}/register")
    notice = ""
    if request.query_params.get("welcome"):
        notice = (
            "You are registered. The organisers will review your registration."
            if participant.status == "pending"
            else "You are registered."
        )
    elif request.query_params.get("saved"):
        notice = "Your profile is saved."
    return await _profile_page(db, event, participant, profile_values(participant), notice=notice)  # type: ignore[return-value]


@post("/events/{slug:str}/profile", guards=[requires_login], include_in_schema=False)
async def save_profile(
    slug: str, request: Request[Any, Any, Any], db: AsyncSession, user: User
) -> Response[Any]:
    event = await get_visible_event(db, slug, user)
    participant = await services.get_own_participant(db, event, user)
    if participant is None:
        return Redirect(f"/events/{slug}/register")
    values = read_state(await read_form(request))
    changes = ParticipantUpdate(
        participant_type=values["participant_type"],
        job_title=values["job_title"],
        pitch=values["pitch"],
        keywords=words(values["keywords"]),
        sectors=words(values["sectors"]),
        languages=words(values["languages"]),
        timezone=values["timezone"],
        unavailable_slots=[int_or_invalid(s) for s in values["unavailable_slots"]],
        listed=values["listed"],
    )
    if values["cluster_id"] or participant.cluster_id is not None:
        changes.cluster_id = int_or_invalid(values["cluster_id"]) if values["cluster_id"] else -1
    try:
        await services.update_participant(db, user, participant, changes)
    except ValidationFailed as exc:
        return await _profile_page(db, event, participant, values, exc.fields, 400)  # type: ignore[return-value]
    return Redirect(f"/events/{slug}/profile?saved=1")


def opportunity_values(item: Opportunity | None) -> dict[str, Any]:
    if item is None:
        return {"kind": "", "title": "", "description": "", "keywords": ""}
    return {
        "kind": item.kind,
        "title": item.title,
        "description": item.description,
        "keywords": ", ".join(item.keywords or []),
    }


def opportunity_form(form: Any) -> tuple[dict[str, Any], OpportunityInput]:
    values = {name: text(form, name) for name in ("kind", "title", "keywords")}
    raw = form.get("description")
    values["description"] = raw.strip() if isinstance(raw, str) else ""
    data = OpportunityInput(
        kind=values["kind"],
        title=values["title"],
        description=values["description"],
        keywords=words(values["keywords"]),
    )
    return values, data


async def _opportunities_page(
    db: AsyncSession,
    event: Event,
    user: User,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Template:
    return Template(
        "registration/opportunities.html",
        context={
            "event": event,
            "items": await market.list_own_opportunities(db, event, user),
            "values": values or opportunity_values(None),
            "errors": errors or {},
            "kinds": [(k, k.replace("_", " ").capitalize()) for k in event.opportunity_kinds or []],
        },
        status_code=status_code,
    )


@get("/events/{slug:str}/opportunities", guards=[requires_login], include_in_schema=False)
async def opportunities(slug: str, db: AsyncSession, user: User) -> Response[Any]:
    """The caller's own opportunities, with a form to publish another."""
    event = await get_visible_event(db, slug, user)
    if await services.get_own_participant(db, event, user) is None:
        return Redirect(f"/events/{slug}/register")
    return await _opportunities_page(db, event, user)  # type: ignore[return-value]


@post("/events/{slug:str}/opportunities", guards=[requires_login], include_in_schema=False)
async def create_opportunity(
    slug: str, request: Request[Any, Any, Any], db: AsyncSession, user: User
) -> Response[Any]:
    event = await get_visible_event(db, slug, user)
    values, data = opportunity_form(await read_form(request))
    try:
        await market.create_opportunity(db, user, event, data)
    except ValidationFailed as exc:
        return await _opportunities_page(db, event, user, values, exc.fields, 400)  # type: ignore[return-value]
    return Redirect(f"/events/{slug}/opportunities")


async def _edit_page(
    event: Event,
    item: Opportunity,
    values: dict[str, Any],
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Template:
    return Template(
        "registration/opportunity_edit.html",
        context={
            "event": event,
            "item": item,
            "values": values,
            "errors": errors or {},
            "kinds": [(k, k.replace("_", " ").capitalize()) for k in event.opportunity_kinds or []],
        },
        status_code=status_code,
    )


@get(
    "/events/{slug:str}/opportunities/{opportunity_id:int}/edit",
    guards=[requires_login],
    include_in_schema=False,
)
async def edit_opportunity(slug: str, opportunity_id: int, db: AsyncSession, user: User) -> Template:
    event = await get_visible_event(db, slug, user)
    item = await market.get_opportunity(db, event, opportunity_id)
    await market.require_author(db, user, item)
    return await _edit_page(event, item, opportunity_values(item))


@post(
    "/events/{slug:str}/opportunities/{opportunity_id:int}", guards=[requires_login], include_in_schema=False
)
async def update_opportunity(
    slug: str, opportunity_id: int, request: Request[Any, Any, Any], db: AsyncSession, user: User
) -> Response[Any]:
    event = await get_visible_event(db, slug, user)
    item = await market.get_opportunity(db, event, opportunity_id)
    values, data = opportunity_form(await read_form(request))
    try:
        await market.update_opportunity(db, user, item, market.OpportunityUpdate(**vars(data)))
    except ValidationFailed as exc:
        return await _edit_page(event, item, values, exc.fields, 400)  # type: ignore[return-value]
    return Redirect(f"/events/{slug}/opportunities")


@post(
    "/events/{slug:str}/opportunities/{opportunity_id:int}/delete",
    guards=[requires_login],
    include_in_schema=False,
)
async def delete_opportunity(slug: str, opportunity_id: int, db: AsyncSession, user: User) -> Redirect:
    event = await get_visible_event(db, slug, user)
    item = await market.get_opportunity(db, event, opportunity_id)
    await market.delete_opportunity(db, user, item)
    return Redirect(f"/events/{slug}/opportunities")


async def _organisation_page(
    db: AsyncSession,
    org: Organisation,
    user: User,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
    notice: str = "",
) -> Template:
    return Template(
        "registration/organisation.html",
        context={
            "org": org,
            "members": await orgs.organisation_members(db, org, user),
            "can_edit": await orgs.can_edit_organisation(db, user, org),
            "values": values or {f: getattr(org, f) for f in ORG_FIELDS},
            "errors": errors or {},
            "notice": notice,
            "kinds": [(k, k.replace("_", " ").capitalize()) for k in ORGANISATION_KINDS],
            "sizes": [(s, s) for s in ORGANISATION_SIZES],
        },
        status_code=status_code,
    )


@get("/organisations/{organisation_id:int}", guards=[requires_login], include_in_schema=False)
async def organisation(
    organisation_id: int, request: Request[Any, Any, Any], db: AsyncSession, user: User
) -> Template:
    """An organisation, its people in events the viewer may see, and its edit form for its people."""
    org = await orgs.get_organisation(db, organisation_id)
    notice = "The organisation is saved." if request.query_params.get("saved") else ""
    return await _organisation_page(db, org, user, notice=notice)


@post("/organisations/{organisation_id:int}", guards=[requires_login], include_in_schema=False)
async def save_organisation(
    organisation_id: int, request: Request[Any, Any, Any], db: AsyncSession, user: User
) -> Response[Any]:
    org = await orgs.get_organisation(db, organisation_id)
    form = await read_form(request)
    values = {f: text(form, f) for f in ORG_FIELDS}
    raw = form.get("description")
    values["description"] = raw.strip() if isinstance(raw, str) else ""
    try:
        await orgs.update_organisation(db, user, org, orgs.OrganisationUpdate(**values))
    except ValidationFailed as exc:
        return await _organisation_page(db, org, user, values, exc.fields, 400)  # type: ignore[return-value]
    return Redirect(f"/organisations/{organisation_id}?saved=1")


routes = [
    profile,
    save_profile,
    opportunities,
    create_opportunity,
    edit_opportunity,
    update_opportunity,
    delete_opportunity,
    organisation,
    save_organisation,
]
