"""The live pages (dashboard, room, monitor) and their JSON: rooms, announcements, attendance."""

from __future__ import annotations

import html as htmllib
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession

from clockevents.accounts.models import User
from clockevents.live import dashboard
from clockevents.live.messages import iso
from clockevents.live.models import Attendance
from clockevents.registration.models import Organisation, Participant
from tests.factories.accounts import make_user
from tests.factories.agenda import make_meeting, make_request, slot_at
from tests.factories.events import add_role
from tests.factories.registration import make_participant
from tests.helpers import bearer, field_error, form_post, json_post, login
from tests.integration.live.conftest import Room

Client = AsyncTestClient[Litestar]
ISO_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


async def as_user(client: Client, user: User) -> None:
    client.cookies.clear()
    await login(client, user.email)


def options_of(html: str) -> list[tuple[str, str]]:
    """The (value, label) pairs of the page's <option>s, labels unescaped."""
    return [
        (v, htmllib.unescape(t))
        for v, t in re.findall(r'<option value="([^"]*)"[^>]*>([^<]*)</option>', html)
    ]


async def organisation_of(db: AsyncSession, participant: Participant) -> str:
    org = await db.get(Organisation, participant.organisation_id)
    assert org is not None
    return org.name


# ---------------------------------------------------------------- the meeting room page


async def test_room_page_serves_each_party_with_socket_path_and_partner(client: Client, room: Room) -> None:
    await as_user(client, room.a_user)
    response = await client.get(f"/meetings/{room.meeting.id}/room")
    assert response.status_code == 200
    html = response.text
    assert f'data-ws="/ws/meetings/{room.meeting.id}"' in html
    assert 'data-role="participant"' in html
    assert f'data-participant-id="{room.a.id}"' in html
    assert re.search(r"<h1>(.*?)</h1>", html).group(1) == "Meeting with Bo Chen"  # type: ignore[union-attr]
    assert '<script type="module" src="/static/js/room.js"></script>' in html
    assert 'id="remote-video"' in html

    await as_user(client, room.b_user)
    html = (await client.get(f"/meetings/{room.meeting.id}/room")).text
    assert re.search(r"<h1>(.*?)</h1>", html).group(1) == "Meeting with Ada Rossi"  # type: ignore[union-attr]


async def test_room_page_for_organiser_has_no_video(client: Client, room: Room) -> None:
    await as_user(client, room.organiser)
    response = await client.get(f"/meetings/{room.meeting.id}/room")
    assert response.status_code == 200
    assert 'data-role="organiser"' in response.text
    assert re.search(r"<h1>(.*?)</h1>", response.text).group(1) == "Meeting of Ada Rossi and Bo Chen"  # type: ignore[union-attr]
    assert 'id="remote-video"' not in response.text
    assert '<textarea id="room-notes" rows="6" maxlength="10000" readonly' in response.text


async def test_room_page_refuses_others(client: Client, db: AsyncSession, room: Room) -> None:
    anonymous = await client.get(f"/meetings/{room.meeting.id}/room", follow_redirects=False)
    assert (anonymous.status_code, anonymous.headers["location"]) == (
        302,
        f"/login?next=/meetings/{room.meeting.id}/room",
    )
    outsider = await make_user(db, name="Olivia Outsider")
    await as_user(client, outsider)
    assert (await client.get(f"/meetings/{room.meeting.id}/room")).status_code == 403
    await as_user(client, room.a_user)
    assert (await client.get("/meetings/999999/room")).status_code == 404
    # A meeting not yet published has no room.
    c = await make_participant(db, room.event)
    draft = await make_meeting(
        db, await make_request(db, room.a, c), await slot_at(db, room.event, 1), published=False
    )
    assert (await client.get(f"/meetings/{draft.id}/room")).status_code == 404


# ---------------------------------------------------------------- the participant's dashboard


async def test_dashboard_for_participant_and_organiser(client: Client, room: Room) -> None:
    slug = room.event.slug
    await as_user(client, room.a_user)
    response = await client.get(f"/events/{slug}/live")
    assert response.status_code == 200
    assert f'data-ws="/ws/events/{slug}"' in response.text
    assert 'id="live-current"' in response.text
    assert f'href="/events/{slug}/live/monitor"' not in response.text

    await as_user(client, room.organiser)
    response = await client.get(f"/events/{slug}/live")
    assert response.status_code == 200
    assert f'href="/events/{slug}/live/monitor"' in response.text
    assert 'id="live-current"' not in response.text


