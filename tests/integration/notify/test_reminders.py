"""Reminders before meetings: lead time per format or per event, and exactly once across runners."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import replace
from datetime import timedelta

import pytest
from redis import asyncio as aioredis
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from clockevents.db import create_engine, create_session_factory, utcnow
from clockevents.notify.jobs import JobRunner, set_reminder_minutes
from clockevents.notify.mail_models import OutboundMail
from clockevents.settings import Settings
from tests.integration.notify.conftest import Scene, SmtpServer, move_slot

REDIS_URL = "redis://127.0.0.1:6379/0"


async def reminder_keys(db: AsyncSession) -> list[str]:
    rows = await db.scalars(
        select(OutboundMail.dedupe_key).where(OutboundMail.kind == "reminders").order_by(OutboundMail.id)
    )
    return sorted(k or "" for k in rows)


def expected_keys(scene: Scene) -> list[str]:
    m = scene.meeting
    return sorted(f"reminder:meeting:{m.id}:seq:{m.sequence}:participant:{p.id}" for p in (scene.a, scene.b))


async def test_reminder_virtual_event_goes_five_minutes_before(
    db: AsyncSession, scene: Scene, settings: Settings, factory: async_sessionmaker[AsyncSession]
) -> None:
    await move_slot(db, scene.slot, 10)
    runner = JobRunner(settings, factory)

    early = await runner.tick()
    assert (early.reminders, await reminder_keys(db)) == (0, [])

    due = await runner.tick(utcnow() + timedelta(minutes=5, seconds=30))
    assert (due.reminders, await reminder_keys(db)) == (2, expected_keys(scene))


async def test_reminder_in_person_event_goes_fifteen_minutes_before(
    db: AsyncSession, scene: Scene, settings: Settings, factory: async_sessionmaker[AsyncSession]
) -> None:
    scene.event.format = "in_person"
    await move_slot(db, scene.slot, 16)
    runner = JobRunner(settings, factory)

    assert (await runner.tick()).reminders == 0
    assert (await runner.tick(utcnow() + timedelta(minutes=1, seconds=30))).reminders == 2


async def test_reminder_event_setting_overrides_default(
    db: AsyncSession, scene: Scene, settings: Settings, factory: async_sessionmaker[AsyncSession]
) -> None:
    assert await set_reminder_minutes(db, scene.event, 15) == 15
    await move_slot(db, scene.slot, 14)

    result = await JobRunner(settings, factory).tick()

    assert (result.reminders, await reminder_keys(db)) == (2, expected_keys(scene))


async def test_reminder_setting_rejects_bad_minutes(db: AsyncSession, scene: Scene) -> None:
    from clockevents.errors import ValidationFailed

    for bad in (0, -5, 10_000, "ten", True):
        with pytest.raises(ValidationFailed) as caught:
            await set_reminder_minutes(db, scene.event, bad)
        assert list(caught.value.fields) == ["reminder_minutes"]
    assert await set_reminder_minutes(db, scene.event, None) == 5


async def test_reminder_not_sent_for_started_or_cancelled_meeting(
    db: AsyncSession, scene: Scene, settings: Settings, factory: async_sessionmaker[AsyncSession]
) -> None:
    await move_slot(db, scene.slot, -1)
    assert (await JobRunner(settings, factory).tick()).reminders == 0
    await move_slot(db, scene.slot, 3)
    scene.meeting.status = "cancelled"
    await db.commit()
    assert (await JobRunner(settings, factory).tick()).reminders == 0


async def test_reminder_once_when_two_runners_tick_concurrently(
    db: AsyncSession, scene: Scene, smtp: SmtpServer, smtp_settings: Settings
) -> None:
    await move_slot(db, scene.slot, 3)
    engines = [create_engine(smtp_settings.database_url) for _ in range(2)]
    runners = [JobRunner(smtp_settings, create_session_factory(e)) for e in engines]
    try:
        for _ in range(3):  # again and again: the dedupe key holds on every later tick too
            results = await asyncio.gather(*(r.tick() for r in runners))
            assert [r.skipped for r in results] == [False, False]
    finally:
        for engine in engines:
            await engine.dispose()

    assert await reminder_keys(db) == expected_keys(scene)
    assert sorted(smtp.inbox.recipients) == sorted(
        [m.to for m in await db.scalars(select(OutboundMail).where(OutboundMail.status == "sent"))]
    )
    assert len(smtp.inbox.messages) == 2
    assert sorted(m["Subject"].split(" (")[0] for m in smtp.inbox.messages) == [
        "In 5 minutes: meeting with Anna Rossi",
        "In 5 minutes: meeting with Bruno Verdi",
    ]


async def test_reminder_once_with_redis_lock(
    db: AsyncSession, scene: Scene, smtp: SmtpServer, smtp_settings: Settings
) -> None:
    with_redis = replace(smtp_settings, redis_url=REDIS_URL)
    key = f"clockevents:test:{uuid.uuid4().hex}"
    await move_slot(db, scene.slot, 3)
    engines = [create_engine(with_redis.database_url) for _ in range(2)]
    runners = [JobRunner(with_redis, create_session_factory(e), interval=60, lock_key=key) for e in engines]
    try:
        results = await asyncio.gather(*(r.tick() for r in runners))
        again = await asyncio.gather(*(r.tick() for r in runners))
    finally:
        for runner in runners:
            await runner.stop()
        for engine in engines:
            await engine.dispose()
        client = aioredis.from_url(REDIS_URL)
        await client.delete(key)
        await client.aclose()

    assert sorted(r.skipped for r in results) == [False, True]
    assert [r.skipped for r in again] == [True, True]  # the lock lasts one interval
    assert sum(r.reminders for r in results) == 2
    assert await reminder_keys(db) == expected_keys(scene)
    assert len(smtp.inbox.messages) == 2
