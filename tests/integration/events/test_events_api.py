from __future__ import annotations

from datetime import date
from typing import Any

from litestar.testing import AsyncTestClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from clockevents.events.models import Event, EventRole
from tests.factories.accounts import make_user
from tests.factories.events import add_role, make_event
from tests.helpers import api_token, bearer, json_post, login

NEW_EVENT = {
    "slug": "clock-2027",
    "title": "CLOCK 2027",
    "timezone": "Europe/Rome",
    "starts_on": "2027-03-10",
    "ends_on": "2027-03-11",
}


async def _admin(db: AsyncSession, client: AsyncTestClient[Any]) -> dict[str, str]:
    admin = await make_user(db, is_admin=True)
    return bearer(await api_token(client, admin.email))


async def _member(db: AsyncSession, client: AsyncTestClient[Any]) -> tuple[Any, dict[str, str]]:
    user = await make_user(db)
    return user, bearer(await api_token(client, user.email))


async def test_create_event_admin_is_201_and_owner(db: AsyncSession, client: AsyncTestClient[Any]) -> None:
    headers = await _admin(db, client)
    response = await client.post("/api/v1/events", json=NEW_EVENT, headers=headers)
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["slug"], body["status"], body["opportunity_kinds"]) == (
        "clock-2027",
        "draft",
        ["offer", "request", "partnership", "investment"],
    )
    roles = (await db.scalars(select(EventRole.role).where(EventRole.event_id == body["id"]))).all()
    assert list(roles) == ["owner"]


async def test_create_event_anonymous_is_401(client: AsyncTestClient[Any]) -> None:
    assert (await client.post("/api/v1/events", json=NEW_EVENT)).status_code == 401


async def test_create_event_non_admin_is_403(db: AsyncSession, client: AsyncTestClient[Any]) -> None:
    _, headers = await _member(db, client)
    assert (await client.post("/api/v1/events", json=NEW_EVENT, headers=headers)).status_code == 403


async def test_create_event_every_wrong_field_reported(
    db: AsyncSession, client: AsyncTestClient[Any]
) -> None:
    headers = await _admin(db, client)
    body = {
        "slug": "Bad Slug",
        "title": "",
        "timezone": "Mars/Olympus",
        "starts_on": "2027-02-30",
        "ends_on": "soon",
        "registration_opens_at": "yesterday",
        "meeting_minutes": 0,
        "gap_minutes": 500,
        "tables": 0,
        "format": "carrier pigeon",
        "participant_types": ["alien"],
        "opportunity_kinds": ["9lives"],
        "status": "live",
    }
    response = await client.post("/api/v1/events", json=body, headers=headers)
    assert response.status_code == 400
    assert set(response.json()["errors"]) == set(body)
    assert await db.scalar(select(func.count()).select_from(Event)) == 0


async def test_create_event_wrong_json_type_is_400(db: AsyncSession, client: AsyncTestClient[Any]) -> None:
    headers = await _admin(db, client)
    response = await client.post("/api/v1/events", json={**NEW_EVENT, "tables": "many"}, headers=headers)
    assert response.status_code == 400


async def test_create_event_duplicate_slug_is_409(db: AsyncSession, client: AsyncTestClient[Any]) -> None:
    headers = await _admin(db, client)
    assert (await client.post("/api/v1/events", json=NEW_EVENT, headers=headers)).status_code == 201
    response = await client.post("/api/v1/events", json=NEW_EVENT, headers=headers)
    assert response.status_code == 409
    assert response.json()["errors"] == {"slug": "Another event already uses this address."}


async def test_create_event_with_cookie_needs_csrf(db: AsyncSession, client: AsyncTestClient[Any]) -> None:
    admin = await make_user(db, is_admin=True)
    await login(client, admin.email)
    assert (await client.post("/api/v1/events", json=NEW_EVENT)).status_code == 403
    assert (await json_post(client, "/api/v1/events", NEW_EVENT)).status_code == 201


async def test_list_events_hides_drafts_from_outsiders(
    db: AsyncSession, client: AsyncTestClient[Any]
) -> None:
    owner = await make_user(db)
    await make_event(db, owner, slug="public-one", status="open")
    await make_event(db, owner, slug="secret-draft", status="draft")
    anonymous = (await client.get("/api/v1/events")).json()
    assert [e["slug"] for e in anonymous["items"]] == ["public-one"]
    assert (anonymous["total"], anonymous["page"], anonymous["per_page"]) == (1, 1, 20)
    token = await api_token(client, owner.email)
    mine = (await client.get("/api/v1/events", headers=bearer(token))).json()
    assert sorted(e["slug"] for e in mine["items"]) == ["public-one", "secret-draft"]


