"""Registration API: register for an event, read and edit profiles, organisations, opportunities."""

from __future__ import annotations

import msgspec
from litestar import delete, get, patch, post
from litestar.params import JSONBody
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from clockevents.accounts.models import User
from clockevents.errors import NotFound
from clockevents.events.models import Cluster, Event
from clockevents.events.services import get_visible_event
from clockevents.registration import opportunities as market
from clockevents.registration import organisations as orgs
from clockevents.registration import services
from clockevents.registration.models import Organisation, Participant
from clockevents.registration.schemas import (
    MemberOut,
    OpportunityIn,
    OpportunityOut,
    OrganisationIn,
    OrganisationOut,
    OrganisationPageOut,
    ParticipantOut,
    ParticipantPatch,
    RegistrationIn,
    opportunity_out,
    organisation_out,
    registration_input,
)
from clockevents.registration.validation import OpportunityInput, ParticipantUpdate
from web.auth import requires_login

TAGS = ["registration"]


async def participant_out(db: AsyncSession, event: Event, p: Participant) -> ParticipantOut:
    name = await db.scalar(select(User.name).where(User.id == p.user_id)) if p.user_id else None
    cluster = await db.get(Cluster, p.cluster_id) if p.cluster_id else None
    return ParticipantOut(
        id=p.id,
        event=event.slug,
        user_id=p.user_id,
        name=name or "",
        organisation=organisation_out(p.organisation),
        cluster_id=p.cluster_id,
        cluster=cluster.name if cluster else None,
        participant_type=p.participant_type,
        job_title=p.job_title,
        pitch=p.pitch,
        keywords=list(p.keywords or []),
        sectors=list(p.sectors or []),
        languages=list(p.languages or []),
        timezone=p.timezone,
        unavailable_slots=list(p.unavailable_slots or []),
        listed=p.listed,
        status=p.status,
        opportunities=[opportunity_out(o) for o in p.opportunities],
    )


@post(
    "/events/{slug:str}/participants",
    operation_id="registerParticipant",
    status_code=HTTP_201_CREATED,
    guards=[requires_login],
    tags=TAGS,
)
async def register(slug: str, data: JSONBody[RegistrationIn], db: AsyncSession, user: User) -> ParticipantOut:
    """Register the caller for the event (pending when the event requires approval)."""
    event = await get_visible_event(db, slug, user)
    participant = await services.register(db, user, event, registration_input(data))
    return await participant_out(db, event, participant)


@get(
    "/events/{slug:str}/participants/me",
    operation_id="getMyParticipant",
    guards=[requires_login],
    tags=TAGS,
)
async def my_participant(slug: str, db: AsyncSession, user: User) -> ParticipantOut:
    """The caller's own registration for the event (404 when not registered)."""
    event = await get_visible_event(db, slug, user)
    participant = await services.get_own_participant(db, event, user)
    if participant is None:
        raise NotFound("You are not registered for this event.")
    return await participant_out(db, event, participant)


@get(
    "/events/{slug:str}/participants/{participant_id:int}",
    operation_id="getParticipant",
    guards=[requires_login],
    tags=TAGS,
)
async def get_participant(slug: str, participant_id: int, db: AsyncSession, user: User) -> ParticipantOut:
    """One participant: the person themselves, staff, or approved peers when the profile is listed."""
    event = await get_visible_event(db, slug, user)
    participant = await services.view_participant(db, event, user, participant_id)
    return await participant_out(db, event, participant)


@patch(
    "/events/{slug:str}/participants/{participant_id:int}",
    operation_id="updateParticipant",
    guards=[requires_login],
    tags=TAGS,
)
async def update_participant(
    slug: str, participant_id: int, data: JSONBody[ParticipantPatch], db: AsyncSession, user: User
) -> ParticipantOut:
    """Edit a profile (its owner or staff covering its cluster; staff may also set ``status``)."""
    event = await get_visible_event(db, slug, user)
    participant = await services.get_participant(db, event, participant_id)
    changes = ParticipantUpdate(**msgspec.structs.asdict(data))
    participant = await services.update_participant(db, user, participant, changes)
    return await participant_out(db, event, participant)


