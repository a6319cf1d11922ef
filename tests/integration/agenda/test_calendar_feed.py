"""Calendar feeds over HTTP: the secret .ics address, the API, the download and the page."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import icalendar
import vobject
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession

from clockevents.agenda import feeds
from tests.factories.accounts import make_user
from tests.helpers import api_token, bearer, form_post, json_post, login
from tests.integration.agenda import calendar_scenario

BASE = "http://testserver.local"


def _uids_and_status(body: bytes) -> list[tuple[str, int, str]]:
    cal = icalendar.Calendar.from_ical(body)
    return [(str(e["UID"]), int(e["SEQUENCE"]), str(e["STATUS"])) for e in cal.walk("VEVENT")]


def _path(url: str) -> str:
    return url.removeprefix(BASE)


async def test_feed_route_serves_text_calendar(client: AsyncTestClient[Any], db: AsyncSession) -> None:
    s = await calendar_scenario.build(db)
    token = (await feeds.token_for(db, s.bob.id)).token
    await db.commit()

    response = await client.get(f"/calendar/{token}.ics")

    assert response.status_code == 200
    assert response.headers["content-type"] == "text/calendar; charset=utf-8"
    assert _uids_and_status(response.content) == [
        (s.bob_anna.uid, 0, "CONFIRMED"),
        (s.bob_carla.uid, 0, "CONFIRMED"),
    ]
    parsed = vobject.readOne(response.text)
    assert [e.summary.value for e in parsed.vevent_list] == [
        "Meeting with Anna Rossi (Grafene Verdi Srl)",
        "Meeting with Carla Sousa (Lisboa Bio Lda)",
    ]
    assert [e.location.value for e in parsed.vevent_list] == [
        f"{BASE}/meetings/{s.bob_anna.id}/room",
        f"{BASE}/meetings/{s.bob_carla.id}/room",
    ]
    assert parsed.vevent_list[0].dtstart.value.astimezone(UTC) == datetime(2026, 10, 24, 8, 0, tzinfo=UTC)


async def test_feed_route_unknown_revoked_and_malformed_give_same_404(
    client: AsyncTestClient[Any], db: AsyncSession
) -> None:
    s = await calendar_scenario.build(db)
    token = (await feeds.token_for(db, s.bob.id)).token
    await feeds.revoke(db, s.bob.id)
    await db.commit()

    answers = [await client.get(url) for url in ("/calendar/not-a-token.ics", f"/calendar/{token}.ics")]
    answers.append(await client.get(f"/calendar/{token}"))

    assert [r.status_code for r in answers] == [404, 404, 404]
    assert answers[0].content == answers[1].content == answers[2].content


async def test_api_calendar_feed_get_and_rotate(client: AsyncTestClient[Any], db: AsyncSession) -> None:
    s = await calendar_scenario.build(db)
    headers = bearer(await api_token(client, "bob@example.org"))

    first = await client.get("/api/v1/events/dst-day/calendar-feed", headers=headers)
    rotated = await client.post("/api/v1/events/dst-day/calendar-feed", headers=headers)

    assert first.status_code == 200
    assert rotated.status_code == 201
    old, new = first.json(), rotated.json()
    assert new["https"] != old["https"]
    assert new["webcal"] == "webcal://" + new["https"].removeprefix("http://")
    assert (await client.get(_path(old["https"]))).status_code == 404
    feed = await client.get(_path(new["https"]))
    assert _uids_and_status(feed.content) == [
        (s.bob_anna.uid, 0, "CONFIRMED"),
        (s.bob_carla.uid, 0, "CONFIRMED"),
    ]
    again = await client.get("/api/v1/events/dst-day/calendar-feed", headers=headers)
    assert again.json() == new


async def test_api_calendar_feed_errors(client: AsyncTestClient[Any], db: AsyncSession) -> None:
    await calendar_scenario.build(db)
    await make_user(db, email="stranger@example.org")
    stranger = bearer(await api_token(client, "stranger@example.org"))

    assert (await client.get("/api/v1/events/dst-day/calendar-feed")).status_code == 401
    assert (await client.get("/api/v1/events/dst-day/calendar-feed", headers=stranger)).status_code == 403
    assert (await client.post("/api/v1/events/dst-day/calendar-feed", headers=stranger)).status_code == 403
    assert (await client.get("/api/v1/events/nowhere/calendar-feed", headers=stranger)).status_code == 404
    assert (await client.get("/api/v1/events/dst-day/agenda.ics", headers=stranger)).status_code == 403
    assert (await client.get("/api/v1/events/nowhere/agenda.ics", headers=stranger)).status_code == 404
    assert (await client.get("/api/v1/events/dst-day/agenda.ics")).status_code == 401


async def test_api_agenda_ics_with_bearer(client: AsyncTestClient[Any], db: AsyncSession) -> None:
    s = await calendar_scenario.build(db)
    headers = bearer(await api_token(client, "carla@example.org"))

    response = await client.get("/api/v1/events/dst-day/agenda.ics", headers=headers)

    assert response.status_code == 200
    assert response.headers["content-type"] == "text/calendar; charset=utf-8"
    assert response.headers["content-disposition"] == 'attachment; filename="dst-day-agenda.ics"'
    assert _uids_and_status(response.content) == [
        (s.bob_carla.uid, 0, "CONFIRMED"),
        (s.anna_carla.uid, 0, "CONFIRMED"),
    ]


async def test_page_agenda_ics_with_session_cookie(client: AsyncTestClient[Any], db: AsyncSession) -> None:
    s = await calendar_scenario.build(db)
    await login(client, "anna@example.org")

    response = await client.get("/events/dst-day/agenda.ics")

    assert response.status_code == 200
    assert _uids_and_status(response.content) == [
        (s.bob_anna.uid, 0, "CONFIRMED"),
        (s.anna_carla.uid, 0, "CONFIRMED"),
    ]


async def test_page_calendar_shows_links_and_help(client: AsyncTestClient[Any], db: AsyncSession) -> None:
    s = await calendar_scenario.build(db)
    await login(client, "bob@example.org")

    response = await client.get("/events/dst-day/calendar")

    token = (await feeds.token_for(db, s.bob.id)).token
    assert response.status_code == 200
    assert f'<code id="feed-https">{BASE}/calendar/{token}.ics</code>' in response.text
    assert f'href="webcal://testserver.local/calendar/{token}.ics"' in response.text
    for hint in ("From URL", "New Calendar Subscription", "Subscribe from web", "On the Network"):
        assert hint in response.text


async def test_page_calendar_rotate_replaces_address(client: AsyncTestClient[Any], db: AsyncSession) -> None:
    s = await calendar_scenario.build(db)
    bob_id = s.bob.id
    await login(client, "bob@example.org")
    await client.get("/events/dst-day/calendar")
    old = (await feeds.token_for(db, bob_id)).token
    await db.commit()

    response = await form_post(client, "/events/dst-day/calendar/rotate", {})
    page = await client.get(response.headers["location"])

    db.expire_all()
    new = (await feeds.token_for(db, bob_id)).token
    assert (response.status_code, response.headers["location"]) in [
        (302, "/events/dst-day/calendar?rotated=1"),
        (303, "/events/dst-day/calendar?rotated=1"),
    ]
    assert new != old
    assert f"/calendar/{new}.ics" in page.text
    assert "The old one no longer works" in page.text
    assert (await client.get(f"/calendar/{old}.ics")).status_code == 404
    assert (await client.get(f"/calendar/{new}.ics")).status_code == 200


async def test_page_calendar_anonymous_redirects_to_login(
    client: AsyncTestClient[Any], db: AsyncSession
) -> None:
    await calendar_scenario.build(db)

    response = await client.get("/events/dst-day/calendar", follow_redirects=False)

    assert (response.status_code, response.headers["location"]) in [
        (302, "/login?next=/events/dst-day/calendar"),
        (303, "/login?next=/events/dst-day/calendar"),
    ]


async def test_api_rotate_with_cookie_needs_csrf(client: AsyncTestClient[Any], db: AsyncSession) -> None:
    await calendar_scenario.build(db)
    await login(client, "bob@example.org")

    response = await json_post(client, "/api/v1/events/dst-day/calendar-feed", {})

    assert response.status_code == 201