async def test_list_events_filters_and_pages(db: AsyncSession, client: AsyncTestClient[Any]) -> None:
    owner = await make_user(db)
    for i in range(22):
        await make_event(db, owner, slug=f"ev-{i:02d}", status="open", clusters=())
    await make_event(db, owner, slug="closed-one", status="closed", clusters=())
    second = (await client.get("/api/v1/events", params={"status": "open", "page": 2})).json()
    assert (len(second["items"]), second["total"], second["page"]) == (2, 22, 2)
    found = (await client.get("/api/v1/events", params={"q": "CLOSED"})).json()
    assert [e["slug"] for e in found["items"]] == ["closed-one"]
    assert (await client.get("/api/v1/events", params={"status": "bogus"})).status_code == 400
    assert (await client.get("/api/v1/events", params={"page": 0})).status_code == 400


async def test_get_event_draft_is_404_for_outsiders(db: AsyncSession, client: AsyncTestClient[Any]) -> None:
    owner = await make_user(db)
    await make_event(db, owner, slug="drafty", status="draft")
    assert (await client.get("/api/v1/events/drafty")).status_code == 404
    _, headers = await _member(db, client)
    assert (await client.get("/api/v1/events/drafty", headers=headers)).status_code == 404
    token = await api_token(client, owner.email)
    response = await client.get("/api/v1/events/drafty", headers=bearer(token))
    assert response.status_code == 200
    assert [c["name"] for c in response.json()["clusters"]] == [
        "Advanced Materials",
        "ICT & Railway",
        "Nautical",
    ]


async def test_get_event_unknown_is_404(client: AsyncTestClient[Any]) -> None:
    assert (await client.get("/api/v1/events/nope")).status_code == 404


async def test_patch_event_by_organiser(db: AsyncSession, client: AsyncTestClient[Any]) -> None:
    owner = await make_user(db)
    event = await make_event(db, owner, slug="patchme", status="draft")
    organiser, headers = await _member(db, client)
    await add_role(db, event, organiser, "organiser")
    response = await client.patch(
        "/api/v1/events/patchme",
        json={"title": "Renamed", "status": "open", "opportunity_kinds": ["offer", "Licence"]},
        headers=headers,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["title"], body["status"], body["opportunity_kinds"]) == (
        "Renamed",
        "open",
        ["offer", "licence"],
    )


async def test_patch_event_backwards_status_is_400(db: AsyncSession, client: AsyncTestClient[Any]) -> None:
    owner = await make_user(db)
    await make_event(db, owner, slug="forward", status="live")
    headers = bearer(await api_token(client, owner.email))
    response = await client.patch("/api/v1/events/forward", json={"status": "open"}, headers=headers)
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["status"]


async def test_patch_event_participant_and_partner_are_403(
    db: AsyncSession, client: AsyncTestClient[Any]
) -> None:
    owner = await make_user(db)
    event = await make_event(db, owner, slug="guarded")
    partner, partner_headers = await _member(db, client)
    await add_role(db, event, partner, "cluster_partner", event.clusters[0])
    _, outsider_headers = await _member(db, client)
    for headers in (partner_headers, outsider_headers):
        response = await client.patch("/api/v1/events/guarded", json={"title": "X"}, headers=headers)
        assert response.status_code == 403
    assert (await client.patch("/api/v1/events/guarded", json={"title": "X"})).status_code == 401


async def test_patch_event_registration_window_must_close_after_open(
    db: AsyncSession, client: AsyncTestClient[Any]
) -> None:
    owner = await make_user(db)
    await make_event(db, owner, slug="window")
    headers = bearer(await api_token(client, owner.email))
    response = await client.patch(
        "/api/v1/events/window",
        json={
            "registration_opens_at": "2027-01-10T09:00:00+00:00",
            "registration_closes_at": "2027-01-01T09:00",
        },
        headers=headers,
    )
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["registration_closes_at"]


