"""Matchmaking pages, driven as a browser: one client that logs in as each person in turn.

One client only: a second AsyncTestClient on the same app breaks on PostgreSQL (its engine is
used from another event loop), which the shared ``client2`` fixture hits too.
"""

from __future__ import annotations

import re
from typing import Any

from litestar.testing import AsyncTestClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from clockevents.matchmaking.models import MatchmakingSettings, MeetingRequest
from clockevents.notify.models import Notification
from tests.factories.accounts import make_user
from tests.factories.matchmaking import make_request, set_matchmaking
from tests.helpers import field_error, form_post, login
from tests.integration.matchmaking.conftest import World


async def _status(db: AsyncSession, request_id: int) -> str | None:
    await db.commit()  # end the read snapshot; nothing is expired (expire_on_commit=False)
    return await db.scalar(select(MeetingRequest.status).where(MeetingRequest.id == request_id))


async def test_request_form_then_accept_on_requests_page(
    client: AsyncTestClient[Any], db: AsyncSession, world: World
) -> None:
    slug = world.event.slug
    await login(client, world.alice_user.email)
    form = await client.get(f"/events/{slug}/participants/{world.bob.id}/request")
    assert form.status_code == 200
    assert 'name="_csrf_token"' in form.text and '<label for="f-message">Message</label>' in form.text
    assert 'name="slot"' not in form.text  # the organisers schedule in this event
    sent = await form_post(
        client, f"/events/{slug}/participants/{world.bob.id}/request", {"message": "Hello"}
    )
    assert (sent.status_code, sent.headers["location"]) == (302, f"/events/{slug}/requests")
    request_id = await db.scalar(select(MeetingRequest.id))
    assert request_id is not None
    await login(client, world.bob_user.email)
    page = await client.get(f"/events/{slug}/requests")
    assert page.status_code == 200
    assert f'action="/events/{slug}/requests/{request_id}/accept"' in page.text
    assert "Hello" in page.text
    accepted = await form_post(
        client, f"/events/{slug}/requests/{request_id}/accept", {"next": f"/events/{slug}/requests"}
    )
    assert accepted.status_code == 302
    assert await _status(db, request_id) == "accepted"


async def test_decline_with_reason_and_cancel_pages(
    client: AsyncTestClient[Any], db: AsyncSession, world: World
) -> None:
    slug = world.event.slug
    first = await make_request(db, world.alice, world.bob)
    second = await make_request(db, world.alice, world.carol)
    await login(client, world.bob_user.email)
    declined = await form_post(client, f"/events/{slug}/requests/{first.id}/decline", {"reason": "No time"})
    assert declined.status_code == 302
    assert await _status(db, first.id) == "declined"
    assert (
        await db.scalar(select(MeetingRequest.decline_reason).where(MeetingRequest.id == first.id))
        == "No time"
    )
    await login(client, world.alice_user.email)
    page = await client.get(f"/events/{slug}/requests")
    assert "Reason: No time" in page.text
    assert (await form_post(client, f"/events/{slug}/requests/{second.id}/cancel", {})).status_code == 302
    assert await _status(db, second.id) == "cancelled"
    again = await form_post(client, f"/events/{slug}/requests/{second.id}/cancel", {})
    assert again.status_code == 409
    assert "This request is already cancelled." in again.text


async def test_request_form_errors_are_shown_per_field(
    client: AsyncTestClient[Any], db: AsyncSession, world: World
) -> None:
    slug = world.event.slug
    await set_matchmaking(db, world.event, scheduling_mode="self_booking")
    await login(client, world.alice_user.email)
    form = await client.get(f"/events/{slug}/participants/{world.bob.id}/request")
    assert '<label for="f-slot">Time slot (Europe/Rome)</label>' in form.text
    first_slot = re.search(r'<option value="(\d+)">', form.text)
    assert first_slot is not None
    response = await form_post(
        client, f"/events/{slug}/participants/{world.bob.id}/request", {"message": "x" * 2001, "slot": ""}
    )
    assert response.status_code == 400
    assert field_error(response.text, "message") == "Use at most 2000 characters."
    assert field_error(response.text, "slot") == "Choose a time slot for the meeting."
    assert "x" * 2001 in response.text  # what was typed is shown again
    booked = await form_post(
        client,
        f"/events/{slug}/participants/{world.bob.id}/request",
        {"message": "", "slot": first_slot.group(1)},
    )
    assert booked.status_code == 302
    assert await db.scalar(select(func.count()).select_from(MeetingRequest)) == 1


async def test_request_pages_status_codes(
    client: AsyncTestClient[Any], db: AsyncSession, world: World
) -> None:
    slug = world.event.slug
    anonymous = await client.get(f"/events/{slug}/requests", follow_redirects=False)
    assert (anonymous.status_code, anonymous.headers["location"]) == (
        302,
        f"/login?next=/events/{slug}/requests",
    )
    outsider = await make_user(db)
    await login(client, outsider.email)
    assert (await client.get(f"/events/{slug}/requests")).status_code == 403
    assert (await client.get(f"/events/{slug}/participants/{world.bob.id}/request")).status_code == 403
    assert (await client.get("/events/nope/requests")).status_code == 404
    await login(client, world.alice_user.email)
    assert (await client.get(f"/events/{slug}/participants/999999/request")).status_code == 404
    request = await make_request(db, world.alice, world.bob)
    assert (await form_post(client, f"/events/{slug}/requests/{request.id}/accept", {})).status_code == 403
    assert (await form_post(client, f"/events/{slug}/requests/999999/accept", {})).status_code == 404
    await make_request(db, world.carol, world.alice, status="accepted")
    duplicate = await form_post(
        client, f"/events/{slug}/participants/{world.bob.id}/request", {"message": "again"}
    )
    assert duplicate.status_code == 409
    assert "already an open meeting request" in duplicate.text


