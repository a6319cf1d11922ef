from __future__ import annotations

from datetime import timedelta
from typing import Any

from litestar.testing import AsyncTestClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from clockevents.db import utcnow
from clockevents.registration.models import Organisation
from tests.factories.accounts import make_user
from tests.factories.events import add_role, make_event
from tests.factories.registration import make_opportunity, make_participant
from tests.helpers import api_token, bearer, json_post, login


def body(cluster_id: int, **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "organisation": {
            "name": "Marble & Co",
            "kind": "business",
            "country": "IT",
            "city": "Carrara",
            "website": "https://marble.example",
            "size": "10-49",
        },
        "cluster_id": cluster_id,
        "participant_type": "business",
        "job_title": "Sales lead",
        "pitch": "Marble for yachts.",
        "keywords": ["marble"],
        "sectors": ["stone"],
        "languages": ["it", "en"],
        "timezone": "Europe/Rome",
        "unavailable_slots": [0],
        "listed": True,
    }
    data.update(overrides)
    return data


async def setup(db: AsyncSession, client: AsyncTestClient[Any], **event_kw: Any) -> tuple[Any, Any, str]:
    owner = await make_user(db)
    event = await make_event(db, owner, **event_kw)
    user = await make_user(db, name="Carla Bianchi")
    token = await api_token(client, user.email)
    return event, user, token


async def test_register_api_creates_participant_201(db: AsyncSession, client: AsyncTestClient[Any]) -> None:
    event, _, token = await setup(db, client)
    response = await client.post(
        f"/api/v1/events/{event.slug}/participants", json=body(event.clusters[0].id), headers=bearer(token)
    )
    assert response.status_code == 201, response.text
    out = response.json()
    assert out["status"] == "approved"
    assert out["name"] == "Carla Bianchi"
    assert out["organisation"]["name"] == "Marble & Co"
    assert out["cluster"] == event.clusters[0].name
    assert out["unavailable_slots"] == [0]
    me = await client.get(f"/api/v1/events/{event.slug}/participants/me", headers=bearer(token))
    assert me.status_code == 200
    assert me.json()["id"] == out["id"]


async def test_register_api_reports_every_bad_field(db: AsyncSession, client: AsyncTestClient[Any]) -> None:
    event, _, token = await setup(db, client)
    bad = body(
        9999,
        organisation={"name": "", "kind": "pirate", "country": "XX", "website": "ftp://x", "size": "huge"},
        participant_type="alien",
        job_title="",
        pitch="x" * 601,
        languages=["english"],
        timezone="Mars/Olympus",
        unavailable_slots=[999],
    )
    response = await client.post(f"/api/v1/events/{event.slug}/participants", json=bad, headers=bearer(token))
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {
        "organisation.name",
        "organisation.kind",
        "organisation.country",
        "organisation.website",
        "organisation.size",
        "cluster_id",
        "participant_type",
        "job_title",
        "pitch",
        "languages",
        "timezone",
        "unavailable_slots",
    }
    assert await db.scalar(select(func.count()).select_from(Organisation)) == 0


async def test_register_api_wrong_types_are_400(db: AsyncSession, client: AsyncTestClient[Any]) -> None:
    event, _, token = await setup(db, client)
    response = await client.post(
        f"/api/v1/events/{event.slug}/participants",
        json=body(event.clusters[0].id, keywords="marble", unavailable_slots=["a"]),
        headers=bearer(token),
    )
    assert response.status_code == 400


async def test_register_api_anonymous_is_401(db: AsyncSession, client: AsyncTestClient[Any]) -> None:
    owner = await make_user(db)
    event = await make_event(db, owner)
    response = await client.post(f"/api/v1/events/{event.slug}/participants", json=body(event.clusters[0].id))
    assert response.status_code == 401


async def test_register_api_unknown_event_is_404(db: AsyncSession, client: AsyncTestClient[Any]) -> None:
    _, _, token = await setup(db, client)
    response = await client.post("/api/v1/events/nope/participants", json=body(1), headers=bearer(token))
    assert response.status_code == 404


async def test_register_api_twice_is_409(db: AsyncSession, client: AsyncTestClient[Any]) -> None:
    event, _, token = await setup(db, client)
    url = f"/api/v1/events/{event.slug}/participants"
    assert (await client.post(url, json=body(event.clusters[0].id), headers=bearer(token))).status_code == 201
    response = await client.post(url, json=body(event.clusters[0].id), headers=bearer(token))
    assert response.status_code == 409
    assert response.json()["detail"] == "You are already registered for this event."
    assert await db.scalar(select(func.count()).select_from(Organisation)) == 1


async def test_register_api_closed_window_is_409(db: AsyncSession, client: AsyncTestClient[Any]) -> None:
    event, _, token = await setup(db, client)
    event.registration_closes_at = utcnow() - timedelta(hours=1)
    await db.commit()
    response = await client.post(
        f"/api/v1/events/{event.slug}/participants", json=body(event.clusters[0].id), headers=bearer(token)
    )
    assert response.status_code == 409
    assert response.json()["detail"] == "Registration for this event has closed."