async def test_grid_put_and_get(db: AsyncSession, client: AsyncTestClient[Any]) -> None:
    owner = await make_user(db)
    event = await make_event(db, owner, slug="gridded", starts_on=date(2026, 10, 24), days=2)
    headers = bearer(await api_token(client, owner.email))
    sessions = [
        {"day": "2026-10-24", "starts_at": "09:00", "ends_at": "10:00", "name": "Morning"},
        {"day": "2026-10-25", "starts_at": "09:00", "ends_at": "09:50"},
    ]
    response = await client.put("/api/v1/events/gridded/grid", json={"sessions": sessions}, headers=headers)
    assert response.status_code == 200, response.text
    slots = response.json()["slots"]
    assert [(s["index"], s["starts_at"], s["local_starts_at"]) for s in slots] == [
        (0, "2026-10-24T07:00:00+00:00", "2026-10-24T09:00:00+02:00"),
        (1, "2026-10-24T07:25:00+00:00", "2026-10-24T09:25:00+02:00"),
        (2, "2026-10-25T08:00:00+00:00", "2026-10-25T09:00:00+01:00"),
        (3, "2026-10-25T08:25:00+00:00", "2026-10-25T09:25:00+01:00"),
    ]
    fetched = (await client.get("/api/v1/events/gridded/grid")).json()
    assert [s["name"] for s in fetched["sessions"]] == ["Morning", ""]
    assert len(fetched["slots"]) == 4
    assert fetched["timezone"] == event.timezone


async def test_grid_put_bad_rows_are_400_per_row(db: AsyncSession, client: AsyncTestClient[Any]) -> None:
    owner = await make_user(db)
    await make_event(db, owner, slug="badgrid", starts_on=date(2027, 5, 3))
    headers = bearer(await api_token(client, owner.email))
    sessions = [
        {"day": "2027-05-04", "starts_at": "09:00", "ends_at": "10:00"},
        {"day": "2027-05-03", "starts_at": "11:00", "ends_at": "10:00"},
        {"day": "2027-05-03", "starts_at": "9am", "ends_at": "10:00"},
    ]
    response = await client.put("/api/v1/events/badgrid/grid", json={"sessions": sessions}, headers=headers)
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {
        "sessions[0].day",
        "sessions[1].ends_at",
        "sessions[2].starts_at",
    }
    # The old grid is untouched.
    assert len((await client.get("/api/v1/events/badgrid/grid")).json()["slots"]) == 12


async def test_grid_put_live_event_is_409(db: AsyncSession, client: AsyncTestClient[Any]) -> None:
    owner = await make_user(db)
    event = await make_event(db, owner, slug="livegrid", status="live")
    headers = bearer(await api_token(client, owner.email))
    day = event.starts_on.isoformat()
    response = await client.put(
        "/api/v1/events/livegrid/grid",
        json={"sessions": [{"day": day, "starts_at": "09:00", "ends_at": "10:00"}]},
        headers=headers,
    )
    assert response.status_code == 409


async def test_grid_put_partner_is_403(db: AsyncSession, client: AsyncTestClient[Any]) -> None:
    owner = await make_user(db)
    event = await make_event(db, owner, slug="partnergrid")
    partner, headers = await _member(db, client)
    await add_role(db, event, partner, "cluster_partner", event.clusters[0])
    response = await client.put("/api/v1/events/partnergrid/grid", json={"sessions": []}, headers=headers)
    assert response.status_code == 403


async def test_clusters_add_rename_remove(db: AsyncSession, client: AsyncTestClient[Any]) -> None:
    owner = await make_user(db)
    await make_event(db, owner, slug="clustered", clusters=("Stone",))
    headers = bearer(await api_token(client, owner.email))
    added = await client.post("/api/v1/events/clustered/clusters", json={"name": "Fashion"}, headers=headers)
    assert added.status_code == 201
    cluster_id = added.json()["id"]
    duplicate = await client.post(
        "/api/v1/events/clustered/clusters", json={"name": "stone"}, headers=headers
    )
    assert duplicate.status_code == 409
    empty = await client.post("/api/v1/events/clustered/clusters", json={}, headers=headers)
    assert (empty.status_code, list(empty.json()["errors"])) == (400, ["name"])
    renamed = await client.patch(
        f"/api/v1/events/clustered/clusters/{cluster_id}",
        json={"name": "Fashion & Textiles"},
        headers=headers,
    )
    assert renamed.json()["name"] == "Fashion & Textiles"
    removed = await client.delete(f"/api/v1/events/clustered/clusters/{cluster_id}", headers=headers)
    assert removed.status_code == 204
    names = [c["name"] for c in (await client.get("/api/v1/events/clustered/clusters")).json()]
    assert names == ["Stone"]
    missing = await client.delete(f"/api/v1/events/clustered/clusters/{cluster_id}", headers=headers)
    assert missing.status_code == 404


