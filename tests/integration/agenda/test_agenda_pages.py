from __future__ import annotations

import re
from typing import Any

from litestar.testing import AsyncTestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from clockevents.accounts.models import User
from clockevents.agenda.models import Meeting
from clockevents.matchmaking.models import MeetingRequest
from tests.factories.accounts import make_user
from tests.factories.agenda import make_meeting, slot_at
from tests.helpers import field_error, form_post, login
from tests.integration.agenda.helpers import seed_pair, wait_done


async def test_build_and_publish_pages_then_participant_sees_agenda(
    client: AsyncTestClient[Any], db: AsyncSession
) -> None:
    owner, event, ada, _ = await seed_pair(db)
    await login(client, owner.email)

    builder = await client.get(f"/events/{event.slug}/admin/agenda")
    assert builder.status_code == 200
    assert '<label for="f-time_limit">Time limit (seconds)</label>' in builder.text
    assert "No builds yet." in builder.text

    started = await form_post(client, f"/events/{event.slug}/admin/agenda", {"time_limit": "2"})
    assert started.status_code == 303
    run_url = started.headers["location"]
    run_id = int(run_url.rsplit("/", 1)[1])
    assert run_url == f"/events/{event.slug}/admin/agenda/runs/{run_id}"
    watching = await client.get(run_url)
    if 'data-active="yes"' in watching.text:
        assert '<script src="/static/js/agenda-run.js" defer></script>' in watching.text
        assert f'<a class="button small secondary" href="{run_url}">Refresh</a>' in watching.text
    assert (await wait_done(client, run_id, {}))["status"] == "done"

    draft = await client.get(run_url)
    assert "What publishing changes" in draft.text
    assert "Ada Rossi (Acme Srl) &amp; Bruno Neri (Nautica Spa)" in draft.text
    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", draft.text) == []
    published = await form_post(client, f"{run_url}/publish", {})
    assert published.status_code == 303
    assert "Published" in (await client.get(run_url)).text
    assert len(list(await db.scalars(select(Meeting)))) == 1

    ada_user = await db.get(User, ada.user_id)
    assert ada_user is not None
    # The same browser logs in as Ada (a second client would share the app's PostgreSQL pool
    # across two event loops).
    await login(client, ada_user.email)
    mine = await client.get(f"/events/{event.slug}/agenda")
    assert mine.status_code == 200
    assert "Tuesday 12 January 2027" in mine.text
    assert "<td>09:00\u201309:20</td>" in mine.text
    assert "<td>Bruno Neri</td>" in mine.text
    assert "<td>Nautica Spa</td>" in mine.text
    assert (await client.get(f"/events/{event.slug}/admin/agenda")).status_code == 403
    assert (await client.get(run_url)).status_code == 403
    assert (await form_post(client, f"{run_url}/publish", {})).status_code == 403


async def test_build_form_bad_values_reshown_with_messages(
    client: AsyncTestClient[Any], db: AsyncSession
) -> None:
    owner, event, _, _ = await seed_pair(db)
    await login(client, owner.email)

    response = await form_post(
        client, f"/events/{event.slug}/admin/agenda", {"time_limit": "soon", "break_spread": "-1"}
    )

    assert response.status_code == 400
    assert field_error(response.text, "time_limit") == "Give a number of seconds from 1 to 600."
    assert field_error(response.text, "break_spread") == (
        "Give a whole number of breaks, 0 or more, or leave it empty."
    )
    assert 'value="soon"' in response.text


async def test_agenda_pages_anonymous_redirect_and_unknown_event_404(
    client: AsyncTestClient[Any], db: AsyncSession
) -> None:
    owner, event, _, _ = await seed_pair(db)

    anonymous = await client.get(f"/events/{event.slug}/admin/agenda", follow_redirects=False)
    assert anonymous.status_code in (302, 303)
    assert anonymous.headers["location"].startswith("/login")
    await login(client, owner.email)
    assert (await client.get("/events/no-such-event/admin/agenda")).status_code == 404
    assert (await client.get("/events/no-such-event/agenda")).status_code == 404
    assert (await client.get(f"/events/{event.slug}/admin/agenda/runs/999999")).status_code == 404


async def test_my_agenda_shows_times_in_event_zone_and_own_zone(
    client: AsyncTestClient[Any], db: AsyncSession
) -> None:
    _, event, ada, _ = await seed_pair(db)
    ada.timezone = "America/New_York"
    await db.commit()
    request = await db.scalar(select(MeetingRequest))
    assert request is not None
    await make_meeting(db, request, await slot_at(db, event, 0), table=7)
    ada_user = await db.get(User, ada.user_id)
    assert ada_user is not None
    await login(client, ada_user.email)

    page = await client.get(f"/events/{event.slug}/agenda")

    assert page.status_code == 200
    assert "and in yours (America/New_York)" in page.text
    assert "<td>Tue 03:00\u201303:20</td>" in page.text
    assert "<td>7</td>" in page.text
    stranger = await make_user(db)
    await login(client, stranger.email)
    assert (await client.get(f"/events/{event.slug}/agenda")).status_code == 403
