from __future__ import annotations

import re
from typing import Any

from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession

from tests.factories.accounts import make_user
from tests.factories.events import make_event
from tests.factories.registration import make_opportunity, make_organisation, make_participant
from tests.helpers import field_error, login


async def _setup(db: AsyncSession, extra: int = 0) -> dict[str, Any]:
    owner = await make_user(db, email="owner@example.org")
    event = await make_event(db, owner, slug="demo")
    viewer = await make_user(db, email="viewer@example.org", name="Vera Viewer")
    mine = await make_participant(
        db,
        event,
        user=viewer,
        organisation=await make_organisation(db, name="Viewer Org"),
        cluster=event.clusters[0],
    )
    await make_opportunity(db, mine, title="Composite hulls", kind="offer")
    others = [
        await make_participant(
            db,
            event,
            organisation=await make_organisation(db, name=f"Org {i:02d}", country="FR"),
            pitch="Sensors",
        )
        for i in range(extra)
    ]
    return {"event": event, "mine": mine, "others": others}


def _org_names(html: str) -> list[str]:
    return re.findall(r'<h3><a href="/organisations/\d+">([^<]+)</a></h3>', html)


async def test_directory_page_anonymous_is_redirected_to_login(
    db: AsyncSession, client: AsyncTestClient[Any]
) -> None:
    await _setup(db)
    response = await client.get("/events/demo/directory", follow_redirects=False)
    assert response.status_code in (302, 303)
    assert response.headers["location"] == "/login?next=/events/demo/directory"


async def test_directory_page_outsider_is_403(db: AsyncSession, client: AsyncTestClient[Any]) -> None:
    await _setup(db)
    await make_user(db, email="out@example.org")
    await login(client, "out@example.org")
    assert (await client.get("/events/demo/directory")).status_code == 403


async def test_directory_page_shows_cards_with_labelled_filters(
    db: AsyncSession, client: AsyncTestClient[Any]
) -> None:
    w = await _setup(db)
    await login(client, "viewer@example.org")
    response = await client.get("/events/demo/directory")
    assert response.status_code == 200
    html = response.text
    assert _org_names(html) == ["Viewer Org"]
    assert f'href="/organisations/{w["mine"].organisation_id}"' in html
    assert "Composite hulls" in html
    for name in ("q", "kind", "cluster", "country", "type"):
        assert f'<label for="f-{name}">' in html
    assert 'id="f-status"' not in html  # the status filter is for organisers only
    assert "<script" not in html and "style=" not in html


async def test_directory_page_pagination_keeps_filters(
    db: AsyncSession, client: AsyncTestClient[Any]
) -> None:
    await _setup(db, extra=22)
    await login(client, "viewer@example.org")
    response = await client.get("/events/demo/directory?q=sensors&country=FR")
    assert response.status_code == 200
    assert _org_names(response.text) == [f"Org {i:02d}" for i in range(20)]
    assert 'href="?q=sensors&amp;country=FR&page=2"' in response.text
    second = await client.get("/events/demo/directory?q=sensors&country=FR&page=2")
    assert _org_names(second.text) == ["Org 20", "Org 21"]
    assert 'value="sensors"' in second.text


async def test_directory_page_bad_filter_is_400_with_message(
    db: AsyncSession, client: AsyncTestClient[Any]
) -> None:
    await _setup(db)
    await login(client, "viewer@example.org")
    response = await client.get("/events/demo/directory?kind=gift&country=Italy")
    assert response.status_code == 400
    assert field_error(response.text, "country") == "Enter a two-letter country code such as IT or FR."
    assert field_error(response.text, "kind") == "Choose one of: offer, request, partnership, investment."


async def test_directory_opportunities_tab_lists_opportunities(
    db: AsyncSession, client: AsyncTestClient[Any]
) -> None:
    await _setup(db)
    await login(client, "viewer@example.org")
    response = await client.get("/events/demo/directory/opportunities?q=hulls")
    assert response.status_code == 200
    assert re.findall(r"<h3>([^<]+)</h3>", response.text) == ["Composite hulls"]
    assert 'aria-current="page">Opportunities' in response.text


async def test_directory_page_unknown_event_is_404(db: AsyncSession, client: AsyncTestClient[Any]) -> None:
    await _setup(db)
    await login(client, "viewer@example.org")
    assert (await client.get("/events/nope/directory")).status_code == 404
