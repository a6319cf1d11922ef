"""``among``: a column among a list of ids given as one parameter, on either database."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from clockevents.accounts.models import User
from clockevents.db import among


async def test_among_selects_exactly_the_listed_ids_and_updates_only_them(db: AsyncSession) -> None:
    users = [User(email=f"u{i}@example.org", name=f"User {i}", password_hash="!") for i in range(4)]
    db.add_all(users)
    await db.flush()
    ids = [u.id for u in users]
    dialect = db.bind.dialect.name
    wanted = [ids[3], ids[0], 10_000_000]  # any order; an id that does not exist matches nothing

    found = await db.scalars(select(User.id).where(among(User.id, wanted, dialect)))
    assert sorted(found) == sorted([ids[0], ids[3]])
    assert list(await db.scalars(select(User.id).where(among(User.id, [], dialect)))) == []

    await db.execute(update(User).where(among(User.id, ids[1:3], dialect)).values(name="renamed"))
    names = dict((await db.execute(select(User.id, User.name).where(User.id.in_(ids)))).all())
    assert names == {ids[0]: "User 0", ids[1]: "renamed", ids[2]: "renamed", ids[3]: "User 3"}
