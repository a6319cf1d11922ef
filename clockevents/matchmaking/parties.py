"""Who is who in a request: the caller's registration and display facts about participants."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from clockevents.accounts.models import User
from clockevents.events.models import Cluster, Event
from clockevents.registration.models import Organisation, Participant


@dataclass(frozen=True)
class Party:
    """One participant as the matchmaking pages and API show them."""

    id: int
    user_id: int | None
    name: str
    organisation: str
    cluster_id: int | None
    cluster: str
    status: str
    listed: bool

    @property
    def label(self) -> str:
        return f"{self.name} ({self.organisation})" if self.name else self.organisation


async def own_participant(db: AsyncSession, event: Event, user: User | None) -> Participant | None:
    """The caller's registration for ``event``, if any."""
    if user is None:
        return None
    return await db.scalar(
        select(Participant).where(Participant.event_id == event.id, Participant.user_id == user.id)
    )


# Built once: building it (and its cache key) cost more CPU than running it.
_PARTIES = (
    select(
        Participant.id,
        Participant.user_id,
        User.name,
        Organisation.name,
        Participant.cluster_id,
        Cluster.name,
        Participant.status,
        Participant.listed,
    )
    .join(Organisation, Organisation.id == Participant.organisation_id)
    .outerjoin(User, User.id == Participant.user_id)
    .outerjoin(Cluster, Cluster.id == Participant.cluster_id)
    .where(Participant.id.in_(bindparam("ids", expanding=True)))
)


async def load_parties(db: AsyncSession, ids: Iterable[int]) -> dict[int, Party]:
    """Display facts for the participants ``ids`` in one query."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    rows = await db.execute(_PARTIES, {"ids": wanted})
    return {
        pid: Party(pid, uid, uname or "", oname, cid, cname or "", status, listed)
        for pid, uid, uname, oname, cid, cname, status, listed in rows
    }


async def approved_parties(db: AsyncSession, event: Event) -> list[Party]:
    """The event's approved participants by organisation and name (for organisers' pickers)."""
    ids = await db.scalars(
        select(Participant.id)
        .join(Organisation, Organisation.id == Participant.organisation_id)
        .where(Participant.event_id == event.id, Participant.status == "approved")
        .order_by(Organisation.name, Participant.id)
    )
    order = list(ids)
    parties = await load_parties(db, order)
    return [parties[i] for i in order]


async def lock_participants(db: AsyncSession, *ids: int) -> None:
    """Serialise request writes that involve any of ``ids`` until this transaction ends.

    No constraint can express "one open request per pair" or the caps, so concurrent requests
    for the same people take turns here and each then sees the others' committed rows.
    PostgreSQL: row locks that still let other rows reference these participants. SQLite has no
    row locks: a no-op write takes the database's write lock now, before the checks read.
    """
    wanted = sorted(set(ids))  # one order everywhere, so two transactions cannot deadlock
    if db.get_bind().dialect.name == "sqlite":
        await db.execute(
            update(Participant)
            .where(Participant.id.in_(wanted))
            .values(status=Participant.status, updated_at=Participant.updated_at)
            .execution_options(synchronize_session=False)
        )
        return
    await db.execute(
        select(Participant.id)
        .where(Participant.id.in_(wanted))
        .order_by(Participant.id)
        .with_for_update(key_share=True)
    )
