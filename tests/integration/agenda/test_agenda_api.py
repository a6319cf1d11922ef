from __future__ import annotations

from typing import Any

from litestar.testing import AsyncTestClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from clockevents.agenda import runs
from clockevents.agenda.models import Meeting
from tests.factories.accounts import make_user
from tests.helpers import api_token, bearer
from tests.integration.agenda.helpers import seed_pair, wait_done


async def test_build_and_publish_via_api_gives_participants_their_meeting(
    client: AsyncTestClient[Any], db: AsyncSession
) -> None:
    owner, event, ada, bruno = await seed_pair(db)
    organiser = bearer(await api_token(client, owner.email))

    started = await client.post(
        f"/api/v1/events/{event.slug}/schedule-runs", json={"time_limit": 2}, headers=organiser
    )
    assert started.status_code == 201, started.text
    assert started.json()["status"] == "queued"
    run = await wait_done(client, started.json()["id"], organiser)
    assert run["status"] == "done", run["error"]
    assert run["statistics"]["placed_meetings"] == 1
    assert run["statistics"]["unplaced"] == []
    assert run["changes"]["summary"] == {
        "added": 1,
        "moved": 0,
        "removed": 0,
        "unchanged": 0,
        "participants_changed": 2,
    }
    assert [(m["change"], m["a"], m["b"]) for m in run["changes"]["meetings"]] == [
        ("added", "Ada Rossi (Acme Srl)", "Bruno Neri (Nautica Spa)")
    ]

    published = await client.post(f"/api/v1/schedule-runs/{run['id']}/publish", headers=organiser)
    assert published.status_code == 200, published.text
    assert published.json()["status"] == "published"

    ada_user = await db.get(type(owner), ada.user_id)
    listing = await client.get(
        f"/api/v1/events/{event.slug}/meetings", headers=bearer(await api_token(client, ada_user.email))
    )
    assert listing.status_code == 200
    [meeting] = listing.json()
    assert meeting["partner"] == {
        "participant_id": bruno.id,
        "name": "Bruno Neri",
        "organisation": "Nautica Spa",
    }
    assert meeting["status"] == "scheduled"
    assert meeting["table"] == 1
    assert meeting["slot"] == 0
    assert meeting["timezone"] == "Europe/Rome"
    assert meeting["starts_at"] == "2027-01-12T09:00:00+01:00"
    assert meeting["ends_at"] == "2027-01-12T09:20:00+01:00"
    assert meeting["starts_at_utc"] == "2027-01-12T08:00:00+00:00"
    assert meeting["ends_at_utc"] == "2027-01-12T08:20:00+00:00"
    everyone = await client.get(f"/api/v1/events/{event.slug}/meetings", headers=organiser)
    assert [m["partner"] for m in everyone.json()] == [None]


async def test_schedule_run_routes_refuse_participants_and_strangers(
    client: AsyncTestClient[Any], db: AsyncSession
) -> None:
    owner, event, ada, _ = await seed_pair(db)
    organiser = bearer(await api_token(client, owner.email))
    ada_user = await db.get(type(owner), ada.user_id)
    participant = bearer(await api_token(client, ada_user.email))
    stranger = bearer(await api_token(client, (await make_user(db)).email))
    started = await client.post(
        f"/api/v1/events/{event.slug}/schedule-runs", json={"time_limit": 2}, headers=organiser
    )
    run_id = started.json()["id"]

    url = f"/api/v1/events/{event.slug}/schedule-runs"
    assert (await client.post(url, json={}, headers=participant)).status_code == 403
    assert (await client.post(url, json={})).status_code == 401
    assert (await client.get(f"/api/v1/schedule-runs/{run_id}", headers=participant)).status_code == 403
    assert (
        await client.post(f"/api/v1/schedule-runs/{run_id}/publish", headers=participant)
    ).status_code == 403
    assert (
        await client.post(f"/api/v1/schedule-runs/{run_id}/cancel", headers=participant)
    ).status_code == 403
    assert (await client.get(f"/api/v1/events/{event.slug}/meetings", headers=stranger)).status_code == 403
    assert (
        await client.post("/api/v1/events/nope/schedule-runs", json={}, headers=organiser)
    ).status_code == 404
    assert (await client.get("/api/v1/schedule-runs/999999", headers=organiser)).status_code == 404
    await wait_done(client, run_id, organiser)


async def test_start_schedule_run_bad_body_gives_message_per_field(
    client: AsyncTestClient[Any], db: AsyncSession
) -> None:
    owner, event, _, _ = await seed_pair(db)
    organiser = bearer(await api_token(client, owner.email))
    url = f"/api/v1/events/{event.slug}/schedule-runs"

    bad = await client.post(
        url, json={"time_limit": 0, "break_spread": -2, "free": [424242]}, headers=organiser
    )
    assert bad.status_code == 400
    assert set(bad.json()["errors"]) == {"time_limit", "break_spread", "free"}
    wrong_type = await client.post(url, json={"time_limit": "soon"}, headers=organiser)
    assert wrong_type.status_code == 400
    unknown_free = await client.post(url, json={"free": [424242]}, headers=organiser)
    assert unknown_free.status_code == 400
    assert set(unknown_free.json()["errors"]) == {"free"}


async def test_second_run_while_one_is_active_is_409_and_cancel_stops_it(
    client: AsyncTestClient[Any], db: AsyncSession
) -> None:
    owner, event, _, _ = await seed_pair(db)
    organiser = bearer(await api_token(client, owner.email))
    url = f"/api/v1/events/{event.slug}/schedule-runs"
    # Hold the solver seat so the run waits, as behind another event's build.
    assert runs.SOLVES.acquire(timeout=30)
    try:
        first = await client.post(url, json={"time_limit": 30}, headers=organiser)
        assert first.status_code == 201
        second = await client.post(url, json={"time_limit": 2}, headers=organiser)
        assert second.status_code == 409
        cancelled = await client.post(f"/api/v1/schedule-runs/{first.json()['id']}/cancel", headers=organiser)
    finally:
        runs.SOLVES.release()
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled"
    assert (await wait_done(client, first.json()["id"], organiser))["status"] == "cancelled"
    again = await client.post(f"/api/v1/schedule-runs/{first.json()['id']}/publish", headers=organiser)
    assert again.status_code == 409
    assert await db.scalar(select(func.count()).select_from(Meeting)) == 0
