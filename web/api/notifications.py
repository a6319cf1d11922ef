"""Notifications API: the caller's in-app notifications, and marking them read."""

from __future__ import annotations

import msgspec
from litestar import get, post
from litestar.status_codes import HTTP_200_OK
from sqlalchemy.ext.asyncio import AsyncSession

from clockevents.accounts.models import User
from clockevents.notify import services
from web.auth import requires_login

TAGS = ["notifications"]


class NotificationOut(msgspec.Struct):
    id: int
    kind: str
    text: str
    url: str
    event_id: int | None
    created_at: str
    read_at: str | None


class MarkedOut(msgspec.Struct):
    marked: int


@get("/notifications", operation_id="listNotifications", tags=TAGS, guards=[requires_login])
async def list_notifications(db: AsyncSession, user: User, unread: bool = False) -> list[NotificationOut]:
    """The caller's notifications, newest first (``unread=true`` for unread ones only)."""
    notes = await services.list_notifications(db, user, unread_only=unread)
    return [
        NotificationOut(
            id=n.id,
            kind=n.kind,
            text=n.text,
            url=n.url,
            event_id=n.event_id,
            created_at=n.created_at.isoformat(),
            read_at=n.read_at.isoformat() if n.read_at else None,
        )
        for n in notes
    ]


@post(
    "/notifications/{notification_id:int}/read",
    operation_id="markNotificationRead",
    tags=TAGS,
    guards=[requires_login],
    status_code=HTTP_200_OK,
)
async def mark_read(notification_id: int, db: AsyncSession, user: User) -> MarkedOut:
    """Mark one notification read."""
    return MarkedOut(marked=await services.mark_read(db, user, notification_id))


@post(
    "/notifications/read-all",
    operation_id="markAllNotificationsRead",
    tags=TAGS,
    guards=[requires_login],
    status_code=HTTP_200_OK,
)
async def mark_all_read(db: AsyncSession, user: User) -> MarkedOut:
    """Mark every notification read."""
    return MarkedOut(marked=await services.mark_read(db, user))


routes = [list_notifications, mark_read, mark_all_read]
