"""Mail preferences: the /account/mail page, and the queue honouring each user's choices."""

from __future__ import annotations

import re
from typing import Any

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from clockevents.accounts.models import User
from clockevents.errors import NotAuthenticated, ValidationFailed
from clockevents.matchmaking.requests import send_request
from clockevents.notify import mail
from clockevents.notify.mail_models import OutboundMail
from clockevents.registration.services import set_status
from tests.factories.accounts import make_user
from tests.factories.events import make_event
from tests.factories.matchmaking import set_matchmaking
from tests.factories.registration import make_participant
from tests.helpers import form_post, login, signup


def checked(html: str) -> list[str]:
    return sorted(re.findall(r'name="(\w+)" value="on" checked', html))


async def outbox(db: AsyncSession) -> list[tuple[str, str]]:
    rows = await db.execute(select(OutboundMail.to, OutboundMail.kind).order_by(OutboundMail.id))
    return [tuple(r) for r in rows.all()]  # type: ignore[misc]


async def test_mail_page_requires_login(client: AsyncTestClient[Any]) -> None:
    response = await client.get("/account/mail", follow_redirects=False)
    assert (response.status_code, response.headers["location"].split("?")[0]) == (302, "/login")


async def test_mail_page_saves_choices(client: AsyncTestClient[Any], db: AsyncSession) -> None:
    await signup(client, "pref@example.org")
    page = await client.get("/account/mail")
    assert page.status_code == 200
    assert checked(page.text) == ["agenda", "registration", "reminders", "requests"]
    assert '<label for="mail-reminders">' in page.text

    saved = await form_post(client, "/account/mail", {"agenda": "on", "reminders": "on"})

    assert saved.status_code == 200
    assert "Your choices are saved." in saved.text
    assert checked(saved.text) == ["agenda", "reminders"]
    assert checked((await client.get("/account/mail")).text) == ["agenda", "reminders"]
    user = await db.scalar(select(User).where(User.email == "pref@example.org"))
    assert await mail.get_preferences(db, user) == {
        "registration": False,
        "requests": False,
        "agenda": True,
        "reminders": True,
    }


async def test_set_preferences_rejects_unknown_kinds_and_non_booleans(db: AsyncSession) -> None:
    user = await make_user(db)
    with pytest.raises(ValidationFailed) as caught:
        await mail.set_preferences(db, user, {"spam": True, "agenda": "yes"})
    assert caught.value.fields == {"spam": "Unknown kind of e-mail.", "agenda": "Choose on or off."}
    assert await mail.get_preferences(db, user) == dict.fromkeys(mail.KIND_LABELS, True)
    with pytest.raises(NotAuthenticated):
        await mail.get_preferences(db, None)


async def test_registration_approval_mail_respects_preference(db: AsyncSession) -> None:
    owner = await make_user(db)
    event = await make_event(db, owner, requires_approval=True)
    wants = await make_participant(db, event, status="pending")
    refuses = await make_participant(db, event, status="pending")
    refusing_user = await db.get(User, refuses.user_id)
    await mail.set_preferences(db, refusing_user, {"requests": True})
    for participant in (wants, refuses):
        await set_status(db, owner, participant, "approved")
    await db.commit()

    wanted_user = await db.get(User, wants.user_id)
    assert await outbox(db) == [(wanted_user.email, "registration")]  # type: ignore[union-attr]


async def test_request_mail_queued_with_request_and_rolled_back_with_it(db: AsyncSession) -> None:
    owner = await make_user(db)
    event = await make_event(db, owner)
    await set_matchmaking(db, event, request_mode="accept")
    sender_user = await make_user(db)
    await make_participant(db, event, user=sender_user)
    receiver = await make_participant(db, event)
    receiver_email = (await db.get(User, receiver.user_id)).email  # type: ignore[union-attr]
    body = {"to": receiver.id, "message": "Shall we talk?"}

    await send_request(db, event, sender_user, body)
    await db.rollback()
    assert await db.scalar(select(func.count()).select_from(OutboundMail)) == 0

    await db.refresh(event)
    await db.refresh(sender_user)
    await send_request(db, event, sender_user, body)
    await db.commit()
    assert await outbox(db) == [(receiver_email, "requests")]
    row = await db.scalar(select(OutboundMail))
    assert "Their message: Shall we talk?" in row.text  # type: ignore[union-attr]
    assert f"/events/{event.slug}/requests" in row.text  # type: ignore[union-attr]


async def test_request_mail_skipped_when_requests_switched_off(
    client: AsyncTestClient[Any], db: AsyncSession
) -> None:
    owner = await make_user(db)
    event = await make_event(db, owner)
    await set_matchmaking(db, event, request_mode="accept")
    sender_user = await make_user(db)
    await make_participant(db, event, user=sender_user)
    receiver_user = await make_user(db, email="quiet@example.org")
    receiver = await make_participant(db, event, user=receiver_user)
    await login(client, "quiet@example.org")
    await form_post(client, "/account/mail", {"agenda": "on"})

    await send_request(db, event, sender_user, {"to": receiver.id})
    await db.commit()

    assert await outbox(db) == []
