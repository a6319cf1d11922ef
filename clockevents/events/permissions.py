"""Who may do what in an event: owner, organiser, cluster partner (own cluster only)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from clockevents.accounts.models import User
from clockevents.errors import NotAuthenticated, PermissionDenied
from clockevents.events.models import Event, EventRole


@dataclass(frozen=True)
class Access:
    """The caller's organising power in one event.

    ``cluster_id`` is set for a cluster partner: they see and manage that cluster only.
    """

    role: str | None  # "owner" | "organiser" | "cluster_partner" | None
    cluster_id: int | None = None

    @property
    def is_organiser(self) -> bool:
        """Owner or organiser: the whole event."""
        return self.role in ("owner", "organiser")

    @property
    def is_staff(self) -> bool:
        """Any organising role, cluster partners included."""
        return self.role is not None

    def covers_cluster(self, cluster_id: int | None) -> bool:
        return self.is_organiser or (self.role == "cluster_partner" and cluster_id == self.cluster_id)


async def access_for(db: AsyncSession, event: Event, user: User | None) -> Access:
    """Return the caller's role in ``event`` (platform admins act as owners)."""
    if user is None:
        return Access(None)
    if user.is_admin:
        return Access("owner")
    role = await db.scalar(
        select(EventRole).where(EventRole.event_id == event.id, EventRole.user_id == user.id)
    )
    if role is None:
        return Access(None)
    return Access(role.role, role.cluster_id)


def _need_user(user: User | None) -> User:
    if user is None:
        raise NotAuthenticated()
    return user


async def require_staff(db: AsyncSession, event: Event, user: User | None) -> Access:
    """Any organising role (cluster partners included), else 401/403."""
    access = await access_for(db, event, _need_user(user))
    if not access.is_staff:
        raise PermissionDenied("Only the event's organisers may do that.")
    return access


async def require_organiser(db: AsyncSession, event: Event, user: User | None) -> Access:
    """Owner or organiser of the whole event, else 401/403."""
    access = await access_for(db, event, _need_user(user))
    if not access.is_organiser:
        raise PermissionDenied("Only the event's owner and organisers may do that.")
    return access


async def require_owner(db: AsyncSession, event: Event, user: User | None) -> Access:
    access = await access_for(db, event, _need_user(user))
    if access.role != "owner":
        raise PermissionDenied("Only the event's owner may do that.")
    return access


async def require_cluster(
    db: AsyncSession, event: Event, user: User | None, cluster_id: int | None
) -> Access:
    """Staff whose scope covers ``cluster_id`` (a partner only their own cluster)."""
    access = await require_staff(db, event, user)
    if not access.covers_cluster(cluster_id):
        raise PermissionDenied("Cluster partners manage the participants of their own cluster only.")
    return access
