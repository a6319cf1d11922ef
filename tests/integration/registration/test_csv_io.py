from __future__ import annotations

from typing import Any

from litestar.testing import AsyncTestClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from clockevents.accounts.models import User
from clockevents.registration.models import Participant
from tests.factories.accounts import make_user
from tests.factories.events import add_role, make_event
from tests.factories.registration import make_organisation, make_participant
from tests.helpers import api_token, bearer, csrf_token, login

HEADER = "email,name,organisation,organisation_kind,country,city,website,cluster,type,job_title,status,listed,keywords"


async def _setup(db: AsyncSession) -> dict[str, Any]:
    owner = await make_user(db, email="owner@example.org")
    event = await make_event(db, owner, slug="demo")
    ada = await make_user(db, email="ada@example.org", name="Ada")
    await make_participant(
        db,
        event,
        user=ada,
        organisation=await make_organisation(db, name="@Alpha", country="IT"),
        cluster=event.clusters[0],
        keywords=["=cmd", "paint"],
    )
    return {"event": event, "a": event.clusters[0], "b": event.clusters[1]}


async def _count(db: AsyncSession) -> int:
    await db.commit()
    return int(await db.scalar(select(func.count()).select_from(Participant)) or 0)


def _expected_export(cluster: str) -> str:
    return (
        HEADER
        + f"\r\nada@example.org,Ada,'@Alpha,business,IT,Pisa,,{cluster},business,,approved,yes,'=cmd; paint\r\n"
    )


async def test_csv_export_api_exact_content(db: AsyncSession, client: AsyncTestClient[Any]) -> None:
    w = await _setup(db)
    token = await api_token(client, "owner@example.org")
    response = await client.get("/api/v1/events/demo/participants.csv", headers=bearer(token))
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"] == 'attachment; filename="demo-participants.csv"'
    assert response.text == _expected_export(w["a"].name)


async def test_csv_export_page_exact_content(db: AsyncSession, client: AsyncTestClient[Any]) -> None:
    w = await _setup(db)
    await login(client, "owner@example.org")
    response = await client.get("/events/demo/admin/participants.csv")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.text == _expected_export(w["a"].name)


async def test_csv_export_anonymous_is_401(db: AsyncSession, client: AsyncTestClient[Any]) -> None:
    await _setup(db)
    assert (await client.get("/api/v1/events/demo/participants.csv")).status_code == 401


async def test_csv_import_api_text_csv_creates_everyone(
    db: AsyncSession, client: AsyncTestClient[Any]
) -> None:
    w = await _setup(db)
    token = await api_token(client, "owner@example.org")
    body = "\n".join(
        [
            HEADER,
            f"nina@example.org,Nina,Nautica,business,IT,,,{w['b'].name},business,CEO,,yes,yachts",
            f"ada2@example.org,Ada Two,@Alpha,,IT,,,{w['b'].name},business,CTO,pending,no,",
        ]
    )
    response = await client.post(
        "/api/v1/events/demo/participants/import",
        content=body.encode(),
        headers={**bearer(token), "content-type": "text/csv"},
    )
    assert response.status_code == 201, response.text
    data = response.json()
    assert (data["imported"], data["accounts_created"], data["accounts_linked"]) == (2, 2, 0)
    assert await _count(db) == 3
    nina = await db.scalar(select(User).where(User.email == "nina@example.org"))
    status = await db.scalar(select(Participant.status).where(Participant.user_id == nina.id))
    assert status == "approved"


async def test_csv_import_api_bad_row_imports_nothing(db: AsyncSession, client: AsyncTestClient[Any]) -> None:
    w = await _setup(db)
    token = await api_token(client, "owner@example.org")
    rows = [HEADER] + [
        f"p{i}@example.org,P{i},Org {i},business,IT,,,{w['b'].name},business,CEO,,yes," for i in range(1, 6)
    ]
    rows.append(f"p6@example.org,P6,Org 6,business,Italia,,,{w['b'].name},business,CEO,,yes,")
    response = await client.post(
        "/api/v1/events/demo/participants/import",
        content="\n".join(rows).encode(),
        headers={**bearer(token), "content-type": "text/csv"},
    )
    assert response.status_code == 400
    assert response.json()["errors"] == {
        "row 7: country": "Enter a two-letter country code such as IT or FR."
    }
    assert await _count(db) == 1
    assert (
        await db.scalar(select(func.count()).select_from(User).where(User.email.like("p%@example.org"))) == 0
    )


