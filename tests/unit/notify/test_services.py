from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from clockevents.errors import NotAuthenticated, NotFound
from clockevents.notify import services
from tests.factories.accounts import make_user


async def test_notify_list_and_mark_read(db: AsyncSession) -> None:
    ann, ben = await make_user(db), await make_user(db)
    first = await services.notify(db, ann.id, None, "request_received", "One", "/x")
    second = await services.notify(db, ann.id, None, "request_accepted", "Two")
    await services.notify(db, ben.id, None, "request_received", "Other")
    assert await services.notify(db, None, None, "request_received", "Nobody") is None
    await db.commit()
    assert first is not None and second is not None
    assert [n.text for n in await services.list_notifications(db, ann)] == ["Two", "One"]
    assert await services.unread_count(db, ann) == 2
    assert await services.mark_read(db, ann, first.id) == 1
    assert [n.text for n in await services.list_notifications(db, ann, unread_only=True)] == ["Two"]
    assert await services.mark_read(db, ann) == 1
    assert await services.unread_count(db, ann) == 0


async def test_mark_read_of_someone_elses_is_not_found(db: AsyncSession) -> None:
    ann, ben = await make_user(db), await make_user(db)
    note = await services.notify(db, ann.id, None, "k", "Mine")
    await db.commit()
    assert note is not None
    with pytest.raises(NotFound):
        await services.mark_read(db, ben, note.id)
    with pytest.raises(NotAuthenticated):
        await services.list_notifications(db, None)
