from __future__ import annotations

import re
from typing import Any

from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession

from clockevents.accounts.models import User
from clockevents.agenda.models import Meeting
from tests.factories.accounts import make_user
from tests.factories.events import add_role, make_event
from tests.helpers import field_error, form_post, login
from tests.unit.agenda.test_changes import Seed, seed


async def _login_as(client: AsyncTestClient[Any], db: AsyncSession, user_id: int | None) -> None:
    user = await db.get(User, user_id)
    assert user is not None
    await login(client, user.email)


async def _meeting(db: AsyncSession, meeting_id: int) -> Meeting:
    meeting = await db.get(Meeting, meeting_id, populate_existing=True)
    assert meeting is not None
    return meeting


def _times(html: str) -> list[tuple[str, str]]:
    """(event-zone time, own-zone time) of each agenda row, in page order."""
    return re.findall(
        r"<td>(\d\d:\d\d\u2013\d\d:\d\d)</td>\s*<td>(\w{3} \d\d:\d\d\u2013\d\d:\d\d)</td>", html
    )


def _no_inline_script(html: str) -> None:
    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", html) == []
    assert " style=" not in html


async def test_agenda_times_either_side_of_summer_time_end_lisbon(
    client: AsyncTestClient[Any], db: AsyncSession
) -> None:
    s = await seed(db)
    await _login_as(client, db, s.ada.user_id)

    page = await client.get(f"/events/{s.event.slug}/agenda")

    assert page.status_code == 200
    html = page.text
    _no_inline_script(html)
    assert "and in yours (Europe/Lisbon)" in html
    saturday, sunday = html.split("<h2>Saturday 24 October 2026</h2>")[1].split(
        "<h2>Sunday 25 October 2026</h2>"
    )
    # Rome UTC+2 and Lisbon UTC+1 on Saturday; Rome UTC+1 and Lisbon UTC+0 on Sunday.
    assert _times(saturday) == [("09:00\u201309:20", "Sat 08:00\u201308:20")]
    assert _times(sunday) == [("09:00\u201309:20", "Sun 08:00\u201308:20")]
    assert "<td>Bruno Neri</td>" in saturday
    # The meeting is over (October 2026): its room gives way to the outcome form.
    assert f'href="/meetings/{s.first.id}/outcome">How did it go?</a>' in saturday
    assert f'href="/meetings/{s.first.id}/room"' not in saturday
    assert f'href="/events/{s.event.slug}/calendar"' in html
    assert f'action="/events/{s.event.slug}/agenda/meetings/{s.first.id}/cancel"' in html
    assert '<label for="reason-' in html
    assert 'media="print"' in html


async def test_agenda_times_either_side_of_summer_time_end_new_york(
    client: AsyncTestClient[Any], db: AsyncSession
) -> None:
    s = await seed(db)
    await _login_as(client, db, s.bruno.user_id)

    html = (await client.get(f"/events/{s.event.slug}/agenda")).text

    # New York keeps UTC-4 until 1 November, so the gap to Rome shrinks from 6 to 5 hours.
    assert _times(html) == [
        ("09:00\u201309:20", "Sat 03:00\u201303:20"),
        ("09:00\u201309:20", "Sun 04:00\u201304:20"),
    ]
    assert "<td>Ada Rossi</td>" in html


async def test_agenda_without_own_zone_uses_browser_zone_script(
    client: AsyncTestClient[Any], db: AsyncSession
) -> None:
    s = await seed(db)
    await _login_as(client, db, s.carla.user_id)  # registered in Europe/Rome, the event's zone

    html = (await client.get(f"/events/{s.event.slug}/agenda")).text

    _no_inline_script(html)
    assert '<script src="/static/js/local-time.js" defer></script>' in html
    assert '<time datetime="2026-10-25T08:00:00Z" data-end="2026-10-25T08:20:00Z"' in html
    assert "Your time</th>" in html


