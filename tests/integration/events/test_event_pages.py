from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession

from tests.factories.accounts import make_user
from tests.factories.events import add_role, make_event
from tests.helpers import login


async def test_landing_lists_open_events_and_past_ones(
    db: AsyncSession, client: AsyncTestClient[Any]
) -> None:
    owner = await make_user(db)
    await make_event(db, owner, slug="open-day", status="open")
    await make_event(db, owner, slug="old-day", status="closed")
    await make_event(db, owner, slug="hidden-day", status="draft")
    html = (await client.get("/")).text
    assert 'href="/events/open-day"' in html
    assert "Past events" in html
    assert 'href="/events/old-day"' in html
    assert "hidden-day" not in html
    assert "Create an event" not in html


async def test_landing_shows_drafts_and_create_link_to_admins(
    db: AsyncSession, client: AsyncTestClient[Any]
) -> None:
    admin = await make_user(db, is_admin=True)
    await make_event(db, admin, slug="my-draft", status="draft")
    await login(client, admin.email)
    html = (await client.get("/")).text
    assert 'href="/events/my-draft/admin"' in html
    assert 'href="/admin/events/new"' in html


async def test_event_page_shows_details_and_register(db: AsyncSession, client: AsyncTestClient[Any]) -> None:
    owner = await make_user(db)
    event = await make_event(db, owner, slug="shown", status="open")
    response = await client.get("/events/shown")
    assert response.status_code == 200
    html = response.text
    assert event.title in html
    assert 'href="/events/shown/register"' in html
    assert "Advanced Materials" in html
    assert "09:00\u201312:00" in html
    assert "/events/shown/admin" not in html


async def test_event_page_links_admin_for_staff(db: AsyncSession, client: AsyncTestClient[Any]) -> None:
    owner = await make_user(db)
    event = await make_event(db, owner, slug="staffed")
    partner = await make_user(db)
    await add_role(db, event, partner, "cluster_partner", event.clusters[0])
    await login(client, partner.email)
    assert 'href="/events/staffed/admin"' in (await client.get("/events/staffed")).text


async def test_event_page_registration_window_in_event_zone(
    db: AsyncSession, client: AsyncTestClient[Any]
) -> None:
    owner = await make_user(db)
    event = await make_event(db, owner, slug="later", status="open", timezone="Europe/Lisbon")
    opens = datetime.now(UTC).replace(microsecond=0) + timedelta(days=3)
    event.registration_opens_at = opens
    await db.commit()
    html = (await client.get("/events/later")).text
    assert f"opens on {opens.astimezone(ZoneInfo('Europe/Lisbon')):%a %d %b %Y, %H:%M}" in html
    assert "/events/later/register" not in html


async def test_event_page_draft_is_404_for_outsiders(db: AsyncSession, client: AsyncTestClient[Any]) -> None:
    owner = await make_user(db)
    await make_event(db, owner, slug="sketch", status="draft")
    assert (await client.get("/events/sketch")).status_code == 404
    await login(client, owner.email)
    assert (await client.get("/events/sketch")).status_code == 200


async def test_event_page_unknown_is_404(client: AsyncTestClient[Any]) -> None:
    response = await client.get("/events/no-such-event")
    assert response.status_code == 404
    assert "Not found" in response.text
