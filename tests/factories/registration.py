"""Real participants and opportunities for tests (models plus the search text the service keeps)."""

from __future__ import annotations

import itertools

from sqlalchemy.ext.asyncio import AsyncSession

from clockevents.accounts.models import User
from clockevents.events.models import Cluster, Event
from clockevents.registration.models import Opportunity, Organisation, Participant
from clockevents.registration.search import refresh_search_text
from tests.factories.accounts import make_user

_counter = itertools.count(1)


async def make_organisation(
    db: AsyncSession, *, name: str | None = None, kind: str = "business", country: str = "IT"
) -> Organisation:
    n = next(_counter)
    org = Organisation(name=name or f"Organisation {n}", kind=kind, country=country, city="Pisa")
    db.add(org)
    await db.flush()
    return org


async def make_participant(
    db: AsyncSession,
    event: Event,
    *,
    user: User | None = None,
    organisation: Organisation | None = None,
    cluster: Cluster | None = None,
    participant_type: str = "business",
    status: str = "approved",
    listed: bool = True,
    pitch: str = "We build things.",
    keywords: list[str] | None = None,
    country: str = "IT",
) -> Participant:
    user = user or await make_user(db)
    organisation = organisation or await make_organisation(db, kind=participant_type, country=country)
    participant = Participant(
        event_id=event.id,
        user_id=user.id,
        organisation_id=organisation.id,
        cluster_id=cluster.id if cluster else None,
        participant_type=participant_type,
        pitch=pitch,
        keywords=keywords or [],
        status=status,
        listed=listed,
    )
    db.add(participant)
    await db.flush()
    await refresh_search_text(db, participant.id)
    await db.commit()
    return participant


async def make_opportunity(
    db: AsyncSession,
    participant: Participant,
    *,
    kind: str = "offer",
    title: str = "Antiviral coatings",
    keywords: list[str] | None = None,
) -> Opportunity:
    opportunity = Opportunity(
        event_id=participant.event_id,
        participant_id=participant.id,
        kind=kind,
        title=title,
        keywords=keywords or [],
    )
    db.add(opportunity)
    await db.flush()
    await refresh_search_text(db, participant.id)
    await db.commit()
    return opportunity