async def test_register_api_with_cookie_needs_csrf(db: AsyncSession, client: AsyncTestClient[Any]) -> None:
    event, user, _ = await setup(db, client)
    await login(client, user.email)
    url = f"/api/v1/events/{event.slug}/participants"
    assert (await client.post(url, json=body(event.clusters[0].id))).status_code == 403
    response = await json_post(client, url, body(event.clusters[0].id))
    assert response.status_code == 201


async def test_my_participant_not_registered_is_404(db: AsyncSession, client: AsyncTestClient[Any]) -> None:
    event, _, token = await setup(db, client)
    response = await client.get(f"/api/v1/events/{event.slug}/participants/me", headers=bearer(token))
    assert response.status_code == 404


async def test_get_participant_visibility(db: AsyncSession, client: AsyncTestClient[Any]) -> None:
    event, user, token = await setup(db, client)
    listed = await make_participant(db, event, cluster=event.clusters[0])
    hidden = await make_participant(db, event, cluster=event.clusters[0], listed=False)
    url = f"/api/v1/events/{event.slug}/participants"
    # Not registered: other profiles are closed.
    assert (await client.get(f"{url}/{listed.id}", headers=bearer(token))).status_code == 403
    await make_participant(db, event, user=user)
    assert (await client.get(f"{url}/{listed.id}", headers=bearer(token))).status_code == 200
    assert (await client.get(f"{url}/{hidden.id}", headers=bearer(token))).status_code == 403
    assert (await client.get(f"{url}/99999", headers=bearer(token))).status_code == 404
    assert (await client.get(f"{url}/{listed.id}")).status_code == 401


async def test_patch_participant_own_profile(db: AsyncSession, client: AsyncTestClient[Any]) -> None:
    event, user, token = await setup(db, client)
    mine = await make_participant(db, event, user=user, cluster=event.clusters[0])
    response = await client.patch(
        f"/api/v1/events/{event.slug}/participants/{mine.id}",
        json={"pitch": "New pitch", "keywords": ["a", "b"], "listed": False},
        headers=bearer(token),
    )
    assert response.status_code == 200, response.text
    assert (response.json()["pitch"], response.json()["keywords"], response.json()["listed"]) == (
        "New pitch",
        ["a", "b"],
        False,
    )


async def test_patch_participant_bad_fields_are_400(db: AsyncSession, client: AsyncTestClient[Any]) -> None:
    event, user, token = await setup(db, client)
    mine = await make_participant(db, event, user=user, cluster=event.clusters[0])
    response = await client.patch(
        f"/api/v1/events/{event.slug}/participants/{mine.id}",
        json={"job_title": "", "timezone": "Nowhere", "cluster_id": 0},
        headers=bearer(token),
    )
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"job_title", "timezone", "cluster_id"}


async def test_participant_cannot_edit_another_profile(
    db: AsyncSession, client: AsyncTestClient[Any]
) -> None:
    event, user, token = await setup(db, client)
    await make_participant(db, event, user=user, cluster=event.clusters[0])
    other = await make_participant(db, event, cluster=event.clusters[0], pitch="Original")
    response = await client.patch(
        f"/api/v1/events/{event.slug}/participants/{other.id}",
        json={"pitch": "Hacked"},
        headers=bearer(token),
    )
    assert response.status_code == 403
    await db.refresh(other)
    assert other.pitch == "Original"


async def test_participant_cannot_set_own_status(db: AsyncSession, client: AsyncTestClient[Any]) -> None:
    event, user, token = await setup(db, client, requires_approval=True)
    mine = await make_participant(db, event, user=user, status="pending")
    response = await client.patch(
        f"/api/v1/events/{event.slug}/participants/{mine.id}",
        json={"status": "approved"},
        headers=bearer(token),
    )
    assert response.status_code == 403


async def test_partner_approves_own_cluster_only(db: AsyncSession, client: AsyncTestClient[Any]) -> None:
    event, partner, token = await setup(db, client, requires_approval=True)
    await add_role(db, event, partner, "cluster_partner", event.clusters[0])
    ours = await make_participant(db, event, cluster=event.clusters[0], status="pending")
    theirs = await make_participant(db, event, cluster=event.clusters[1], status="pending")
    url = f"/api/v1/events/{event.slug}/participants"
    ok = await client.patch(f"{url}/{ours.id}", json={"status": "approved"}, headers=bearer(token))
    assert ok.status_code == 200
    assert ok.json()["status"] == "approved"
    denied = await client.patch(f"{url}/{theirs.id}", json={"status": "approved"}, headers=bearer(token))
    assert denied.status_code == 403
    bad = await client.patch(f"{url}/{ours.id}", json={"status": "maybe"}, headers=bearer(token))
    assert bad.status_code == 400
    assert bad.json()["errors"] == {"status": "Choose pending, approved or rejected."}


