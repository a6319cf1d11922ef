"""The marketplace: what a participant offers or seeks, created and edited by its author."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from clockevents.accounts.models import User
from clockevents.errors import NotAuthenticated, NotFound, PermissionDenied, ValidationFailed
from clockevents.events.models import Event
from clockevents.events.permissions import access_for
from clockevents.registration.models import Opportunity, Participant
from clockevents.registration.search import refresh_search_text
from clockevents.registration.validation import OpportunityInput, is_id, validate_opportunity


@dataclass
class OpportunityUpdate:
    """A partial change: ``None`` leaves a field as it is."""

    kind: str | None = None
    title: str | None = None
    description: str | None = None
    keywords: list[str] | None = None


async def _own_participant(db: AsyncSession, event: Event, user: User | None) -> Participant:
    if user is None:
        raise NotAuthenticated()
    participant = await db.scalar(
        select(Participant).where(Participant.event_id == event.id, Participant.user_id == user.id)
    )
    if participant is None:
        raise PermissionDenied("Register for this event before publishing opportunities.")
    if participant.status == "rejected":
        raise PermissionDenied("Your registration for this event was not accepted.")
    return participant


async def get_opportunity(db: AsyncSession, event: Event, opportunity_id: int) -> Opportunity:
    if not is_id(opportunity_id):
        raise NotFound("No such opportunity in this event.")
    opportunity = await db.scalar(
        select(Opportunity).where(Opportunity.id == opportunity_id, Opportunity.event_id == event.id)
    )
    if opportunity is None:
        raise NotFound("No such opportunity in this event.")
    return opportunity


async def list_own_opportunities(db: AsyncSession, event: Event, user: User) -> list[Opportunity]:
    """The user's opportunities in ``event``, oldest first."""
    result = await db.scalars(
        select(Opportunity)
        .join(Participant, Participant.id == Opportunity.participant_id)
        .where(Opportunity.event_id == event.id, Participant.user_id == user.id)
        .order_by(Opportunity.id)
    )
    return list(result)


async def create_opportunity(
    db: AsyncSession, user: User | None, event: Event, data: OpportunityInput
) -> Opportunity:
    """Publish an opportunity for the caller's own registration."""
    participant = await _own_participant(db, event, user)
    cleaned, errors = validate_opportunity(event, data)
    if errors:
        raise ValidationFailed(errors)
    opportunity = Opportunity(event_id=event.id, participant_id=participant.id, **vars(cleaned))
    db.add(opportunity)
    await db.flush()
    await refresh_search_text(db, participant.id)
    return opportunity


async def require_author(db: AsyncSession, actor: User | None, opportunity: Opportunity) -> None:
    """Its author may change it; so may staff covering the author's cluster (moderation)."""
    if actor is None:
        raise NotAuthenticated()
    participant = await db.get(Participant, opportunity.participant_id)
    assert participant is not None
    if participant.user_id == actor.id:
        return
    event = await db.get(Event, opportunity.event_id)
    assert event is not None
    if not (await access_for(db, event, actor)).covers_cluster(participant.cluster_id):
        raise PermissionDenied("You may change your own opportunities only.")


async def update_opportunity(
    db: AsyncSession, actor: User | None, opportunity: Opportunity, data: OpportunityUpdate
) -> Opportunity:
    """Change an opportunity; fields left ``None`` keep their value."""
    await require_author(db, actor, opportunity)
    event = await db.get(Event, opportunity.event_id)
    assert event is not None
    merged = OpportunityInput(
        kind=data.kind if data.kind is not None else opportunity.kind,
        title=data.title if data.title is not None else opportunity.title,
        description=data.description if data.description is not None else opportunity.description,
        keywords=data.keywords if data.keywords is not None else list(opportunity.keywords or []),
    )
    cleaned, errors = validate_opportunity(event, merged)
    if errors:
        raise ValidationFailed(errors)
    for name, value in vars(cleaned).items():
        setattr(opportunity, name, value)
    await db.flush()
    await refresh_search_text(db, opportunity.participant_id)
    return opportunity


async def delete_opportunity(db: AsyncSession, actor: User | None, opportunity: Opportunity) -> None:
    await require_author(db, actor, opportunity)
    participant_id = opportunity.participant_id
    await db.delete(opportunity)
    await db.flush()
    await refresh_search_text(db, participant_id)