@post(
    "/events/{slug:str}/opportunities",
    operation_id="createOpportunity",
    status_code=HTTP_201_CREATED,
    guards=[requires_login],
    tags=TAGS,
)
async def create_opportunity(
    slug: str, data: JSONBody[OpportunityIn], db: AsyncSession, user: User
) -> OpportunityOut:
    """Publish an opportunity on the caller's own registration."""
    event = await get_visible_event(db, slug, user)
    item = await market.create_opportunity(
        db,
        user,
        event,
        OpportunityInput(
            kind=data.kind or "",
            title=data.title or "",
            description=data.description or "",
            keywords=data.keywords or [],
        ),
    )
    return opportunity_out(item)


@patch(
    "/events/{slug:str}/opportunities/{opportunity_id:int}",
    operation_id="updateOpportunity",
    guards=[requires_login],
    tags=TAGS,
)
async def update_opportunity(
    slug: str, opportunity_id: int, data: JSONBody[OpportunityIn], db: AsyncSession, user: User
) -> OpportunityOut:
    """Edit one of the caller's opportunities; fields left out stay as they are."""
    event = await get_visible_event(db, slug, user)
    item = await market.get_opportunity(db, event, opportunity_id)
    item = await market.update_opportunity(
        db, user, item, market.OpportunityUpdate(**msgspec.structs.asdict(data))
    )
    return opportunity_out(item)


@delete(
    "/events/{slug:str}/opportunities/{opportunity_id:int}",
    operation_id="deleteOpportunity",
    guards=[requires_login],
    tags=TAGS,
    status_code=HTTP_204_NO_CONTENT,
)
async def delete_opportunity(slug: str, opportunity_id: int, db: AsyncSession, user: User) -> None:
    """Withdraw one of the caller's opportunities."""
    event = await get_visible_event(db, slug, user)
    item = await market.get_opportunity(db, event, opportunity_id)
    await market.delete_opportunity(db, user, item)


@get("/organisations", operation_id="searchOrganisations", guards=[requires_login], tags=TAGS)
async def search_organisations(db: AsyncSession, user: User, q: str = "") -> list[OrganisationOut]:
    """Organisations whose name contains ``q`` (the caller's own first); with no ``q``, the caller's own."""
    return [organisation_out(o) for o in await orgs.search_organisations(db, user, q[:100])]


@get(
    "/organisations/{organisation_id:int}",
    operation_id="getOrganisation",
    guards=[requires_login],
    tags=TAGS,
)
async def get_organisation(organisation_id: int, db: AsyncSession, user: User) -> OrganisationPageOut:
    """An organisation and its people registered in events the caller may see."""
    org = await orgs.get_organisation(db, organisation_id)
    return await organisation_page(db, org, user)


async def organisation_page(db: AsyncSession, org: Organisation, user: User) -> OrganisationPageOut:
    members = await orgs.organisation_members(db, org, user)
    return OrganisationPageOut(
        organisation=organisation_out(org),
        can_edit=await orgs.can_edit_organisation(db, user, org),
        members=[
            MemberOut(
                participant_id=m.participant.id,
                name=m.name,
                event=m.event.slug,
                event_title=m.event.title,
                job_title=m.participant.job_title,
                status=m.participant.status,
            )
            for m in members
        ],
    )


@patch(
    "/organisations/{organisation_id:int}",
    operation_id="updateOrganisation",
    guards=[requires_login],
    tags=TAGS,
)
async def update_organisation(
    organisation_id: int, data: JSONBody[OrganisationIn], db: AsyncSession, user: User
) -> OrganisationOut:
    """Edit an organisation (its creator and people registered on its behalf)."""
    org = await orgs.get_organisation(db, organisation_id)
    org = await orgs.update_organisation(
        db, user, org, orgs.OrganisationUpdate(**msgspec.structs.asdict(data))
    )
    return organisation_out(org)


routes = [
    register,
    my_participant,
    get_participant,
    update_participant,
    create_opportunity,
    update_opportunity,
    delete_opportunity,
    search_organisations,
    get_organisation,
    update_organisation,
]
