from __future__ import annotations

from typing import Any

from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession

from clockevents.accounts.models import User
from tests.factories.accounts import make_user
from tests.factories.events import add_role, make_event
from tests.factories.registration import make_opportunity, make_organisation, make_participant
from tests.helpers import api_token, bearer


async def _setup(db: AsyncSession) -> dict[str, Any]:
    owner = await make_user(db, email="owner@example.org")
    event = await make_event(db, owner, slug="demo")
    a, b, _ = event.clusters
    ada = await make_user(db, email="ada@example.org", name="Ada Rossi")
    alpha = await make_participant(
        db,
        event,
        user=ada,
        organisation=await make_organisation(db, name="Alpha Coatings", country="IT"),
        cluster=a,
        pitch="Graphene coatings",
        keywords=["graphene"],
    )
    alpha.job_title = "CTO"
    await db.commit()
    opp = await make_opportunity(db, alpha, kind="offer", title="Antifouling paint")
    beta = await make_participant(
        db,
        event,
        organisation=await make_organisation(db, name="Beta Labs", kind="research", country="FR"),
        cluster=b,
        participant_type="research",
        pitch="Sensors",
    )
    await make_opportunity(db, beta, kind="request", title="Pilot shipyard")
    hidden = await make_participant(db, event, cluster=b, listed=False)
    pending = await make_participant(db, event, cluster=a, status="pending")
    return {
        "owner": owner,
        "event": event,
        "a": a,
        "b": b,
        "alpha": alpha,
        "beta": beta,
        "hidden": hidden,
        "pending": pending,
        "opp": opp,
    }


async def test_participants_api_anonymous_sees_no_directory(
    db: AsyncSession, client: AsyncTestClient[Any]
) -> None:
    await _setup(db)
    response = await client.get("/api/v1/events/demo/participants")
    assert response.status_code == 401
    assert (await client.get("/api/v1/events/demo/opportunities")).status_code == 401


async def test_participants_api_outsider_is_403(db: AsyncSession, client: AsyncTestClient[Any]) -> None:
    await _setup(db)
    await make_user(db, email="out@example.org")
    token = await api_token(client, "out@example.org")
    response = await client.get("/api/v1/events/demo/participants", headers=bearer(token))
    assert response.status_code == 403


async def test_participants_api_unknown_event_is_404(db: AsyncSession, client: AsyncTestClient[Any]) -> None:
    await _setup(db)
    token = await api_token(client, "ada@example.org")
    response = await client.get("/api/v1/events/nope/participants", headers=bearer(token))
    assert response.status_code == 404


async def test_participants_api_participant_gets_summaries(
    db: AsyncSession, client: AsyncTestClient[Any]
) -> None:
    w = await _setup(db)
    token = await api_token(client, "ada@example.org")
    response = await client.get("/api/v1/events/demo/participants?q=graphene", headers=bearer(token))
    assert response.status_code == 200
    alpha, a = w["alpha"], w["a"]
    assert response.json() == {
        "items": [
            {
                "id": alpha.id,
                "name": "Ada Rossi",
                "organisation": {
                    "id": alpha.organisation_id,
                    "name": "Alpha Coatings",
                    "kind": "business",
                    "country": "IT",
                    "city": "Pisa",
                },
                "cluster": {"id": a.id, "name": a.name},
                "type": "business",
                "job_title": "CTO",
                "pitch": "Graphene coatings",
                "keywords": ["graphene"],
                "opportunities": [{"id": w["opp"].id, "kind": "offer", "title": "Antifouling paint"}],
                "status": "approved",
                "listed": True,
            }
        ],
        "total": 1,
        "page": 1,
        "per_page": 20,
    }


async def test_participants_api_hides_pending_and_unlisted_from_participants(
    db: AsyncSession, client: AsyncTestClient[Any]
) -> None:
    w = await _setup(db)
    token = await api_token(client, "ada@example.org")
    body = (await client.get("/api/v1/events/demo/participants", headers=bearer(token))).json()
    assert [i["id"] for i in body["items"]] == [w["alpha"].id, w["beta"].id]