async def test_agenda_cancel_form_strikes_meeting_and_reason(
    client: AsyncTestClient[Any], db: AsyncSession
) -> None:
    s = await seed(db)
    await _login_as(client, db, s.ada.user_id)
    url = f"/events/{s.event.slug}/agenda/meetings/{s.first.id}/cancel"

    done = await form_post(client, url, {"reason": "Train strike"})
    again = await form_post(client, url, {"reason": ""})

    assert done.status_code == 303
    assert done.headers["location"] == f"/events/{s.event.slug}/agenda"
    assert (await _meeting(db, s.first.id)).status == "cancelled"
    html = (await client.get(f"/events/{s.event.slug}/agenda")).text
    assert "<td><del>Bruno Neri</del></td>" in html
    assert "<td>Cancelled: Train strike</td>" in html
    assert again.status_code == 409
    assert "This meeting is already cancelled." in again.text


async def test_agenda_cancel_form_errors(client: AsyncTestClient[Any], db: AsyncSession) -> None:
    s = await seed(db)
    base = f"/events/{s.event.slug}/agenda/meetings"

    anonymous = await form_post(client, f"{base}/{s.first.id}/cancel", {})
    await _login_as(client, db, s.ada.user_id)
    long = await form_post(client, f"{base}/{s.first.id}/cancel", {"reason": "x" * 501})
    foreign = await form_post(client, f"{base}/{s.other.id}/cancel", {})
    unknown = await form_post(client, f"{base}/999999/cancel", {})
    elsewhere = await make_event(db, s.owner)
    wrong_event = await form_post(client, f"/events/{elsewhere.slug}/agenda/meetings/{s.first.id}/cancel", {})

    assert anonymous.status_code in (302, 303)
    assert anonymous.headers["location"].startswith("/login")
    assert long.status_code == 400
    assert field_error(long.text, "reason") == "Keep the reason under 500 characters."
    assert 'value="' + "x" * 501 + '"' in long.text
    assert foreign.status_code == 403
    assert unknown.status_code == 404
    assert wrong_event.status_code == 404
    assert (await _meeting(db, s.first.id)).status == "scheduled"


async def _partner(db: AsyncSession, s: Seed, cluster: int) -> User:
    user = await make_user(db)
    await add_role(db, s.event, user, "cluster_partner", s.event.clusters[cluster])
    return user


async def test_admin_grid_and_table_plan(client: AsyncTestClient[Any], db: AsyncSession) -> None:
    s = await seed(db)
    await login(client, s.owner.email)

    grid = await client.get(f"/events/{s.event.slug}/admin/meetings")
    plan = await client.get(f"/events/{s.event.slug}/admin/table-plan")

    assert grid.status_code == 200
    _no_inline_script(grid.text)
    assert '<th scope="col">Room 1</th>' in grid.text
    assert (
        f'<a href="/events/{s.event.slug}/admin/meetings/{s.other.id}">Carla Bianchi &amp; Dario Verdi</a>'
        in grid.text
    )
    assert plan.status_code == 200
    assert "<h2>Sun 25 Oct 2026, 09:00\u201309:20</h2>" in plan.text
    assert "<tr><td>2</td><td>Bruno Neri (=HYPERLINK(1))</td><td>Ada Rossi (Acme Srl)</td></tr>" in plan.text


async def test_admin_pages_permissions(client: AsyncTestClient[Any], db: AsyncSession) -> None:
    s = await seed(db)
    slug = s.event.slug
    anonymous = await client.get(f"/events/{slug}/admin/meetings", follow_redirects=False)
    stone = await _partner(db, s, 1)
    await login(client, stone.email)
    stone_grid = await client.get(f"/events/{slug}/admin/meetings")
    stone_ada = await client.get(f"/events/{slug}/admin/participants/{s.ada.id}/agenda")
    stone_carla = await client.get(f"/events/{slug}/admin/participants/{s.carla.id}/agenda")
    stone_meeting = await client.get(f"/events/{slug}/admin/meetings/{s.first.id}")
    await _login_as(client, db, s.ada.user_id)
    participant = [
        (await client.get(f"/events/{slug}/admin/{path}")).status_code
        for path in ("meetings", "table-plan", "meetings.csv", f"participants/{s.ada.id}/agenda")
    ]
    await login(client, s.owner.email)
    unknown = [
        (await client.get(path)).status_code
        for path in (
            "/events/no-such/admin/meetings",
            f"/events/{slug}/admin/participants/999999/agenda",
            f"/events/{slug}/admin/meetings/999999",
        )
    ]

    assert anonymous.status_code in (302, 303)
    assert anonymous.headers["location"].startswith("/login")
    assert stone_grid.status_code == 200
    assert "Carla Bianchi &amp; Dario Verdi" in stone_grid.text
    assert "Ada Rossi &amp; Bruno Neri" not in stone_grid.text
    assert stone_ada.status_code == 403
    assert stone_carla.status_code == 200
    assert "<td>Dario Verdi</td>" in stone_carla.text
    assert stone_meeting.status_code == 403
    assert participant == [403, 403, 403, 403]
    assert unknown == [404, 404, 404]


