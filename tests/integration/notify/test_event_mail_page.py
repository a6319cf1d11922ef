"""The organisers' reminder setting page: /events/{slug}/admin/mail."""

from __future__ import annotations

from typing import Any

from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession

from clockevents.notify.mail_models import EventMailSettings
from tests.factories.accounts import make_user
from tests.factories.events import make_event
from tests.helpers import field_error, form_post, login


async def test_event_mail_page_organiser_sets_minutes(client: AsyncTestClient[Any], db: AsyncSession) -> None:
    owner = await make_user(db, email="owner@example.org")
    event = await make_event(db, owner)
    await login(client, "owner@example.org")

    page = await client.get(f"/events/{event.slug}/admin/mail")
    assert page.status_code == 200
    assert "<strong>5 minutes</strong>" in page.text  # virtual events default to 5

    saved = await form_post(client, f"/events/{event.slug}/admin/mail", {"reminder_minutes": "20"})
    assert saved.status_code == 200
    assert "<strong>20 minutes</strong>" in saved.text
    row = await db.get(EventMailSettings, event.id)
    assert row is not None and row.reminder_minutes == 20

    reset = await form_post(client, f"/events/{event.slug}/admin/mail", {"reminder_minutes": ""})
    assert "<strong>5 minutes</strong>" in reset.text


async def test_event_mail_page_bad_minutes_reshown_with_message(
    client: AsyncTestClient[Any], db: AsyncSession
) -> None:
    owner = await make_user(db, email="owner2@example.org")
    event = await make_event(db, owner)
    await login(client, "owner2@example.org")

    for bad in ("abc", "0", "99999999"):
        response = await form_post(client, f"/events/{event.slug}/admin/mail", {"reminder_minutes": bad})
        assert response.status_code == 400
        assert field_error(response.text, "reminder_minutes") is not None
        assert f'value="{bad}"' in response.text
    assert await db.get(EventMailSettings, event.id) is None


async def test_event_mail_page_refuses_others_and_unknown_events(
    client: AsyncTestClient[Any], db: AsyncSession
) -> None:
    owner = await make_user(db)
    event = await make_event(db, owner)
    await make_user(db, email="stranger@example.org")
    await login(client, "stranger@example.org")

    assert (await client.get(f"/events/{event.slug}/admin/mail")).status_code == 403
    assert (
        await form_post(client, f"/events/{event.slug}/admin/mail", {"reminder_minutes": "9"})
    ).status_code == 403
    assert (await client.get("/events/no-such-event/admin/mail")).status_code == 404
