"""Requests racing in separate sessions: the pair rule and the caps hold under concurrency."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from clockevents.accounts.models import User
from clockevents.db import create_engine, create_session_factory
from clockevents.errors import Conflict
from clockevents.events.models import Event
from clockevents.matchmaking import services
from clockevents.matchmaking.models import MeetingRequest
from clockevents.settings import Settings
from tests.factories.accounts import make_user
from tests.factories.matchmaking import set_matchmaking
from tests.factories.registration import make_participant
from tests.unit.matchmaking.conftest import World


async def _race(settings: Settings, event_id: int, attempts: list[tuple[User, dict[str, Any]]]) -> list[str]:
    """Send every request at once, each in its own session; return "ok" or "conflict" for each."""
    engine = create_engine(settings.database_url)
    factory = create_session_factory(engine)

    async def attempt(user: User, body: dict[str, Any]) -> str:
        async with factory() as session:
            event = await session.get(Event, event_id)
            assert event is not None
            try:
                await services.send_request(session, event, user, body)
                await session.commit()
            except Conflict:
                await session.rollback()
                return "conflict"
            return "ok"

    try:
        return list(await asyncio.gather(*(attempt(u, b) for u, b in attempts)))
    finally:
        await engine.dispose()


async def _open_requests(db: AsyncSession) -> int:
    await db.commit()
    count = await db.scalar(
        select(func.count())
        .select_from(MeetingRequest)
        .where(MeetingRequest.status.in_(("pending", "accepted")))
    )
    return count or 0


async def test_concurrent_requests_between_one_pair_leave_one_open(
    db: AsyncSession, world: World, settings: Settings
) -> None:
    attempts = [
        (world.alice_user, {"to": world.bob.id}) if i % 2 else (world.bob_user, {"to": world.alice.id})
        for i in range(10)
    ]
    outcomes = await _race(settings, world.event.id, attempts)
    assert (outcomes.count("ok"), outcomes.count("conflict"), await _open_requests(db)) == (1, 9, 1)


async def test_concurrent_requests_respect_the_received_cap(
    db: AsyncSession, world: World, settings: Settings
) -> None:
    await set_matchmaking(db, world.event, max_received=2)
    senders = []
    for _ in range(10):
        user = await make_user(db)
        await make_participant(db, world.event, user=user)
        senders.append(user)
    outcomes = await _race(settings, world.event.id, [(u, {"to": world.bob.id}) for u in senders])
    assert (outcomes.count("ok"), outcomes.count("conflict"), await _open_requests(db)) == (2, 8, 2)