async def test_admin_csv_page_matches_api(client: AsyncTestClient[Any], db: AsyncSession) -> None:
    s = await seed(db)
    await login(client, s.owner.email)

    page = await client.get(f"/events/{s.event.slug}/admin/meetings.csv")
    api = await client.get(f"/api/v1/events/{s.event.slug}/meetings.csv")

    assert page.status_code == 200
    assert page.headers["content-type"] == "text/csv; charset=utf-8"
    assert page.headers["content-disposition"] == f'attachment; filename="{s.event.slug}-meetings.csv"'
    assert page.text == api.text
    assert page.text.count("\r\n") == 4


async def test_admin_participant_agenda_links_change_page(
    client: AsyncTestClient[Any], db: AsyncSession
) -> None:
    s = await seed(db)
    await login(client, s.owner.email)

    page = await client.get(f"/events/{s.event.slug}/admin/participants/{s.bruno.id}/agenda")

    assert page.status_code == 200
    assert "Agenda of Bruno Neri (=HYPERLINK(1))" in page.text
    assert "and in the participant's (America/New_York)" in page.text
    assert "<td>Sat 03:00\u201303:20</td>" in page.text
    assert f'href="/events/{s.event.slug}/admin/meetings/{s.first.id}">Move or cancel</a>' in page.text
    assert "/agenda/meetings/" not in page.text  # no participant cancel form on the organiser's view


async def test_admin_move_page_success_and_errors(client: AsyncTestClient[Any], db: AsyncSession) -> None:
    s = await seed(db)
    await login(client, s.owner.email)
    url = f"/events/{s.event.slug}/admin/meetings/{s.first.id}"

    page = await client.get(url)
    bad = await form_post(client, f"{url}/move", {"slot": "99", "table": "7"})
    busy = await form_post(client, f"{url}/move", {"slot": "2", "table": "3"})
    moved = await form_post(client, f"{url}/move", {"slot": "3", "table": "3"})

    assert page.status_code == 200
    _no_inline_script(page.text)
    assert '<label for="f-slot">Slot</label>' in page.text
    assert '<option value="0" selected>0: Sat 24 Oct 09:00</option>' in page.text
    assert bad.status_code == 400
    assert field_error(bad.text, "slot") == "This event has no slot 99."
    assert field_error(bad.text, "table") == "Give a table number from 1 to 3."
    assert 'value="7"' in bad.text
    assert busy.status_code == 400
    assert field_error(busy.text, "slot") == (
        "Ada Rossi already has another meeting in slot 2. Bruno Neri already has another meeting in slot 2."
    )
    assert moved.status_code == 303
    meeting = await _meeting(db, s.first.id)
    assert (meeting.table, meeting.sequence) == (3, 1)


async def test_admin_cancel_page_and_twice_409(client: AsyncTestClient[Any], db: AsyncSession) -> None:
    s = await seed(db)
    await login(client, s.owner.email)
    url = f"/events/{s.event.slug}/admin/meetings/{s.other.id}"

    done = await form_post(client, f"{url}/cancel", {"reason": "Room flooded"})
    again = await form_post(client, f"{url}/cancel", {})
    move = await form_post(client, f"{url}/move", {"slot": "1"})
    page = await client.get(url)

    assert done.status_code == 303
    assert again.status_code == 409
    assert "This meeting is already cancelled." in again.text
    assert move.status_code == 409
    assert "cancelled: Room flooded" in page.text
    assert "Move meeting" not in page.text
