"""Inputs a property-based fuzzer (schemathesis) once turned into 500s: each now gets a 4xx.

Every case runs on SQLite and, with DATABASE_URL set, on PostgreSQL, which refuses NUL
characters in text and integers beyond the column's range where SQLite does not.
"""

from __future__ import annotations

from typing import Any

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from clockevents.accounts.models import User
from clockevents.agenda.models import ScheduleRun
from clockevents.events.models import Cluster, Event
from clockevents.matchmaking.models import MeetingRequest
from tests.factories.accounts import make_user
from tests.factories.events import make_event
from tests.factories.matchmaking import set_matchmaking
from tests.factories.registration import make_participant
from tests.helpers import api_token, bearer, csrf_token, form_post, login

HUGE = "99999999999999999999999"  # past int64: SQLite's driver overflows
BEYOND_INT32 = "2147483648"  # PostgreSQL refuses it for an INTEGER id


async def _owner_with_event(db: AsyncSession, client: AsyncTestClient[Any]) -> tuple[Event, dict[str, str]]:
    owner = await make_user(db, email="owner@example.org")
    event = await make_event(db, owner, slug="demo", clusters=("Nord", "Sud"))
    return event, bearer(await api_token(client, "owner@example.org"))


async def _count(db: AsyncSession, model: Any) -> int:
    return int(await db.scalar(select(func.count()).select_from(model)) or 0)


@pytest.mark.parametrize("number", [HUGE, BEYOND_INT32, "0", "-1"])
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/v1/schedule-runs/{n}"),
        ("POST", "/api/v1/schedule-runs/{n}/cancel"),
        ("POST", "/api/v1/meeting-requests/{n}/accept"),
        ("POST", "/api/v1/meeting-requests/{n}/cancel"),
        ("POST", "/api/v1/notifications/{n}/read"),
        ("PATCH", "/api/v1/events/demo/clusters/{n}"),
        ("GET", "/api/v1/events/demo/participants/{n}"),
        ("GET", "/api/v1/organisations/{n}"),
        ("DELETE", "/api/v1/me/tokens/{n}"),
    ],
)
async def test_path_id_out_of_range_is_404(
    db: AsyncSession, client: AsyncTestClient[Any], method: str, path: str, number: str
) -> None:
    _, auth = await _owner_with_event(db, client)
    body = {"name": "Ovest"} if method == "PATCH" else None
    response = await client.request(method, path.format(n=number), headers=auth, json=body)
    assert response.status_code == 404


async def test_path_id_out_of_range_anonymous_is_still_401(
    db: AsyncSession, client: AsyncTestClient[Any]
) -> None:
    response = await client.post(f"/api/v1/notifications/{HUGE}/read")
    assert response.status_code == 401


async def test_page_path_id_out_of_range_is_404(db: AsyncSession, client: AsyncTestClient[Any]) -> None:
    await _owner_with_event(db, client)
    await login(client, "owner@example.org")
    response = await client.get(f"/organisations/{HUGE}")
    assert response.status_code == 404


async def test_nul_in_json_body_is_400_and_writes_nothing(
    db: AsyncSession, client: AsyncTestClient[Any]
) -> None:
    _, auth = await _owner_with_event(db, client)
    response = await client.post(
        "/api/v1/events/demo/clusters", json={"name": "Ov\x00est", "description": "ok"}, headers=auth
    )
    assert response.status_code == 400
    assert response.json()["errors"] == {"name": "Remove the control characters."}
    assert await _count(db, Cluster) == 2


async def test_nul_in_nested_json_names_the_top_level_field(
    db: AsyncSession, client: AsyncTestClient[Any]
) -> None:
    _, auth = await _owner_with_event(db, client)
    body = {"title": "Fine", "x": {"y": ["a\x00"]}}
    response = await client.patch("/api/v1/events/demo", json=body, headers=auth)
    assert response.status_code == 400
    assert response.json()["errors"] == {"x": "Remove the control characters."}


async def test_nul_in_signup_json_is_400_and_creates_no_account(
    client: AsyncTestClient[Any], db: AsyncSession
) -> None:
    body = {"email": "a\x00b@example.org", "password": "correct-horse-battery", "name": "A\x00"}
    response = await client.post("/api/v1/accounts", json=body)
    assert response.status_code == 400
    assert response.json()["errors"] == {
        "email": "Remove the control characters.",
        "name": "Remove the control characters.",
    }
    assert await _count(db, User) == 0


async def test_nul_in_token_request_is_400(client: AsyncTestClient[Any]) -> None:
    response = await client.post("/api/v1/auth/token", json={"email": "a\x00@b.it", "password": "x"})
    assert response.status_code == 400


async def test_nul_in_query_is_400(db: AsyncSession, client: AsyncTestClient[Any]) -> None:
    await _owner_with_event(db, client)
    response = await client.get("/api/v1/events?q=a%00b")
    assert response.status_code == 400
    assert response.json()["errors"] == {"q": "Remove the control characters."}


async def test_nul_in_slug_is_404(db: AsyncSession, client: AsyncTestClient[Any]) -> None:
    await _owner_with_event(db, client)
    assert (await client.get("/api/v1/events/de%00mo")).status_code == 404
    assert (await client.get("/events/de%00mo")).status_code == 404


async def test_nul_in_form_post_is_400_and_creates_no_account(
    db: AsyncSession, client: AsyncTestClient[Any]
) -> None:
    form = {"email": "nul@example.org", "password": "correct-horse-battery", "name": "N\x00"}
    response = await form_post(client, "/signup", form)
    assert response.status_code == 400
    assert await _count(db, User) == 0


