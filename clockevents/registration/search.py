"""The directory's search text: one lower-cased blob per participant, rebuilt on every change.

Kept in ``participants.search_text`` so one indexed table answers the directory on SQLite and
PostgreSQL alike, without a second search engine to run.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from clockevents.accounts.models import User
from clockevents.registration.models import Opportunity, Organisation, Participant


def normalise(text: str) -> str:
    return " ".join(text.lower().split())


def build_search_text(
    participant: Participant,
    organisation: Organisation,
    person_name: str,
    opportunities: Iterable[Opportunity],
) -> str:
    """Everything a directory search may match: names, pitch, keywords, opportunities."""
    parts: list[str] = [
        person_name,
        organisation.name,
        organisation.city,
        organisation.description,
        participant.job_title,
        participant.pitch,
        " ".join(participant.keywords or []),
        " ".join(participant.sectors or []),
    ]
    for opportunity in opportunities:
        parts += [opportunity.title, opportunity.description, " ".join(opportunity.keywords or [])]
    return normalise(" | ".join(p for p in parts if p))


async def refresh_search_text(db: AsyncSession, participant_id: int) -> None:
    """Rebuild one participant's search text from the database (call after any change)."""
    await db.flush()
    participant = await db.scalar(
        select(Participant)
        .where(Participant.id == participant_id)
        .options(selectinload(Participant.organisation), selectinload(Participant.opportunities))
        .execution_options(populate_existing=True)
    )
    if participant is None:
        return
    name = ""
    if participant.user_id is not None:
        name = await db.scalar(select(User.name).where(User.id == participant.user_id)) or ""
    participant.search_text = build_search_text(
        participant, participant.organisation, name, participant.opportunities
    )