async def test_patch_participant_unknown_is_404(db: AsyncSession, client: AsyncTestClient[Any]) -> None:
    event, _, token = await setup(db, client)
    response = await client.patch(
        f"/api/v1/events/{event.slug}/participants/4242", json={"pitch": "x"}, headers=bearer(token)
    )
    assert response.status_code == 404


async def test_registration_routes_in_openapi_schema(client: AsyncTestClient[Any]) -> None:
    response = await client.get("/schema/openapi.json")
    assert response.status_code == 200
    operations = {
        op["operationId"]
        for path in response.json()["paths"].values()
        for op in path.values()
        if "operationId" in op
    }
    assert {
        "registerParticipant",
        "getMyParticipant",
        "getParticipant",
        "updateParticipant",
        "createOpportunity",
        "updateOpportunity",
        "deleteOpportunity",
        "searchOrganisations",
        "getOrganisation",
        "updateOrganisation",
    } <= operations


async def test_register_api_draft_event_is_404_for_outsiders(
    db: AsyncSession, client: AsyncTestClient[Any]
) -> None:
    event, _, token = await setup(db, client, status="draft")
    response = await client.post(
        f"/api/v1/events/{event.slug}/participants", json=body(event.clusters[0].id), headers=bearer(token)
    )
    assert response.status_code == 404


async def test_out_of_range_ids_are_404_not_500(db: AsyncSession, client: AsyncTestClient[Any]) -> None:
    event, user, token = await setup(db, client)
    await make_participant(db, event, user=user)
    huge = 2**40
    base = f"/api/v1/events/{event.slug}"
    assert (await client.get(f"{base}/participants/{huge}", headers=bearer(token))).status_code == 404
    assert (
        await client.patch(f"{base}/opportunities/{huge}", json={}, headers=bearer(token))
    ).status_code == 404
    assert (await client.get(f"/api/v1/organisations/{huge}", headers=bearer(token))).status_code == 404


async def test_register_api_huge_organisation_id_is_400(
    db: AsyncSession, client: AsyncTestClient[Any]
) -> None:
    event, _, token = await setup(db, client)
    response = await client.post(
        f"/api/v1/events/{event.slug}/participants",
        json=body(event.clusters[0].id, organisation=None, organisation_id=2**40),
        headers=bearer(token),
    )
    assert response.status_code == 400
    assert response.json()["errors"] == {"organisation_id": "This organisation does not exist."}


async def test_nul_characters_are_refused_per_field_not_500(
    db: AsyncSession, client: AsyncTestClient[Any]
) -> None:
    event, _, token = await setup(db, client)
    data = body(event.clusters[0].id, pitch="Mar\x00ble", keywords=["st\x00one"])
    response = await client.post(
        f"/api/v1/events/{event.slug}/participants", json=data, headers=bearer(token)
    )
    assert response.status_code == 400, response.text
    assert response.json()["errors"] == {
        "pitch": "Remove the control characters.",
        "keywords": "Remove the control characters.",
    }
    mine = await client.get(f"/api/v1/events/{event.slug}/participants/me", headers=bearer(token))
    assert mine.status_code == 404  # nothing was registered
    found = await client.get("/api/v1/organisations", params={"q": "Mar\x00ble"}, headers=bearer(token))
    assert found.status_code == 400


async def test_every_registration_route_needs_login(db: AsyncSession, client: AsyncTestClient[Any]) -> None:
    owner = await make_user(db)
    event = await make_event(db, owner)
    participant = await make_participant(db, event)
    item = await make_opportunity(db, participant)
    base = f"/api/v1/events/{event.slug}"
    calls = [
        ("GET", f"{base}/participants/me"),
        ("GET", f"{base}/participants/{participant.id}"),
        ("PATCH", f"{base}/participants/{participant.id}"),
        ("POST", f"{base}/opportunities"),
        ("PATCH", f"{base}/opportunities/{item.id}"),
        ("DELETE", f"{base}/opportunities/{item.id}"),
        ("GET", "/api/v1/organisations"),
        ("GET", f"/api/v1/organisations/{participant.organisation_id}"),
        ("PATCH", f"/api/v1/organisations/{participant.organisation_id}"),
    ]
    codes = [
        (await client.request(method, url, json={} if method in ("POST", "PATCH") else None)).status_code
        for method, url in calls
    ]
    assert codes == [401] * len(calls)


async def test_staff_may_view_and_edit_a_profile(db: AsyncSession, client: AsyncTestClient[Any]) -> None:
    event, organiser, token = await setup(db, client)
    await add_role(db, event, organiser, "organiser")
    target = await make_participant(db, event, cluster=event.clusters[2], listed=False)
    url = f"/api/v1/events/{event.slug}/participants/{target.id}"
    assert (await client.get(url, headers=bearer(token))).status_code == 200
    response = await client.patch(url, json={"job_title": "Head of R&D"}, headers=bearer(token))
    assert response.status_code == 200
    assert response.json()["job_title"] == "Head of R&D"