async def test_participants_api_staff_sees_all_and_filters_status(
    db: AsyncSession, client: AsyncTestClient[Any]
) -> None:
    w = await _setup(db)
    token = await api_token(client, "owner@example.org")
    body = (await client.get("/api/v1/events/demo/participants", headers=bearer(token))).json()
    assert body["total"] == 4
    body = (await client.get("/api/v1/events/demo/participants?status=pending", headers=bearer(token))).json()
    assert [i["id"] for i in body["items"]] == [w["pending"].id]


async def test_participants_api_cluster_partner_sees_own_cluster_extras_only(
    db: AsyncSession, client: AsyncTestClient[Any]
) -> None:
    w = await _setup(db)
    partner = await make_user(db, email="partner@example.org")
    await add_role(db, w["event"], partner, "cluster_partner", w["b"])
    token = await api_token(client, "partner@example.org")
    body = (await client.get("/api/v1/events/demo/participants?per_page=100", headers=bearer(token))).json()
    # Public ones from every cluster, plus the unlisted one of their own cluster; not cluster A's pending.
    assert sorted(i["id"] for i in body["items"]) == sorted([w["alpha"].id, w["beta"].id, w["hidden"].id])


async def test_participants_api_filters_and_pages(db: AsyncSession, client: AsyncTestClient[Any]) -> None:
    w = await _setup(db)
    token = await api_token(client, "ada@example.org")
    headers = bearer(token)

    async def ids(query: str) -> list[int]:
        response = await client.get(f"/api/v1/events/demo/participants?{query}", headers=headers)
        assert response.status_code == 200, response.text
        return [i["id"] for i in response.json()["items"]]

    assert await ids("kind=request") == [w["beta"].id]
    assert await ids(f"cluster={w['a'].id}") == [w["alpha"].id]
    assert await ids("country=fr") == [w["beta"].id]
    assert await ids("type=research") == [w["beta"].id]
    assert await ids("per_page=1&page=2") == [w["beta"].id]
    assert await ids("q=SENSORS pilot") == [w["beta"].id]


async def test_participants_api_bad_filters_give_message_per_field(
    db: AsyncSession, client: AsyncTestClient[Any]
) -> None:
    await _setup(db)
    token = await api_token(client, "ada@example.org")
    response = await client.get(
        "/api/v1/events/demo/participants?kind=gift&type=alien&cluster=x&page=0", headers=bearer(token)
    )
    assert response.status_code == 400
    assert sorted(response.json()["errors"]) == ["cluster", "kind", "page", "type"]


async def test_opportunities_api_lists_with_participant_and_organisation(
    db: AsyncSession, client: AsyncTestClient[Any]
) -> None:
    w = await _setup(db)
    token = await api_token(client, "ada@example.org")
    response = await client.get("/api/v1/events/demo/opportunities?q=pilot", headers=bearer(token))
    assert response.status_code == 200
    body = response.json()
    beta = w["beta"]
    beta_user = await db.get(User, beta.user_id)
    assert body["total"] == 1
    assert body["items"][0]["title"] == "Pilot shipyard"
    assert body["items"][0]["participant"] == {
        "id": beta.id,
        "name": beta_user.name,
        "type": "research",
        "cluster": {"id": w["b"].id, "name": w["b"].name},
    }
    assert body["items"][0]["organisation"]["name"] == "Beta Labs"


async def test_participants_api_anonymous_with_bad_filters_is_still_401(
    db: AsyncSession, client: AsyncTestClient[Any]
) -> None:
    await _setup(db)
    response = await client.get("/api/v1/events/demo/participants?page=zero")
    assert response.status_code == 401


async def test_participants_api_nul_in_query_is_400(db: AsyncSession, client: AsyncTestClient[Any]) -> None:
    await _setup(db)
    token = await api_token(client, "ada@example.org")
    response = await client.get("/api/v1/events/demo/participants?q=a%00b", headers=bearer(token))
    assert response.status_code == 400
    assert response.json()["errors"] == {"q": "Remove the control characters."}
