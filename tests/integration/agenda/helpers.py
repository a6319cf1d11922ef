"""Shared set-up for the agenda API and page tests."""

from __future__ import annotations

import asyncio
from datetime import date, time
from typing import Any

from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession

from tests.factories.accounts import make_user
from tests.factories.agenda import make_request
from tests.factories.events import make_event
from tests.factories.registration import make_organisation, make_participant

SESSIONS = ((time(9, 0), time(10, 0)), (time(14, 0), time(15, 0)))  # four slots
DAY = date(2027, 1, 12)  # winter: Europe/Rome is UTC+01:00


async def wait_done(client: AsyncTestClient[Any], run_id: int, headers: dict[str, str]) -> dict[str, Any]:
    """Poll the run until it leaves queued/running (at most 30 s)."""
    for _ in range(150):
        body = (await client.get(f"/api/v1/schedule-runs/{run_id}", headers=headers)).json()
        if body["status"] not in ("queued", "running"):
            return body
        await asyncio.sleep(0.2)
    raise AssertionError(f"run {run_id} still {body['status']} after 30 s")


async def seed_pair(db: AsyncSession) -> tuple[Any, Any, Any, Any]:
    owner = await make_user(db)
    event = await make_event(db, owner, session_times=SESSIONS, starts_on=DAY)
    ada = await make_participant(
        db,
        event,
        user=await make_user(db, name="Ada Rossi"),
        organisation=await make_organisation(db, name="Acme Srl"),
    )
    bruno = await make_participant(
        db,
        event,
        user=await make_user(db, name="Bruno Neri"),
        organisation=await make_organisation(db, name="Nautica Spa"),
    )
    ada.unavailable_slots = [1, 2, 3]  # they can only meet in slot 0
    await db.commit()
    await make_request(db, ada, bruno, priority=2)
    return owner, event, ada, bruno