async def test_dashboard_refuses_outsiders_pending_and_unknown(
    client: Client, db: AsyncSession, room: Room
) -> None:
    slug = room.event.slug
    anonymous = await client.get(f"/events/{slug}/live", follow_redirects=False)
    assert (anonymous.status_code, anonymous.headers["location"]) == (302, f"/login?next=/events/{slug}/live")
    pending = await make_participant(db, room.event, status="pending")
    pending_user = await db.get(User, pending.user_id)
    assert pending_user is not None
    await as_user(client, pending_user)
    assert (await client.get(f"/events/{slug}/live")).status_code == 403
    await as_user(client, room.a_user)
    assert (await client.get("/events/no-such-event/live")).status_code == 404


async def test_agenda_links_to_live_dashboard(client: Client, room: Room) -> None:
    await as_user(client, room.a_user)
    html = (await client.get(f"/events/{room.event.slug}/agenda")).text
    assert f'<a href="/events/{room.event.slug}/live">Live dashboard</a>' in html
    assert f'href="/meetings/{room.meeting.id}/room"' in html


# ---------------------------------------------------------------- the organisers' monitor


async def test_monitor_page_for_organisers_only(client: Client, db: AsyncSession, room: Room) -> None:
    slug = room.event.slug
    await as_user(client, room.organiser)
    response = await client.get(f"/events/{slug}/live/monitor")
    assert response.status_code == 200
    html = response.text
    assert f'data-rooms-url="/api/v1/events/{slug}/live/rooms"' in html
    assert f'data-announce-url="/api/v1/events/{slug}/announcements"' in html
    assert f'<a href="/events/{slug}/live/monitor" aria-current="page">Live monitor</a>' in html
    assert options_of(html) == [("", "Everyone at the event")] + [
        (str(c.id), f"{c.name} participants") for c in room.event.clusters
    ]

    await as_user(client, room.a_user)
    assert (await client.get(f"/events/{slug}/live/monitor")).status_code == 403

    # A cluster partner addresses their own cluster only.
    cluster = room.event.clusters[1]
    partner = await make_user(db, name="Carla Cluster")
    await add_role(db, room.event, partner, "cluster_partner", cluster)
    await as_user(client, partner)
    html = (await client.get(f"/events/{slug}/live/monitor")).text
    assert options_of(html) == [(str(cluster.id), f"{cluster.name} participants")]


async def test_admin_tabs_link_to_monitor(client: Client, room: Room) -> None:
    await as_user(client, room.organiser)
    html = (await client.get(f"/events/{room.event.slug}/admin")).text
    assert f'<a href="/events/{room.event.slug}/live/monitor">Live monitor</a>' in html


async def test_monitor_form_announces_and_reports_field_errors(
    client: Client, app: Litestar, db: AsyncSession, room: Room
) -> None:
    slug = room.event.slug
    await as_user(client, room.organiser)
    response = await form_post(
        client, f"/events/{slug}/live/monitor/announce", {"text": "  ", "cluster_id": ""}
    )
    assert response.status_code == 400
    assert field_error(response.text, "text") == "An announcement needs some text."
    response = await form_post(
        client, f"/events/{slug}/live/monitor/announce", {"text": "Hello", "cluster_id": "nonsense"}
    )
    assert response.status_code == 400
    assert field_error(response.text, "cluster_id") == "Choose a cluster of this event."

    response = await form_post(
        client, f"/events/{slug}/live/monitor/announce", {"text": "Lunch at one", "cluster_id": ""}
    )
    assert (response.status_code, response.headers["location"]) == (
        303,
        f"/events/{slug}/live/monitor?sent=1",
    )
    assert "Announcement sent." in (await client.get(response.headers["location"])).text
    who = await dashboard.event_access(db, room.a_user, slug)
    snapshot = await dashboard.snapshot(app.state.live, db, who)
    assert [(a["text"], a["cluster"], a["by"]) for a in snapshot["announcements"]] == [
        ("Lunch at one", None, "Olga Organiser")
    ]

    await as_user(client, room.a_user)
    response = await form_post(
        client, f"/events/{slug}/live/monitor/announce", {"text": "Hi all", "cluster_id": ""}
    )
    assert response.status_code == 403


