"""Workshops: the services and API (manage, register within capacity, refusals), the pages, and
the room over a real WebSocket (chat, questions, votes counted once, answered by the presenter
and organisers only, resume)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from clockevents.accounts.models import User
from clockevents.db import create_engine, create_session_factory
from clockevents.errors import Conflict, PermissionDenied, ValidationFailed
from clockevents.live import workshop_registration, workshop_room, workshops
from clockevents.live.models import WorkshopRegistration
from clockevents.settings import Settings
from tests.e2e.conftest import browser, live_server  # noqa: F401 - fixtures
from tests.factories.accounts import make_user
from tests.factories.registration import make_participant
from tests.helpers import bearer, form_post, login
from tests.integration.live.workshop_scene import Scene

BROWSER_MS = 20_000


async def test_create_reports_every_bad_field(client: AsyncTestClient[Litestar], scene: Scene) -> None:
    other = await client.post(
        f"/api/v1/events/{scene.event.slug}/workshops",
        json={"title": " ", "presenter_id": 999999, "slots": [1, 99, "x"], "capacity": 0, "description": 5},
        headers=bearer(scene.tokens["olga"]),
    )
    assert other.status_code == 400
    assert other.json()["errors"] == {
        "title": "Give the workshop a title.",
        "description": "Give the description as text.",
        "presenter_id": "The presenter must be a participant of this event.",
        "slots": "Give the slots as slot numbers of the event's grid.",
        "capacity": "Give the capacity as a number from 1 to 100000, or leave it empty.",
    }
    missing = await client.post(
        f"/api/v1/events/{scene.event.slug}/workshops",
        json={"title": "T", "presenter_id": scene.presenter.id, "slots": [2, 999]},
        headers=bearer(scene.tokens["olga"]),
    )
    assert (missing.status_code, missing.json()["errors"]) == (400, {"slots": "This event has no slot 999."})
    empty = await client.post(
        f"/api/v1/events/{scene.event.slug}/workshops", json={}, headers=bearer(scene.tokens["olga"])
    )
    assert set(empty.json()["errors"]) == {"title", "presenter_id", "slots"}


@pytest.mark.parametrize(
    "body",
    [
        {"title": ["x"], "presenter_id": True, "slots": {"a": 1}, "capacity": 1.5},
        {"title": "x" * 201, "presenter_id": 2**40, "slots": [-1], "capacity": -3},
        {"title": "ok", "presenter_id": "12abc", "slots": [True], "capacity": "many"},
        {"title": "ok", "presenter_id": None, "slots": "", "capacity": 10**12},
        {"title": "ok", "description": "b", "presenter_id": "", "slots": [None]},
    ],
)
async def test_odd_input_gets_400_with_field_messages(
    client: AsyncTestClient[Litestar], scene: Scene, body: dict[str, Any]
) -> None:
    response = await client.post(
        f"/api/v1/events/{scene.event.slug}/workshops", json=body, headers=bearer(scene.tokens["olga"])
    )
    assert response.status_code == 400, response.text
    assert set(response.json()["errors"]) >= {"presenter_id", "slots"}
    for url in ("/api/v1/workshops/99999999999", "/api/v1/workshops/0"):
        assert (await client.get(url)).status_code == 404
    huge = await client.post("/api/v1/workshops/99999999999/registration", headers=bearer(scene.tokens["cy"]))
    assert huge.status_code == 404


async def test_presenter_cannot_give_two_workshops_at_once(db: AsyncSession, scene: Scene) -> None:
    with pytest.raises(ValidationFailed) as caught:
        await workshops.create_workshop(
            db,
            scene.event,
            scene.organiser,
            {"title": "Again", "presenter_id": scene.presenter.id, "slots": [2, 3]},
        )
    assert caught.value.fields == {"presenter_id": "The presenter gives another workshop in slot 2."}
    with pytest.raises(ValidationFailed) as caught:
        await workshops.create_workshop(
            db,
            scene.event,
            scene.organiser,
            {"title": "Ada's", "presenter_id": scene.ada.id, "slots": [0, 1]},
        )
    assert caught.value.fields == {"presenter_id": "The presenter attends another workshop in slot 1."}
    # Made presenter of the workshop she attends, Ada gives up her seat in it.
    await workshops.update_workshop(
        db, scene.workshop_id, scene.organiser, {"title": "G", "presenter_id": scene.ada.id, "slots": [1, 2]}
    )
    view = await workshops.workshop_view(
        db, await workshops.get_workshop(db, scene.workshop_id), scene.ada_user
    )
    assert (view.registered, view.is_registered, view.is_presenter) == (1, False, True)


async def test_only_organisers_manage_workshops(client: AsyncTestClient[Litestar], scene: Scene) -> None:
    body = {"title": "Mine", "presenter_id": scene.ada.id, "slots": [4]}
    url = f"/api/v1/events/{scene.event.slug}/workshops"
    assert (await client.post(url, json=body, headers=bearer(scene.tokens["ada"]))).status_code == 403
    assert (await client.post(url, json=body)).status_code == 401
    patch = await client.patch(
        f"/api/v1/workshops/{scene.workshop_id}", json=body, headers=bearer(scene.tokens["ada"])
    )
    assert patch.status_code == 403
    gone = await client.delete(f"/api/v1/workshops/{scene.workshop_id}", headers=bearer(scene.tokens["bo"]))
    assert gone.status_code == 403


async def test_create_list_edit_delete_through_the_api(
    client: AsyncTestClient[Litestar], scene: Scene
) -> None:
    olga = bearer(scene.tokens["olga"])
    created = await client.post(
        f"/api/v1/events/{scene.event.slug}/workshops",
        json={
            "title": "  Smart   rail ",
            "presenter_id": scene.cy.id,
            "slots": ["5", 4],
            "description": "How.",
        },
        headers=olga,
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert (body["title"], body["description"], body["capacity"], body["registered"]) == (
        "Smart rail",
        "How.",
        None,
        0,
    )
    assert [s["index"] for s in body["slots"]] == [4, 5]
    assert body["presenter"] == {
        "participant_id": scene.cy.id,
        "name": "Cy Diaz",
        "organisation": body["presenter"]["organisation"],
    }
    listed = await client.get(
        f"/api/v1/events/{scene.event.slug}/workshops", headers=bearer(scene.tokens["ada"])
    )
    assert [(w["title"], w["registered"], w["places_left"], w["is_registered"]) for w in listed.json()] == [
        ("Graphene in coatings", 2, 0, True),
        ("Smart rail", 0, None, False),
    ]
    lower = await client.patch(
        f"/api/v1/workshops/{scene.workshop_id}",
        json={"title": "Graphene", "presenter_id": scene.presenter.id, "slots": [1], "capacity": 1},
        headers=olga,
    )
    assert (lower.status_code, lower.json()["errors"]) == (
        400,
        {"capacity": "2 people are already registered: the capacity cannot be lower."},
    )
    edited = await client.patch(
        f"/api/v1/workshops/{scene.workshop_id}",
        json={"title": "Graphene", "presenter_id": scene.presenter.id, "slots": [1], "capacity": 3},
        headers=olga,
    )
    assert edited.status_code == 200, edited.text
    assert ([s["index"] for s in edited.json()["slots"]], edited.json()["places_left"]) == ([1], 1)
    assert (await client.delete(f"/api/v1/workshops/{body['id']}", headers=olga)).status_code == 204
    listed = await client.get(f"/api/v1/events/{scene.event.slug}/workshops")
    assert [w["title"] for w in listed.json()] == ["Graphene"]
    assert (await client.get(f"/api/v1/workshops/{body['id']}")).status_code == 404


async def test_registration_respects_capacity_and_refusals(
    client: AsyncTestClient[Litestar], db: AsyncSession, scene: Scene
) -> None:
    url = f"/api/v1/workshops/{scene.workshop_id}/registration"
    full = await client.post(url, headers=bearer(scene.tokens["cy"]))
    assert (full.status_code, full.json()["detail"]) == (409, "This workshop is full.")
    presenter = await client.post(url, headers=bearer(scene.tokens["pia"]))
    assert (presenter.status_code, presenter.json()["detail"]) == (
        409,
        "You present this workshop: you need no registration.",
    )
    outsider = await client.post(url, headers=bearer(scene.tokens["outsider"]))
    assert outsider.status_code == 403
    assert (await client.post(url)).status_code == 401
    assert (
        await client.post("/api/v1/workshops/999999/registration", headers=bearer(scene.tokens["cy"]))
    ).status_code == 404

    again = await client.post(url, headers=bearer(scene.tokens["ada"]))  # registered already: no change
    assert (again.status_code, again.json()["registered"], again.json()["is_registered"]) == (200, 2, True)
    left = await client.delete(url, headers=bearer(scene.tokens["bo"]))
    assert (left.status_code, left.json()["registered"], left.json()["is_registered"]) == (200, 1, False)
    joined = await client.post(url, headers=bearer(scene.tokens["cy"]))
    assert (joined.status_code, joined.json()["registered"], joined.json()["places_left"]) == (200, 2, 0)
    count = await db.scalar(select(func.count()).where(WorkshopRegistration.workshop_id == scene.workshop_id))
    assert count == 2


async def test_registration_refused_for_a_clashing_workshop(db: AsyncSession, scene: Scene) -> None:
    other = await workshops.create_workshop(
        db, scene.event, scene.organiser, {"title": "Nautical", "presenter_id": scene.cy.id, "slots": [2]}
    )
    with pytest.raises(Conflict) as caught:
        await workshop_registration.register(db, other.id, scene.ada_user)
    assert caught.value.message == "You are already in the workshop “Graphene in coatings” at the same time."
    with pytest.raises(PermissionDenied):
        await workshop_room.workshop_access(db, scene.cy_user, scene.workshop_id)


async def test_concurrent_registrations_for_the_last_place_let_one_in(
    db: AsyncSession, scene: Scene, settings: Settings
) -> None:
    await workshop_registration.unregister(db, scene.workshop_id, scene.bo_user)
    dan_user = await make_user(db, name="Dan")
    await make_participant(db, scene.event, user=dan_user)
    await db.commit()
    engine = create_engine(settings.database_url)
    factory = create_session_factory(engine)

    async def attempt(user: User) -> str:
        async with factory() as session:
            try:
                await workshop_registration.register(session, scene.workshop_id, user)
                await session.commit()
            except Conflict as exc:
                await session.rollback()
                return exc.message
            return "ok"

    try:
        results = await asyncio.gather(*(attempt(u) for u in (scene.bo_user, scene.cy_user, dan_user)))
    finally:
        await engine.dispose()
    assert sorted(results) == ["This workshop is full.", "This workshop is full.", "ok"]
    await db.commit()
    count = await db.scalar(select(func.count()).where(WorkshopRegistration.workshop_id == scene.workshop_id))
    assert count == 2


# pages --------------------------------------------------------------------------------------


async def test_admin_page_lists_and_creates(client: AsyncTestClient[Litestar], scene: Scene) -> None:
    await login(client, "olga@example.org")
    page = await client.get(f"/events/{scene.event.slug}/admin/workshops")
    assert page.status_code == 200
    assert "Graphene in coatings" in page.text and 'aria-current="page">Workshops<' in page.text
    bad = await form_post(
        client,
        f"/events/{scene.event.slug}/admin/workshops",
        {"title": "No slots", "presenter_id": str(scene.cy.id)},
    )
    assert bad.status_code == 400
    assert '<p class="error" id="e-slots">Choose one or more slots of the event.</p>' in bad.text
    made = await form_post(
        client,
        f"/events/{scene.event.slug}/admin/workshops",
        [
            ("title", "Stone"),
            ("presenter_id", str(scene.cy.id)),
            ("slots", "6"),
            ("slots", "7"),
            ("capacity", ""),
        ],
    )
    assert made.status_code in (302, 303)
    listed = await client.get(f"/api/v1/events/{scene.event.slug}/workshops")
    assert [(w["title"], [s["index"] for s in w["slots"]]) for w in listed.json()] == [
        ("Graphene in coatings", [1, 2]),
        ("Stone", [6, 7]),
    ]


async def test_participant_page_registers_and_withdraws(
    client: AsyncTestClient[Litestar], scene: Scene
) -> None:
    await login(client, "bo@example.org")
    page = await client.get(f"/events/{scene.event.slug}/workshops")
    assert page.status_code == 200 and "Withdraw from Graphene in coatings" in page.text
    out = await form_post(client, f"/workshops/{scene.workshop_id}/unregister", {})
    assert out.status_code in (302, 303)
    page = await client.get(f"/events/{scene.event.slug}/workshops")
    assert "Register for Graphene in coatings" in page.text and "1 places left" in page.text
    back = await form_post(client, f"/workshops/{scene.workshop_id}/register", {})
    assert back.status_code in (302, 303)
    assert (await client.get(f"/workshops/{scene.workshop_id}/room")).status_code == 200


async def test_full_workshop_page_says_why(client: AsyncTestClient[Litestar], scene: Scene) -> None:
    await login(client, "cy@example.org")
    refused = await form_post(client, f"/workshops/{scene.workshop_id}/register", {})
    assert refused.status_code == 409 and "This workshop is full." in refused.text
    assert (await client.get(f"/workshops/{scene.workshop_id}/room")).status_code == 403


# the room -----------------------------------------------------------------------------------