async def test_cluster_rename_to_taken_non_ascii_name_is_409(
    db: AsyncSession, client: AsyncTestClient[Any]
) -> None:
    event, auth = await _owner_with_event(db, client)
    created = await client.post("/api/v1/events/demo/clusters", json={"name": "ÀREA Ü"}, headers=auth)
    assert created.status_code == 201
    first = event.clusters[0].id
    response = await client.patch(
        f"/api/v1/events/demo/clusters/{first}", json={"name": "ÀREA Ü"}, headers=auth
    )
    assert response.status_code == 409
    assert response.json()["errors"] == {"name": "Already in use."}


async def test_cookie_session_unsafe_method_without_csrf_is_403(
    db: AsyncSession, client: AsyncTestClient[Any]
) -> None:
    event, _ = await _owner_with_event(db, client)
    await login(client, "owner@example.org")
    cluster = event.clusters[0].id
    for method, path in [
        ("POST", "/api/v1/events/demo/clusters"),
        ("PUT", "/api/v1/events/demo/grid"),
        ("PATCH", "/api/v1/events/demo"),
        ("DELETE", f"/api/v1/events/demo/clusters/{cluster}"),
    ]:
        response = await client.request(method, path, json={"name": "X"})
        assert (method, response.status_code) == (method, 403)
    assert await _count(db, Cluster) == 2
    response = await client.post("/logout", follow_redirects=False)
    assert response.status_code == 403


async def test_cookie_session_with_csrf_header_passes(db: AsyncSession, client: AsyncTestClient[Any]) -> None:
    await _owner_with_event(db, client)
    await login(client, "owner@example.org")
    token = await csrf_token(client)
    response = await client.post(
        "/api/v1/events/demo/clusters", json={"name": "Est"}, headers={"x-csrftoken": token}
    )
    assert response.status_code == 201


async def test_oversized_json_body_is_413(db: AsyncSession, client: AsyncTestClient[Any]) -> None:
    _, auth = await _owner_with_event(db, client)
    body = b'{"name": "' + b"x" * 5_000_000 + b'"}'
    response = await client.post(
        "/api/v1/events/demo/clusters",
        content=body,
        headers={**auth, "content-type": "application/json"},
    )
    assert response.status_code == 413
    assert await _count(db, Cluster) == 2


@pytest.mark.parametrize("query", ["page=abc", "page=1.5", f"page={HUGE}"])
async def test_query_param_type_error_is_400(
    db: AsyncSession, client: AsyncTestClient[Any], query: str
) -> None:
    await _owner_with_event(db, client)
    response = await client.get(f"/api/v1/events?{query}")
    assert response.status_code == 400


async def test_organiser_meeting_with_participant_id_beyond_range_is_400(
    db: AsyncSession, client: AsyncTestClient[Any]
) -> None:
    event, auth = await _owner_with_event(db, client)
    one = await make_participant(db, event)
    body = {"a": one.id, "b": -58091936039, "priority": 1}
    response = await client.post("/api/v1/events/demo/organiser-meetings", json=body, headers=auth)
    assert response.status_code == 400
    assert response.json()["errors"] == {"b": "No such participant in this event."}
    assert await _count(db, MeetingRequest) == 0


async def test_schedule_run_freeing_meeting_ids_beyond_range_is_400(
    db: AsyncSession, client: AsyncTestClient[Any]
) -> None:
    _, auth = await _owner_with_event(db, client)
    body = {"time_limit": 2, "free": [-88412189039866, 2**40]}
    response = await client.post("/api/v1/events/demo/schedule-runs", json=body, headers=auth)
    assert response.status_code == 400
    assert response.json()["errors"] == {
        "free": f"Not published meetings of this event: -88412189039866, {2**40}."
    }
    assert await _count(db, ScheduleRun) == 0


@pytest.mark.parametrize("cluster_id", [3_000_000_000, 10**30, 0])
async def test_cluster_partner_role_with_impossible_cluster_id_is_400(
    db: AsyncSession, client: AsyncTestClient[Any], cluster_id: Any
) -> None:
    _, auth = await _owner_with_event(db, client)
    await make_user(db, email="partner@example.org")
    body = {"email": "partner@example.org", "role": "cluster_partner", "cluster_id": cluster_id}
    response = await client.post("/api/v1/events/demo/roles", json=body, headers=auth)
    assert response.status_code == 400
    assert response.json()["errors"] == {"cluster_id": "Choose one of this event's clusters."}


@pytest.mark.parametrize("other", ["-140737488355327", "3000000000", "0"])
async def test_free_slots_with_participant_id_beyond_range_is_404(
    db: AsyncSession, client: AsyncTestClient[Any], other: str
) -> None:
    event, _ = await _owner_with_event(db, client)
    me = await make_user(db, email="me@example.org")
    await make_participant(db, event, user=me)
    auth = bearer(await api_token(client, "me@example.org"))
    response = await client.get(f"/api/v1/events/demo/free-slots?with={other}", headers=auth)
    assert response.status_code == 404


@pytest.mark.parametrize("slot", [3_000_000_000, -3_000_000_000, "99999999999"])
async def test_self_booked_request_with_slot_beyond_range_is_400(
    db: AsyncSession, client: AsyncTestClient[Any], slot: Any
) -> None:
    event, _ = await _owner_with_event(db, client)
    await set_matchmaking(db, event, scheduling_mode="self_booking")
    me = await make_user(db, email="me@example.org")
    await make_participant(db, event, user=me)
    other = await make_participant(db, event)
    auth = bearer(await api_token(client, "me@example.org"))
    body = {"to": other.id, "slot": slot}
    response = await client.post("/api/v1/events/demo/meeting-requests", json=body, headers=auth)
    assert response.status_code == 400
    assert response.json()["errors"] == {"slot": "No such slot in this event."}
    assert await _count(db, MeetingRequest) == 0
