"""The people behind an event: its co-organising clusters and the organisers' roles."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from clockevents.accounts.models import User
from clockevents.accounts.services import get_user_by_email
from clockevents.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from clockevents.events.models import ROLES, Cluster, Event, EventRole
from clockevents.events.permissions import require_organiser, require_owner, require_staff
from clockevents.registration.models import Participant

MAX_CLUSTERS = 50
# Ids are 32-bit INTEGER columns.
MAX_ID = 2**31 - 1


def _clean_cluster(name: Any, description: Any) -> tuple[str, str]:
    errors: dict[str, str] = {}
    clean = " ".join(name.split()) if isinstance(name, str) else ""
    if not clean:
        errors["name"] = "Enter the cluster's name."
    elif len(clean) > 120:
        errors["name"] = "Use at most 120 characters."
    text = description.strip() if isinstance(description, str) else ""
    if description is not None and not isinstance(description, str):
        errors["description"] = "Enter text."
    elif len(text) > 2000:
        errors["description"] = "Use at most 2,000 characters."
    if errors:
        raise ValidationFailed(errors)
    return clean, text


async def list_clusters(db: AsyncSession, event: Event) -> list[Cluster]:
    result = await db.scalars(
        select(Cluster).where(Cluster.event_id == event.id).order_by(Cluster.position, Cluster.id)
    )
    return list(result)


async def _name_taken(db: AsyncSession, event: Event, name: str, except_id: int | None = None) -> bool:
    # SQLite's lower() folds ASCII only: the exact match catches "Ärea" against "Ärea".
    same = or_(Cluster.name == name, func.lower(Cluster.name) == name.lower())
    query = select(Cluster.id).where(Cluster.event_id == event.id, same)
    if except_id is not None:
        query = query.where(Cluster.id != except_id)
    return await db.scalar(query) is not None


async def _get_cluster(db: AsyncSession, event: Event, cluster_id: int) -> Cluster:
    if not 0 < cluster_id <= MAX_ID:  # no row has it, and PostgreSQL would refuse the number
        raise NotFound("No such cluster in this event.")
    cluster = await db.get(Cluster, cluster_id)
    if cluster is None or cluster.event_id != event.id:
        raise NotFound("No such cluster in this event.")
    return cluster


async def add_cluster(
    db: AsyncSession, event: Event, user: User | None, name: Any, description: Any = ""
) -> Cluster:
    """Add a co-organising cluster at the end of the list (owner and organisers)."""
    await require_organiser(db, event, user)
    clean, text = _clean_cluster(name, description)
    existing = await list_clusters(db, event)
    if len(existing) >= MAX_CLUSTERS:
        raise Conflict(f"An event has at most {MAX_CLUSTERS} clusters.")
    if await _name_taken(db, event, clean):
        raise Conflict("This event already has a cluster with that name.", {"name": "Already in use."})
    position = max((c.position for c in existing), default=-1) + 1
    cluster = Cluster(event_id=event.id, name=clean, description=text, position=position)
    db.add(cluster)
    try:
        await db.flush()
    except IntegrityError as exc:
        await db.rollback()
        raise Conflict(
            "This event already has a cluster with that name.", {"name": "Already in use."}
        ) from exc
    return cluster


async def update_cluster(
    db: AsyncSession,
    event: Event,
    user: User | None,
    cluster_id: int,
    name: Any,
    description: Any = None,
) -> Cluster:
    """Rename a cluster or change its description (owner and organisers)."""
    await require_organiser(db, event, user)
    cluster = await _get_cluster(db, event, cluster_id)
    clean, text = _clean_cluster(name, cluster.description if description is None else description)
    if await _name_taken(db, event, clean, except_id=cluster.id):
        raise Conflict("This event already has a cluster with that name.", {"name": "Already in use."})
    cluster.name = clean
    cluster.description = text
    try:
        await db.flush()
    except IntegrityError as exc:  # a concurrent rename took the name first
        await db.rollback()
        raise Conflict(
            "This event already has a cluster with that name.", {"name": "Already in use."}
        ) from exc
    return cluster


async def remove_cluster(db: AsyncSession, event: Event, user: User | None, cluster_id: int) -> None:
    """Remove a cluster that has no participants (owner and organisers)."""
    await require_organiser(db, event, user)
    cluster = await _get_cluster(db, event, cluster_id)
    count = await db.scalar(
        select(func.count()).select_from(Participant).where(Participant.cluster_id == cluster.id)
    )
    if count:
        people = "participant" if count == 1 else "participants"
        raise Conflict(
            f"{cluster.name} still has {count} {people}; move them to another cluster before removing it."
        )
    partners = await db.scalar(
        select(func.count()).select_from(EventRole).where(EventRole.cluster_id == cluster.id)
    )
    if partners:
        raise Conflict(f"{cluster.name} still has cluster partners; remove their roles first.")
    await db.delete(cluster)
    await db.flush()


@dataclass(frozen=True)
class RoleView:
    """A role with the person who holds it."""

    id: int
    role: str
    user_id: int
    email: str
    name: str
    cluster_id: int | None
    cluster_name: str | None


async def list_roles(db: AsyncSession, event: Event, user: User | None) -> list[RoleView]:
    """Everyone organising the event (visible to its staff)."""
    await require_staff(db, event, user)
    rows = await db.execute(
        select(EventRole, User, Cluster.name)
        .join(User, User.id == EventRole.user_id)
        .outerjoin(Cluster, Cluster.id == EventRole.cluster_id)
        .where(EventRole.event_id == event.id)
        .order_by(EventRole.id)
    )
    order = {name: i for i, name in enumerate(ROLES)}
    views = [
        RoleView(r.id, r.role, u.id, u.email, u.name, r.cluster_id, cluster_name)
        for r, u, cluster_name in rows.all()
    ]
    return sorted(views, key=lambda v: (order.get(v.role, 9), v.id))


async def add_role(
    db: AsyncSession,
    event: Event,
    user: User | None,
    *,
    email: Any,
    role: Any,
    cluster_id: Any = None,
) -> EventRole:
    """Give an existing account a role; organisers add organisers and partners, owners add owners."""
    access = await require_organiser(db, event, user)
    errors: dict[str, str] = {}
    member: User | None = None
    if not isinstance(email, str) or not email.strip():
        errors["email"] = "Enter the e-mail of an existing account."
    else:
        member = await get_user_by_email(db, email)
        if member is None:
            errors["email"] = "No account uses this e-mail; ask them to sign up first."
    if role not in ROLES:
        errors["role"] = f"Choose a role: {', '.join(ROLES)}."
    cluster: Cluster | None = None
    if role == "cluster_partner":
        if cluster_id in (None, ""):
            errors["cluster_id"] = "Choose the partner's cluster."
        else:
            try:
                cluster = await _get_cluster(db, event, int(cluster_id))
            except (NotFound, ValueError, TypeError, OverflowError):
                errors["cluster_id"] = "Choose one of this event's clusters."
    if errors:
        raise ValidationFailed(errors)
    if role == "owner" and access.role != "owner":
        raise PermissionDenied("Only an owner may add another owner.")
    assert member is not None
    taken = await db.scalar(
        select(EventRole).where(EventRole.event_id == event.id, EventRole.user_id == member.id)
    )
    if taken is not None:
        raise Conflict(
            f"{member.email} is already {taken.role} of this event.", {"email": "Already has a role."}
        )
    row = EventRole(
        event_id=event.id, user_id=member.id, role=role, cluster_id=cluster.id if cluster else None
    )
    db.add(row)
    try:
        await db.flush()
    except IntegrityError as exc:
        await db.rollback()
        raise Conflict(f"{member.email} already has a role.", {"email": "Already has a role."}) from exc
    return row


async def remove_role(db: AsyncSession, event: Event, user: User | None, role_id: int) -> None:
    """Take a role away (owners only); the last owner stays."""
    await require_owner(db, event, user)
    row = await db.get(EventRole, role_id)
    if row is None or row.event_id != event.id:
        raise NotFound("No such role in this event.")
    if row.role == "owner":
        owners = await db.scalar(
            select(func.count())
            .select_from(EventRole)
            .where(EventRole.event_id == event.id, EventRole.role == "owner")
        )
        if (owners or 0) <= 1:
            raise Conflict("The last owner cannot be removed; add another owner first.")
    await db.delete(row)
    await db.flush()
