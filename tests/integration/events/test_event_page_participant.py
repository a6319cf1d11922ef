from __future__ import annotations

from typing import Any

from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession

from tests.factories.accounts import make_user
from tests.factories.events import make_event
from tests.factories.registration import make_participant
from tests.helpers import login


async def test_event_page_registered_participant_sees_own_links_not_register(
    client: AsyncTestClient[Any], db: AsyncSession
) -> None:
    owner = await make_user(db)
    event = await make_event(db, owner, slug="links-day")
    person = await make_user(db, email="reg@example.org")
    await make_participant(db, event, user=person)
    await login(client, "reg@example.org")
    page = await client.get("/events/links-day")
    assert page.status_code == 200
    assert 'href="/events/links-day/register"' not in page.text
    for path in ("profile", "opportunities", "recommendations", "requests", "agenda"):
        assert f'href="/events/links-day/{path}"' in page.text


async def test_event_page_unregistered_user_sees_register_only(
    client: AsyncTestClient[Any], db: AsyncSession
) -> None:
    owner = await make_user(db)
    await make_event(db, owner, slug="open-day")
    await make_user(db, email="new@example.org")
    await login(client, "new@example.org")
    page = await client.get("/events/open-day")
    assert 'href="/events/open-day/register"' in page.text
    assert 'href="/events/open-day/requests"' not in page.text
