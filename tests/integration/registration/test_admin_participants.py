from __future__ import annotations

import re
from typing import Any

from litestar.testing import AsyncTestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from clockevents.registration.models import Participant
from tests.factories.accounts import make_user
from tests.factories.events import add_role, make_event
from tests.factories.registration import make_organisation, make_participant
from tests.helpers import form_post, login


async def _setup(db: AsyncSession) -> dict[str, Any]:
    owner = await make_user(db, email="owner@example.org")
    event = await make_event(db, owner, slug="demo")
    a, b, _ = event.clusters
    partner = await make_user(db, email="partner@example.org")
    await add_role(db, event, partner, "cluster_partner", a)
    in_a = await make_participant(
        db, event, cluster=a, status="pending", organisation=await make_organisation(db, name="A Org")
    )
    in_b = await make_participant(
        db, event, cluster=b, status="pending", organisation=await make_organisation(db, name="B Org")
    )
    return {"event": event, "a": a, "b": b, "in_a": in_a, "in_b": in_b}


async def _status(db: AsyncSession, participant_id: int) -> str:
    await db.commit()  # end any open read transaction so the app's write is visible
    return await db.scalar(select(Participant.status).where(Participant.id == participant_id))


def _row_ids(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'<tr id="participant-(\d+)">', html)]


async def test_admin_participants_anonymous_redirects_to_login(
    db: AsyncSession, client: AsyncTestClient[Any]
) -> None:
    await _setup(db)
    response = await client.get("/events/demo/admin/participants", follow_redirects=False)
    assert response.headers["location"] == "/login?next=/events/demo/admin/participants"


async def test_admin_participants_participant_is_403(db: AsyncSession, client: AsyncTestClient[Any]) -> None:
    w = await _setup(db)
    await make_participant(db, w["event"], user=await make_user(db, email="p@example.org"))
    await login(client, "p@example.org")
    assert (await client.get("/events/demo/admin/participants")).status_code == 403
    assert (await client.get("/events/demo/admin/participants.csv")).status_code == 403


async def test_admin_participants_owner_sees_all_and_filters(
    db: AsyncSession, client: AsyncTestClient[Any]
) -> None:
    w = await _setup(db)
    await login(client, "owner@example.org")
    response = await client.get("/events/demo/admin/participants")
    assert response.status_code == 200
    assert _row_ids(response.text) == [w["in_a"].id, w["in_b"].id]
    assert 'href="/events/demo/admin/participants" aria-current="page"' in response.text
    filtered = await client.get(f"/events/demo/admin/participants?cluster={w['b'].id}&status=pending")
    assert _row_ids(filtered.text) == [w["in_b"].id]
    assert _row_ids((await client.get("/events/demo/admin/participants?status=approved")).text) == []


async def test_admin_participants_partner_sees_own_cluster_only(
    db: AsyncSession, client: AsyncTestClient[Any]
) -> None:
    w = await _setup(db)
    await login(client, "partner@example.org")
    response = await client.get("/events/demo/admin/participants")
    assert _row_ids(response.text) == [w["in_a"].id]


async def test_admin_participants_owner_approves_and_rejects(
    db: AsyncSession, client: AsyncTestClient[Any]
) -> None:
    w = await _setup(db)
    await login(client, "owner@example.org")
    url = f"/events/demo/admin/participants/{w['in_a'].id}/status"
    response = await form_post(
        client, url, {"status": "approved", "next": "/events/demo/admin/participants?status=pending"}
    )
    assert response.status_code in (302, 303)
    assert response.headers["location"] == "/events/demo/admin/participants?status=pending"
    assert await _status(db, w["in_a"].id) == "approved"
    await form_post(client, f"/events/demo/admin/participants/{w['in_b'].id}/status", {"status": "rejected"})
    assert await _status(db, w["in_b"].id) == "rejected"


async def test_admin_participants_cluster_partner_cannot_approve_another_clusters_participants(
    db: AsyncSession, client: AsyncTestClient[Any]
) -> None:
    w = await _setup(db)
    await login(client, "partner@example.org")
    response = await form_post(
        client, f"/events/demo/admin/participants/{w['in_b'].id}/status", {"status": "approved"}
    )
    assert response.status_code == 403
    assert await _status(db, w["in_b"].id) == "pending"
    own = await form_post(
        client, f"/events/demo/admin/participants/{w['in_a'].id}/status", {"status": "approved"}
    )
    assert own.status_code in (302, 303)
    assert await _status(db, w["in_a"].id) == "approved"


async def test_admin_participants_status_without_csrf_is_refused(
    db: AsyncSession, client: AsyncTestClient[Any]
) -> None:
    w = await _setup(db)
    await login(client, "owner@example.org")
    response = await client.post(
        f"/events/demo/admin/participants/{w['in_a'].id}/status",
        data={"status": "approved"},
        follow_redirects=False,
    )
    assert response.status_code == 403
    assert await _status(db, w["in_a"].id) == "pending"


async def test_admin_participants_bad_status_is_400(db: AsyncSession, client: AsyncTestClient[Any]) -> None:
    w = await _setup(db)
    await login(client, "owner@example.org")
    response = await form_post(
        client, f"/events/demo/admin/participants/{w['in_a'].id}/status", {"status": "vip"}
    )
    assert response.status_code == 400
    assert await _status(db, w["in_a"].id) == "pending"


async def test_admin_participants_unknown_participant_is_404(
    db: AsyncSession, client: AsyncTestClient[Any]
) -> None:
    await _setup(db)
    await login(client, "owner@example.org")
    response = await form_post(
        client, "/events/demo/admin/participants/999999/status", {"status": "approved"}
    )
    assert response.status_code == 404


async def test_admin_participants_huge_participant_id_is_404(
    db: AsyncSession, client: AsyncTestClient[Any]
) -> None:
    await _setup(db)
    await login(client, "owner@example.org")
    url = "/events/demo/admin/participants/99999999999999999999/status"
    assert (await form_post(client, url, {"status": "approved"})).status_code == 404