async def test_cluster_remove_with_participants_is_409(
    db: AsyncSession, client: AsyncTestClient[Any]
) -> None:
    from tests.factories.registration import make_participant

    owner = await make_user(db)
    event = await make_event(db, owner, slug="busy", clusters=("Nautical",))
    await make_participant(db, event, cluster=event.clusters[0])
    headers = bearer(await api_token(client, owner.email))
    response = await client.delete(f"/api/v1/events/busy/clusters/{event.clusters[0].id}", headers=headers)
    assert response.status_code == 409
    assert "still has 1 participant" in response.json()["detail"]


async def test_roles_add_list_remove(db: AsyncSession, client: AsyncTestClient[Any]) -> None:
    owner = await make_user(db)
    event = await make_event(db, owner, slug="team")
    partner = await make_user(db, email="partner@example.org")
    headers = bearer(await api_token(client, owner.email))
    added = await client.post(
        "/api/v1/events/team/roles",
        json={"email": "Partner@Example.org", "role": "cluster_partner", "cluster_id": event.clusters[1].id},
        headers=headers,
    )
    assert added.status_code == 201, added.text
    assert (added.json()["user_id"], added.json()["cluster_name"]) == (partner.id, "ICT & Railway")
    again = await client.post(
        "/api/v1/events/team/roles",
        json={"email": "partner@example.org", "role": "organiser"},
        headers=headers,
    )
    assert again.status_code == 409
    roles = (await client.get("/api/v1/events/team/roles", headers=headers)).json()
    assert [r["role"] for r in roles] == ["owner", "cluster_partner"]
    removed = await client.delete(f"/api/v1/events/team/roles/{added.json()['id']}", headers=headers)
    assert removed.status_code == 204
    owner_role = roles[0]["id"]
    last = await client.delete(f"/api/v1/events/team/roles/{owner_role}", headers=headers)
    assert last.status_code == 409


async def test_roles_add_bad_fields_are_400(db: AsyncSession, client: AsyncTestClient[Any]) -> None:
    owner = await make_user(db)
    await make_event(db, owner, slug="teambad")
    headers = bearer(await api_token(client, owner.email))
    response = await client.post(
        "/api/v1/events/teambad/roles",
        json={"email": "ghost@example.org", "role": "cluster_partner"},
        headers=headers,
    )
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"email", "cluster_id"}


async def test_roles_remove_by_organiser_is_403(db: AsyncSession, client: AsyncTestClient[Any]) -> None:
    owner = await make_user(db)
    event = await make_event(db, owner, slug="teamrm")
    organiser, headers = await _member(db, client)
    role = await add_role(db, event, organiser, "organiser")
    response = await client.delete(f"/api/v1/events/teamrm/roles/{role.id}", headers=headers)
    assert response.status_code == 403
    anonymous = await client.get("/api/v1/events/teamrm/roles")
    assert anonymous.status_code == 401


async def test_events_operations_in_schema_have_unique_ids(client: AsyncTestClient[Any]) -> None:
    schema = (await client.get("/schema/openapi.json")).json()
    ops = [
        op["operationId"]
        for path in schema["paths"].values()
        for op in path.values()
        if isinstance(op, dict) and "events" in op.get("tags", [])
    ]
    assert len(ops) == 13
    assert len(set(ops)) == 13


async def test_api_wrong_shapes_are_400_not_500(db: AsyncSession, client: AsyncTestClient[Any]) -> None:
    owner = await make_user(db)
    await make_event(db, owner, slug="edge")
    headers = bearer(await api_token(client, owner.email))
    for method, url, body in [
        ("PUT", "/api/v1/events/edge/grid", {"sessions": "nope"}),
        ("PUT", "/api/v1/events/edge/grid", {"sessions": [{"day": 5}]}),
        (
            "PATCH",
            "/api/v1/events/edge",
            {"starts_on": "2027-13-01", "timezone": "", "opportunity_kinds": []},
        ),
        ("PATCH", "/api/v1/events/edge", {"registration_opens_at": "2027-01-01T25:00"}),
        ("POST", "/api/v1/events/edge/roles", {"email": "", "cluster_id": 999999}),
        ("POST", "/api/v1/events/edge/clusters", {"name": "x" * 500}),
    ]:
        response = await client.request(method, url, json=body, headers=headers)
        assert response.status_code == 400, (url, body)
    assert (await client.get("/api/v1/events", params={"page": "abc"})).status_code == 400