async def test_recommendations_page(client: AsyncTestClient[Any], db: AsyncSession, world: World) -> None:
    world.alice.keywords = ["graphene"]
    world.carol.keywords = ["graphene"]
    await db.commit()
    await login(client, world.alice_user.email)
    page = await client.get(f"/events/{world.event.slug}/recommendations")
    assert page.status_code == 200
    assert "shares keyword graphene · different cluster (Nautical)" in page.text
    assert f'href="/events/{world.event.slug}/participants/{world.carol.id}/request"' in page.text


async def test_admin_requests_page_counts_filter_match_priority_settings(
    client: AsyncTestClient[Any], db: AsyncSession, world: World
) -> None:
    slug = world.event.slug
    await make_request(db, world.alice, world.bob)
    declined = await make_request(db, world.bob, world.carol, status="declined")
    await login(client, world.owner.email)
    page = await client.get(f"/events/{slug}/admin/requests")
    assert page.status_code == 200
    assert '<span class="status status-pending">pending</span> <strong>1</strong>' in page.text
    filtered = await client.get(f"/events/{slug}/admin/requests", params={"status": "declined"})
    assert "Requests · declined (1)" in filtered.text
    bad = await form_post(client, f"/events/{slug}/admin/requests/match", {"a": "", "b": "", "priority": "5"})
    assert bad.status_code == 400
    assert (field_error(bad.text, "a"), field_error(bad.text, "priority")) == (
        "Choose a participant.",
        "Choose a priority of 1, 2 or 3.",
    )
    made = await form_post(
        client,
        f"/events/{slug}/admin/requests/match",
        {"a": world.alice.id, "b": world.carol.id, "priority": "3"},
    )
    assert made.status_code == 302
    match = await db.scalar(select(MeetingRequest).where(MeetingRequest.origin == "organiser"))
    assert match is not None and (match.status, match.priority) == ("accepted", 3)
    changed = await form_post(
        client, f"/events/{slug}/admin/requests/{declined.id}/priority", {"priority": "2"}
    )
    assert changed.status_code == 302
    await db.commit()  # end the read snapshot; nothing is expired (expire_on_commit=False)
    assert await db.scalar(select(MeetingRequest.priority).where(MeetingRequest.id == declined.id)) == 2
    bad_settings = await form_post(
        client,
        f"/events/{slug}/admin/matchmaking-settings",
        {
            "request_mode": "auto",
            "scheduling_mode": "organiser",
            "max_sent": "many",
            "max_received": "",
            "expiry_hours": "24",
        },
    )
    assert bad_settings.status_code == 400
    assert (
        field_error(bad_settings.text, "max_sent")
        == "Enter a whole number of requests, or leave empty for no limit."
    )
    saved = await form_post(
        client,
        f"/events/{slug}/admin/matchmaking-settings",
        {
            "request_mode": "auto",
            "scheduling_mode": "self_booking",
            "max_sent": "5",
            "max_received": "",
            "expiry_hours": "",
        },
    )
    assert saved.status_code == 302
    rules = await db.get(MatchmakingSettings, world.event.id)
    assert rules is not None
    await db.refresh(rules)
    assert (rules.request_mode, rules.scheduling_mode, rules.max_sent, rules.max_received) == (
        "auto",
        "self_booking",
        5,
        None,
    )
    await login(client, world.alice_user.email)
    assert (await client.get(f"/events/{slug}/admin/requests")).status_code == 403
    assert (
        await form_post(client, f"/events/{slug}/admin/matchmaking-settings", {"max_sent": "1"})
    ).status_code == 403


async def test_notifications_page_and_mark_read(
    client: AsyncTestClient[Any], db: AsyncSession, world: World
) -> None:
    slug = world.event.slug
    await login(client, world.alice_user.email)
    await form_post(client, f"/events/{slug}/participants/{world.bob.id}/request", {"message": "Hi"})
    note_id = await db.scalar(select(Notification.id).where(Notification.user_id == world.bob_user.id))
    await login(client, world.bob_user.email)
    page = await client.get("/notifications")
    assert page.status_code == 200 and "asked you for a meeting." in page.text
    assert f'action="/notifications/{note_id}/read"' in page.text
    assert (await form_post(client, f"/notifications/{note_id}/read", {})).status_code == 302
    await db.commit()  # end the read snapshot; nothing is expired (expire_on_commit=False)
    assert await db.scalar(select(Notification.read_at).where(Notification.id == note_id)) is not None
    assert (await form_post(client, "/notifications/read-all", {})).status_code == 302
    await login(client, world.alice_user.email)
    assert (await form_post(client, f"/notifications/{note_id}/read", {})).status_code == 404


async def test_directory_links_to_the_request_form(
    client: AsyncTestClient[Any], db: AsyncSession, world: World
) -> None:
    slug = world.event.slug
    await login(client, world.alice_user.email)
    page = await client.get(f"/events/{slug}/directory")
    assert page.status_code == 200
    assert f'href="/events/{slug}/participants/{world.bob.id}/request"' in page.text
    assert f'href="/events/{slug}/participants/{world.alice.id}/request"' not in page.text
