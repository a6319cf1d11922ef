"""Organisations: find one to join, read its page, edit it."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from clockevents.accounts.models import User
from clockevents.errors import NotAuthenticated, NotFound, PermissionDenied, ValidationFailed
from clockevents.events.models import Event, EventRole
from clockevents.registration.models import Organisation, Participant
from clockevents.registration.search import refresh_search_text
from clockevents.registration.validation import OrganisationInput, is_id, no_nul, validate_organisation

PUBLIC_EVENT_STATUSES = ("open", "live", "closed")


@dataclass
class OrganisationUpdate:
    """A partial change: ``None`` leaves a field as it is."""

    name: str | None = None
    kind: str | None = None
    country: str | None = None
    city: str | None = None
    website: str | None = None
    description: str | None = None
    size: str | None = None


@dataclass(frozen=True)
class Member:
    """One person of an organisation registered in one event, as the organisation page lists them."""

    participant: Participant
    event: Event
    name: str


async def get_organisation(db: AsyncSession, organisation_id: int) -> Organisation:
    organisation = await db.get(Organisation, organisation_id) if is_id(organisation_id) else None
    if organisation is None:
        raise NotFound("No such organisation.")
    return organisation


async def search_organisations(
    db: AsyncSession, user: User, query: str = "", limit: int = 20
) -> list[Organisation]:
    """Organisations whose name contains ``query``; the user's own ones first.

    With an empty query, the organisations the user created or registered with.
    """
    mine = select(Participant.organisation_id).where(Participant.user_id == user.id)
    own = or_(Organisation.created_by_id == user.id, Organisation.id.in_(mine))
    stmt = select(Organisation)
    words = no_nul(query).split()
    if words:
        for word in words[:5]:
            escaped = word.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            stmt = stmt.where(func.lower(Organisation.name).like(f"%{escaped}%", escape="\\"))
    else:
        stmt = stmt.where(own)
    # Own organisations sort first: a colleague's duplicate "ACME" should not hide yours.
    stmt = stmt.order_by(case((own, 0), else_=1), func.lower(Organisation.name), Organisation.id).limit(limit)
    return list(await db.scalars(stmt))


async def can_edit_organisation(db: AsyncSession, user: User | None, organisation: Organisation) -> bool:
    """Its creator, anyone registered on its behalf, and platform admins may edit it."""
    if user is None:
        return False
    if user.is_admin or organisation.created_by_id == user.id:
        return True
    member = await db.scalar(
        select(Participant.id)
        .where(Participant.organisation_id == organisation.id, Participant.user_id == user.id)
        .limit(1)
    )
    return member is not None


async def update_organisation(
    db: AsyncSession, actor: User | None, organisation: Organisation, data: OrganisationUpdate
) -> Organisation:
    """Change an organisation (see ``can_edit_organisation``); every wrong field reported at once."""
    if actor is None:
        raise NotAuthenticated()
    if not await can_edit_organisation(db, actor, organisation):
        raise PermissionDenied("Only the organisation's own people may edit it.")
    merged = OrganisationInput(
        **{
            name: getattr(data, name) if getattr(data, name) is not None else getattr(organisation, name)
            for name in ("name", "kind", "country", "city", "website", "description", "size")
        }
    )
    errors: dict[str, str] = {}
    cleaned = validate_organisation(merged, errors)
    if errors:
        raise ValidationFailed(errors)
    for name, value in vars(cleaned).items():
        setattr(organisation, name, value)
    await db.flush()
    # The organisation's name and city are part of every member's directory text.
    ids = await db.scalars(select(Participant.id).where(Participant.organisation_id == organisation.id))
    for participant_id in list(ids):
        await refresh_search_text(db, participant_id)
    return organisation


async def organisation_members(
    db: AsyncSession, organisation: Organisation, viewer: User | None
) -> list[Member]:
    """The organisation's registrations the viewer may see.

    Staff see everyone in their events and each person sees themselves; everyone else sees
    approved, listed participants of published events only.
    """
    rows = (
        await db.execute(
            select(Participant, Event, User.name)
            .join(Event, Event.id == Participant.event_id)
            .outerjoin(User, User.id == Participant.user_id)
            .where(Participant.organisation_id == organisation.id)
            .order_by(Event.starts_on.desc(), Event.id, User.name)
        )
    ).all()
    staff_events: set[int] = set()
    if viewer is not None and not viewer.is_admin:
        staff_events = set(await db.scalars(select(EventRole.event_id).where(EventRole.user_id == viewer.id)))
    members = []
    for participant, event, name in rows:
        visible = (
            viewer is not None
            and (viewer.is_admin or event.id in staff_events or participant.user_id == viewer.id)
        ) or (
            participant.status == "approved" and participant.listed and event.status in PUBLIC_EVENT_STATUSES
        )
        if visible:
            members.append(Member(participant=participant, event=event, name=name or ""))
    return members
