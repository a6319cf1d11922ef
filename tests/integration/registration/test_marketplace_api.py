"""Marketplace opportunities and organisations over the API."""

from __future__ import annotations

from typing import Any

from litestar.testing import AsyncTestClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from clockevents.registration.models import Participant
from tests.factories.accounts import make_user
from tests.factories.events import make_event
from tests.factories.registration import make_opportunity, make_organisation, make_participant
from tests.helpers import api_token, bearer


async def setup(db: AsyncSession, client: AsyncTestClient[Any], **event_kw: Any) -> tuple[Any, Any, str]:
    owner = await make_user(db)
    event = await make_event(db, owner, **event_kw)
    user = await make_user(db, name="Carla Bianchi")
    token = await api_token(client, user.email)
    return event, user, token


async def test_opportunity_lifecycle(db: AsyncSession, client: AsyncTestClient[Any]) -> None:
    event, user, token = await setup(db, client)
    mine = await make_participant(db, event, user=user)
    url = f"/api/v1/events/{event.slug}/opportunities"
    created = await client.post(
        url, json={"kind": "offer", "title": "Laser cutting", "keywords": ["laser"]}, headers=bearer(token)
    )
    assert created.status_code == 201, created.text
    item = created.json()
    assert (item["participant_id"], item["title"]) == (mine.id, "Laser cutting")
    changed = await client.patch(f"{url}/{item['id']}", json={"title": "Waterjet"}, headers=bearer(token))
    assert changed.status_code == 200
    assert (changed.json()["title"], changed.json()["kind"]) == ("Waterjet", "offer")
    await db.refresh(mine)
    assert "waterjet" in mine.search_text
    assert (await client.delete(f"{url}/{item['id']}", headers=bearer(token))).status_code == 204
    assert (await client.delete(f"{url}/{item['id']}", headers=bearer(token))).status_code == 404


async def test_opportunity_bad_fields_are_400(db: AsyncSession, client: AsyncTestClient[Any]) -> None:
    event, user, token = await setup(db, client)
    await make_participant(db, event, user=user)
    response = await client.post(
        f"/api/v1/events/{event.slug}/opportunities",
        json={"kind": "gift", "title": ""},
        headers=bearer(token),
    )
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"kind", "title"}


async def test_opportunity_without_registration_is_403(
    db: AsyncSession, client: AsyncTestClient[Any]
) -> None:
    event, _, token = await setup(db, client)
    response = await client.post(
        f"/api/v1/events/{event.slug}/opportunities",
        json={"kind": "offer", "title": "X"},
        headers=bearer(token),
    )
    assert response.status_code == 403


async def test_opportunity_of_another_is_403(db: AsyncSession, client: AsyncTestClient[Any]) -> None:
    event, user, token = await setup(db, client)
    await make_participant(db, event, user=user)
    other = await make_participant(db, event)
    item = await make_opportunity(db, other)
    url = f"/api/v1/events/{event.slug}/opportunities/{item.id}"
    assert (await client.patch(url, json={"title": "Mine now"}, headers=bearer(token))).status_code == 403
    assert (await client.delete(url, headers=bearer(token))).status_code == 403
    assert (await client.delete(url)).status_code == 401


async def test_organisation_get_and_patch(db: AsyncSession, client: AsyncTestClient[Any]) -> None:
    event, user, token = await setup(db, client)
    mine = await make_participant(db, event, user=user)
    await make_participant(db, event, organisation=mine.organisation, listed=False)
    url = f"/api/v1/organisations/{mine.organisation_id}"
    page = await client.get(url, headers=bearer(token))
    assert page.status_code == 200
    assert page.json()["can_edit"] is True
    assert [m["name"] for m in page.json()["members"]] == ["Carla Bianchi"]
    changed = await client.patch(
        url, json={"city": "Lucca", "website": "http://lucca.example"}, headers=bearer(token)
    )
    assert changed.status_code == 200
    assert (changed.json()["city"], changed.json()["name"]) == ("Lucca", mine.organisation.name)
    bad = await client.patch(url, json={"country": "Italy", "kind": "x"}, headers=bearer(token))
    assert bad.status_code == 400
    assert set(bad.json()["errors"]) == {"country", "kind"}


async def test_organisation_patch_by_outsider_is_403(db: AsyncSession, client: AsyncTestClient[Any]) -> None:
    event, _, token = await setup(db, client)
    other = await make_participant(db, event)
    url = f"/api/v1/organisations/{other.organisation_id}"
    assert (await client.patch(url, json={"city": "X"}, headers=bearer(token))).status_code == 403
    assert (await client.get("/api/v1/organisations/9999", headers=bearer(token))).status_code == 404
    assert (await client.get(url)).status_code == 401


async def test_search_organisations_by_name(db: AsyncSession, client: AsyncTestClient[Any]) -> None:
    event, _, token = await setup(db, client)
    await make_participant(db, event, organisation=None)
    await make_organisation(db, name="Nautica 100%")
    await make_organisation(db, name="Stone Works")
    await db.commit()
    response = await client.get("/api/v1/organisations", params={"q": "100%"}, headers=bearer(token))
    assert [o["name"] for o in response.json()] == ["Nautica 100%"]
    assert await db.scalar(select(func.count()).select_from(Participant)) == 1


async def test_opportunity_unknown_event_is_404(db: AsyncSession, client: AsyncTestClient[Any]) -> None:
    _, _, token = await setup(db, client)
    response = await client.post(
        "/api/v1/events/nope/opportunities", json={"kind": "offer", "title": "X"}, headers=bearer(token)
    )
    assert response.status_code == 404


async def test_patch_opportunity_bad_fields_are_400(db: AsyncSession, client: AsyncTestClient[Any]) -> None:
    event, user, token = await setup(db, client)
    item = await make_opportunity(db, await make_participant(db, event, user=user))
    response = await client.patch(
        f"/api/v1/events/{event.slug}/opportunities/{item.id}",
        json={"kind": "gift", "title": " ", "keywords": [f"k{i}" for i in range(25)]},
        headers=bearer(token),
    )
    assert response.status_code == 400
    assert response.json()["errors"] == {
        "kind": "Choose one of: offer, request, partnership, investment.",
        "title": "Give the opportunity a title.",
        "keywords": "Give at most 20.",
    }
