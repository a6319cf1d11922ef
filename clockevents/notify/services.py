"""In-app notifications: write one for a user, list them, mark them read."""

from __future__ import annotations

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from clockevents.accounts.models import User
from clockevents.db import utcnow
from clockevents.errors import NotAuthenticated, NotFound
from clockevents.notify.models import Notification

TEXT_MAX = 500


async def notify(
    db: AsyncSession, user_id: int | None, event_id: int | None, kind: str, text: str, url: str = ""
) -> Notification | None:
    """Queue an in-app message for ``user_id`` in the caller's transaction (nothing if no user).

    It is written with the change that caused it, so a rolled-back change leaves no notice behind.
    """
    if user_id is None:
        return None
    notification = Notification(
        user_id=user_id, event_id=event_id, kind=kind, text=text[:TEXT_MAX], url=url[:300]
    )
    db.add(notification)
    await db.flush()
    return notification


def _need_user(user: User | None) -> User:
    if user is None:
        raise NotAuthenticated()
    return user


async def list_notifications(
    db: AsyncSession, user: User | None, *, unread_only: bool = False, limit: int = 100
) -> list[Notification]:
    """The caller's notifications, newest first."""
    user = _need_user(user)
    query = select(Notification).where(Notification.user_id == user.id)
    if unread_only:
        query = query.where(Notification.read_at.is_(None))
    result = await db.scalars(
        query.order_by(Notification.created_at.desc(), Notification.id.desc()).limit(limit)
    )
    return list(result)


async def unread_count(db: AsyncSession, user: User | None) -> int:
    user = _need_user(user)
    count = await db.scalar(
        select(func.count())
        .select_from(Notification)
        .where(Notification.user_id == user.id, Notification.read_at.is_(None))
    )
    return count or 0


async def mark_read(db: AsyncSession, user: User | None, notification_id: int | None = None) -> int:
    """Mark one notification (or, without an id, all of them) read; return how many changed.

    Another user's notification is reported as not found, so ids reveal nothing.
    """
    user = _need_user(user)
    query = update(Notification).where(Notification.user_id == user.id, Notification.read_at.is_(None))
    if notification_id is not None:
        exists = await db.scalar(
            select(Notification.id).where(Notification.id == notification_id, Notification.user_id == user.id)
        )
        if exists is None:
            raise NotFound("No such notification.")
        query = query.where(Notification.id == notification_id)
    result = await db.execute(query.values(read_at=utcnow()).execution_options(synchronize_session=False))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