# ---------------------------------------------------------------- GET /api/v1/events/{slug}/live/rooms


async def test_rooms_json_gives_states_presence_and_totals(
    client: Client, db: AsyncSession, room: Room
) -> None:
    slot = await slot_at(db, room.event, 0)
    # Ada is in the room; Bo has not come yet.
    db.add(Attendance(meeting_id=room.meeting.id, participant_id=room.a.id, user_id=room.a_user.id))
    await db.commit()
    response = await client.get(
        f"/api/v1/events/{room.event.slug}/live/rooms", headers=bearer(room.organiser_token)
    )
    assert response.status_code == 200
    body = response.json()
    assert ISO_Z.match(body.pop("server_time"))
    assert body == {
        "slot": {"id": slot.id, "starts_at": iso(slot.starts_at), "ends_at": iso(slot.ends_at)},
        "rooms": [
            {
                "meeting_id": room.meeting.id,
                "table": 1,
                "state": "one_waiting",
                "parties": [
                    {
                        "participant_id": room.a.id,
                        "name": "Ada Rossi",
                        "organisation": await organisation_of(db, room.a),
                        "present": True,
                    },
                    {
                        "participant_id": room.b.id,
                        "name": "Bo Chen",
                        "organisation": await organisation_of(db, room.b),
                        "present": False,
                    },
                ],
                "together_seconds": 0,
                "room_url": f"/meetings/{room.meeting.id}/room",
            }
        ],
        "totals": {"rooms": 1, "one_waiting": 1},
    }


async def test_rooms_json_refuses_participants_and_anonymous(client: Client, room: Room) -> None:
    url = f"/api/v1/events/{room.event.slug}/live/rooms"
    assert (await client.get(url)).status_code == 401
    refused = await client.get(url, headers=bearer(room.a_token))
    assert (refused.status_code, refused.json()["detail"]) == (
        403,
        "Only the event's organisers see the live monitor.",
    )
    assert (
        await client.get("/api/v1/events/nope/live/rooms", headers=bearer(room.organiser_token))
    ).status_code == 404


# ---------------------------------------------------------------- POST /api/v1/events/{slug}/announcements


async def test_announcement_api_stores_and_returns_the_message(
    client: Client, app: Litestar, db: AsyncSession, room: Room
) -> None:
    url = f"/api/v1/events/{room.event.slug}/announcements"
    response = await client.post(
        url,
        json={"text": "  Coffee break at 11:00  ", "cluster_id": None},
        headers=bearer(room.organiser_token),
    )
    assert response.status_code == 201
    body = response.json()
    assert ISO_Z.match(body.pop("at"))
    assert body == {
        "type": "announcement",
        "seq": 1,
        "text": "Coffee break at 11:00",
        "cluster_id": None,
        "cluster": None,
        "by": "Olga Organiser",
    }
    nautical = room.event.clusters[2]
    response = await client.post(
        url,
        json={"text": "Nautical: see you at table 3", "cluster_id": nautical.id},
        headers=bearer(room.organiser_token),
    )
    assert response.status_code == 201
    assert (response.json()["seq"], response.json()["cluster_id"], response.json()["cluster"]) == (
        2,
        nautical.id,
        nautical.name,
    )
    # Ada (no cluster) sees the announcement to everyone, not the one to Nautical.
    who = await dashboard.event_access(db, room.a_user, room.event.slug)
    snapshot = await dashboard.snapshot(app.state.live, db, who)
    assert [a["text"] for a in snapshot["announcements"]] == ["Coffee break at 11:00"]


