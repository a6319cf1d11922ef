"""Real users made through the accounts service (no mocks)."""

from __future__ import annotations

import itertools

from sqlalchemy.ext.asyncio import AsyncSession

from clockevents.accounts import services
from clockevents.accounts.models import User

PASSWORD = "correct-horse-battery"
_counter = itertools.count(1)


async def make_user(
    db: AsyncSession,
    *,
    email: str | None = None,
    name: str | None = None,
    is_admin: bool = False,
    password: str = PASSWORD,
) -> User:
    n = next(_counter)
    user = await services.create_user(
        db,
        email=email or f"user{n}@example.org",
        password=password,
        name=name or f"User {n}",
        is_admin=is_admin,
    )
    await db.commit()
    return user