async def test_csv_import_api_multipart(db: AsyncSession, client: AsyncTestClient[Any]) -> None:
    w = await _setup(db)
    token = await api_token(client, "owner@example.org")
    body = HEADER + f"\nm@example.org,M,Org M,business,IT,,,{w['a'].name},business,CEO,,,\n"
    response = await client.post(
        "/api/v1/events/demo/participants/import",
        files={"file": ("people.csv", body.encode(), "text/csv")},
        headers=bearer(token),
    )
    assert response.status_code == 201, response.text
    assert response.json()["imported"] == 1


async def test_csv_import_api_partner_other_cluster_is_refused(
    db: AsyncSession, client: AsyncTestClient[Any]
) -> None:
    w = await _setup(db)
    partner = await make_user(db, email="partner@example.org")
    await add_role(db, w["event"], partner, "cluster_partner", w["a"])
    token = await api_token(client, "partner@example.org")
    body = HEADER + f"\nq@example.org,Q,Org Q,business,IT,,,{w['b'].name},business,CEO,,,\n"
    response = await client.post(
        "/api/v1/events/demo/participants/import",
        content=body.encode(),
        headers={**bearer(token), "content-type": "text/csv"},
    )
    assert response.status_code == 400
    assert response.json()["errors"] == {
        "row 2: cluster": f"You may import participants into {w['a'].name} only."
    }


async def test_csv_import_api_participant_is_403(db: AsyncSession, client: AsyncTestClient[Any]) -> None:
    await _setup(db)
    token = await api_token(client, "ada@example.org")
    response = await client.post(
        "/api/v1/events/demo/participants/import",
        content=HEADER.encode(),
        headers={**bearer(token), "content-type": "text/csv"},
    )
    assert response.status_code == 403


async def test_csv_import_page_lists_problems_and_imports_nothing(
    db: AsyncSession, client: AsyncTestClient[Any]
) -> None:
    await _setup(db)
    await login(client, "owner@example.org")
    token = await csrf_token(client)
    body = HEADER + "\nbad,X,Org,business,IT,,,Nowhere,business,CEO,,,\n"
    response = await client.post(
        "/events/demo/admin/participants/import",
        data={"_csrf_token": token},
        files={"file": ("people.csv", body.encode(), "text/csv")},
    )
    assert response.status_code == 400
    assert "<li>row 2: email: Enter a valid e-mail address.</li>" in response.text
    assert "<li>row 2: cluster: Use one of the event&#39;s clusters:" in response.text
    assert await _count(db) == 1


async def test_csv_import_page_success(db: AsyncSession, client: AsyncTestClient[Any]) -> None:
    w = await _setup(db)
    await login(client, "owner@example.org")
    form = await client.get("/events/demo/admin/participants/import")
    assert form.status_code == 200
    assert '<label for="f-file">CSV file</label>' in form.text
    token = await csrf_token(client)
    body = HEADER + f"\nz@example.org,Zed,Org Z,business,IT,,,{w['a'].name},business,CEO,,,\n"
    response = await client.post(
        "/events/demo/admin/participants/import",
        data={"_csrf_token": token},
        files={"file": ("people.csv", body.encode(), "text/csv")},
    )
    assert response.status_code == 200
    assert "Imported 1 participant" in response.text
    assert await _count(db) == 2


async def test_csv_import_page_without_file_is_400(db: AsyncSession, client: AsyncTestClient[Any]) -> None:
    await _setup(db)
    await login(client, "owner@example.org")
    token = await csrf_token(client)
    response = await client.post(
        "/events/demo/admin/participants/import",
        data={"_csrf_token": token},
        files={"file": ("", b"", "text/csv")},
    )
    assert response.status_code == 400
    assert '<p class="error" id="e-file">Choose a CSV file to upload.</p>' in response.text