async def test_announcement_api_reports_bad_fields(client: Client, db: AsyncSession, room: Room) -> None:
    url = f"/api/v1/events/{room.event.slug}/announcements"
    organiser = bearer(room.organiser_token)

    async def errors(body: Any) -> tuple[int, dict[str, str]]:
        response = await client.post(url, json=body, headers=organiser)
        return response.status_code, response.json().get("errors", {})

    assert await errors({"text": ""}) == (400, {"text": "An announcement needs some text."})
    assert await errors({"text": 7}) == (400, {"text": "An announcement needs some text."})
    assert await errors({"text": "x" * 1001}) == (
        400,
        {"text": "An announcement holds at most 1000 characters."},
    )
    assert await errors({"text": "Hi", "cluster_id": "one"}) == (
        400,
        {"cluster_id": "Choose a cluster of this event."},
    )
    assert await errors({"text": "Hi", "cluster_id": 999999}) == (
        400,
        {"cluster_id": "Choose a cluster of this event."},
    )
    status, _ = await errors(["not", "an", "object"])
    assert status == 400

    # Participants do not announce; cluster partners announce to their own cluster only.
    refused = await client.post(url, json={"text": "Hi"}, headers=bearer(room.a_token))
    assert refused.status_code == 403
    partner = await make_user(db, name="Carla Cluster", email="carla@cluster.example")
    cluster = room.event.clusters[0]
    await add_role(db, room.event, partner, "cluster_partner", cluster)
    await as_user(client, partner)
    response = await json_post(client, url, {"text": "Hi all", "cluster_id": None})
    assert (response.status_code, response.json()["errors"]) == (
        400,
        {"cluster_id": "A cluster partner announces to their own cluster only."},
    )
    response = await json_post(client, url, {"text": "Hi cluster", "cluster_id": cluster.id})
    assert (response.status_code, response.json()["cluster"]) == (201, cluster.name)


# ---------------------------------------------------------------- GET /api/v1/meetings/{id}/attendance


async def test_attendance_api_sums_time_present_and_together(
    client: Client, db: AsyncSession, room: Room
) -> None:
    t0 = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
    minute = timedelta(minutes=1)
    db.add_all(
        [
            # Ada: 9:00-9:10; Bo: 9:02-9:05 and again 9:06-9:09 (a dropped connection).
            Attendance(
                meeting_id=room.meeting.id,
                participant_id=room.a.id,
                user_id=room.a_user.id,
                joined_at=t0,
                left_at=t0 + 10 * minute,
            ),
            Attendance(
                meeting_id=room.meeting.id,
                participant_id=room.b.id,
                user_id=room.b_user.id,
                joined_at=t0 + 2 * minute,
                left_at=t0 + 5 * minute,
            ),
            Attendance(
                meeting_id=room.meeting.id,
                participant_id=room.b.id,
                user_id=room.b_user.id,
                joined_at=t0 + 6 * minute,
                left_at=t0 + 9 * minute,
            ),
            # An organiser looking in does not count.
            Attendance(
                meeting_id=room.meeting.id,
                participant_id=None,
                user_id=room.organiser.id,
                role="organiser",
                joined_at=t0,
                left_at=t0 + 30 * minute,
            ),
        ]
    )
    await db.commit()
    expected = {
        "meeting_id": room.meeting.id,
        "parties": [
            {"participant_id": room.a.id, "first_join": "2026-11-25T09:00:00Z", "present_seconds": 600},
            {"participant_id": room.b.id, "first_join": "2026-11-25T09:02:00Z", "present_seconds": 360},
        ],
        "together_seconds": 360,
        "held": True,
    }
    url = f"/api/v1/meetings/{room.meeting.id}/attendance"
    for token in (room.a_token, room.b_token, room.organiser_token):
        response = await client.get(url, headers=bearer(token))
        assert (response.status_code, response.json()) == (200, expected)
    assert (await client.get(url, headers=bearer(room.outsider_token))).status_code == 403
    assert (
        await client.get("/api/v1/meetings/999999/attendance", headers=bearer(room.a_token))
    ).status_code == 404
    assert (await client.get(url)).status_code == 401


async def test_attendance_api_before_anyone_came(client: Client, room: Room) -> None:
    response = await client.get(
        f"/api/v1/meetings/{room.meeting.id}/attendance", headers=bearer(room.a_token)
    )
    assert response.json() == {
        "meeting_id": room.meeting.id,
        "parties": [
            {"participant_id": room.a.id, "first_join": None, "present_seconds": 0},
            {"participant_id": room.b.id, "first_join": None, "present_seconds": 0},
        ],
        "together_seconds": 0,
        "held": False,
    }
