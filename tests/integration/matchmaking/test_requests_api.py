from __future__ import annotations

from typing import Any

from litestar.testing import AsyncTestClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from clockevents.agenda.models import Meeting
from clockevents.matchmaking.models import MeetingRequest
from tests.factories.accounts import make_user
from tests.factories.matchmaking import make_request, set_matchmaking
from tests.helpers import api_token, bearer
from tests.integration.matchmaking.conftest import World


async def _auth(client: AsyncTestClient[Any], user: Any) -> dict[str, str]:
    return bearer(await api_token(client, user.email))


async def test_request_then_accept_flow(client: AsyncTestClient[Any], db: AsyncSession, world: World) -> None:
    alice, bob = await _auth(client, world.alice_user), await _auth(client, world.bob_user)
    url = f"/api/v1/events/{world.event.slug}/meeting-requests"
    created = await client.post(url, json={"to": world.bob.id, "message": "Coatings?"}, headers=alice)
    assert created.status_code == 201, created.text
    body = created.json()
    assert (
        body["status"],
        body["sender"]["id"],
        body["receiver"]["id"],
        body["direction"],
        body["actions"],
    ) == (
        "pending",
        world.alice.id,
        world.bob.id,
        "sent",
        ["cancel"],
    )
    received = await client.get(url, params={"direction": "received"}, headers=bob)
    assert [(r["id"], r["actions"]) for r in received.json()] == [(body["id"], ["accept", "decline"])]
    accepted = await client.post(f"/api/v1/meeting-requests/{body['id']}/accept", headers=bob)
    assert (accepted.status_code, accepted.json()["status"]) == (200, "accepted")
    notes = await client.get("/api/v1/notifications", headers=alice)
    assert [n["kind"] for n in notes.json()] == ["request_accepted"]


async def test_decline_with_reason_and_cancel(
    client: AsyncTestClient[Any], db: AsyncSession, world: World
) -> None:
    alice, bob = await _auth(client, world.alice_user), await _auth(client, world.bob_user)
    first = await make_request(db, world.alice, world.bob)
    second = await make_request(db, world.alice, world.carol)
    declined = await client.post(
        f"/api/v1/meeting-requests/{first.id}/decline", json={"reason": "Busy"}, headers=bob
    )
    assert (declined.status_code, declined.json()["status"], declined.json()["decline_reason"]) == (
        200,
        "declined",
        "Busy",
    )
    bare = await make_request(db, world.carol, world.bob)
    assert (await client.post(f"/api/v1/meeting-requests/{bare.id}/decline", headers=bob)).status_code == 200
    cancelled = await client.post(f"/api/v1/meeting-requests/{second.id}/cancel", headers=alice)
    assert (cancelled.status_code, cancelled.json()["status"]) == (200, "cancelled")
    again = await client.post(f"/api/v1/meeting-requests/{second.id}/cancel", headers=alice)
    assert (again.status_code, again.json()["detail"]) == (409, "This request is already cancelled.")


async def test_create_request_bad_bodies_are_400_per_field(
    client: AsyncTestClient[Any], db: AsyncSession, world: World
) -> None:
    alice = await _auth(client, world.alice_user)
    url = f"/api/v1/events/{world.event.slug}/meeting-requests"
    missing = await client.post(url, json={"message": "hi"}, headers=alice)
    assert (missing.status_code, missing.json()["errors"]) == (400, {"to": "Choose a participant."})
    both = await client.post(url, json={"to": world.alice.id, "message": "x" * 2001}, headers=alice)
    assert (both.status_code, set(both.json()["errors"])) == (400, {"to", "message"})
    wrong_type = await client.post(url, json={"to": "bob"}, headers=alice)
    assert (wrong_type.status_code, list(wrong_type.json()["errors"])) == (400, ["to"])
    not_json = await client.post(url, content=b"{oops", headers={**alice, "content-type": "application/json"})
    assert not_json.status_code == 400
    assert await db.scalar(select(func.count()).select_from(MeetingRequest)) == 0


async def test_request_status_codes(client: AsyncTestClient[Any], db: AsyncSession, world: World) -> None:
    alice, bob = await _auth(client, world.alice_user), await _auth(client, world.bob_user)
    url = f"/api/v1/events/{world.event.slug}/meeting-requests"
    assert (await client.post(url, json={"to": world.bob.id})).status_code == 401
    assert (await client.get(url)).status_code == 401
    missing_event = await client.post("/api/v1/events/nope/meeting-requests", json={"to": 1}, headers=alice)
    assert missing_event.status_code == 404
    assert (await client.post(url, json={"to": world.bob.id}, headers=alice)).status_code == 201
    duplicate = await client.post(url, json={"to": world.alice.id}, headers=bob)
    assert duplicate.status_code == 409
    request_id = (await client.get(url, headers=alice)).json()[0]["id"]
    assert (
        await client.post(f"/api/v1/meeting-requests/{request_id}/accept", headers=alice)
    ).status_code == 403
    assert (
        await client.post(f"/api/v1/meeting-requests/{request_id}/cancel", headers=bob)
    ).status_code == 403
    assert (await client.post("/api/v1/meeting-requests/999999/accept", headers=bob)).status_code == 404
    outsider = await _auth(client, await make_user(db))
    assert (await client.get(url, headers=outsider)).status_code == 403
    assert (await client.post(url, json={"to": world.bob.id}, headers=outsider)).status_code == 403


async def test_list_requests_filters(client: AsyncTestClient[Any], db: AsyncSession, world: World) -> None:
    owner = await _auth(client, world.owner)
    await make_request(db, world.alice, world.bob)
    declined = await make_request(db, world.bob, world.carol, status="declined")
    url = f"/api/v1/events/{world.event.slug}/meeting-requests"
    everything = await client.get(url, headers=owner)
    assert len(everything.json()) == 2
    only = await client.get(url, params={"status": "declined"}, headers=owner)
    assert [r["id"] for r in only.json()] == [declined.id]
    bad = await client.get(url, params={"status": "gone", "direction": "sideways"}, headers=owner)
    assert (bad.status_code, set(bad.json()["errors"])) == (400, {"status", "direction"})


async def test_organiser_meetings_and_priority(
    client: AsyncTestClient[Any], db: AsyncSession, world: World
) -> None:
    owner, alice = await _auth(client, world.owner), await _auth(client, world.alice_user)
    url = f"/api/v1/events/{world.event.slug}/organiser-meetings"
    made = await client.post(url, json={"a": world.alice.id, "b": world.bob.id, "priority": 2}, headers=owner)
    assert made.status_code == 201, made.text
    assert (made.json()["status"], made.json()["origin"], made.json()["priority"]) == (
        "accepted",
        "organiser",
        2,
    )
    bad = await client.post(url, json={"priority": 9}, headers=owner)
    assert (bad.status_code, set(bad.json()["errors"])) == (400, {"a", "b", "priority"})
    assert (
        await client.post(url, json={"a": world.bob.id, "b": world.carol.id}, headers=alice)
    ).status_code == 403
    dup = await client.post(url, json={"a": world.bob.id, "b": world.alice.id}, headers=owner)
    assert dup.status_code == 409
    patch_url = f"/api/v1/meeting-requests/{made.json()['id']}"
    changed = await client.patch(patch_url, json={"priority": 3}, headers=owner)
    assert (changed.status_code, changed.json()["priority"]) == (200, 3)
    assert (await client.patch(patch_url, json={"priority": 3}, headers=alice)).status_code == 403
    assert (await client.patch(patch_url, json={}, headers=owner)).status_code == 400
    assert (
        await client.patch("/api/v1/meeting-requests/999999", json={"priority": 1}, headers=owner)
    ).status_code == 404


async def test_settings_get_and_patch(client: AsyncTestClient[Any], db: AsyncSession, world: World) -> None:
    owner, alice = await _auth(client, world.owner), await _auth(client, world.alice_user)
    url = f"/api/v1/events/{world.event.slug}/matchmaking-settings"
    assert (await client.get(url, headers=owner)).json() == {
        "request_mode": "accept",
        "scheduling_mode": "organiser",
        "max_sent": None,
        "max_received": None,
        "expiry_hours": None,
    }
    changed = await client.patch(url, json={"scheduling_mode": "self_booking", "max_sent": 4}, headers=owner)
    assert (changed.status_code, changed.json()["scheduling_mode"], changed.json()["max_sent"]) == (
        200,
        "self_booking",
        4,
    )
    cleared = await client.patch(url, json={"max_sent": None}, headers=owner)
    assert (cleared.json()["max_sent"], cleared.json()["scheduling_mode"]) == (None, "self_booking")
    bad = await client.patch(url, json={"request_mode": "maybe", "expiry_hours": 0}, headers=owner)
    assert (bad.status_code, set(bad.json()["errors"])) == (400, {"request_mode", "expiry_hours"})
    assert (await client.get(url, headers=alice)).status_code == 403
    assert (await client.patch(url, json={"max_sent": 1}, headers=alice)).status_code == 403
    assert (await client.get(url)).status_code == 401
    assert (await client.get("/api/v1/events/nope/matchmaking-settings", headers=owner)).status_code == 404


async def test_self_booking_free_slots_and_booking(
    client: AsyncTestClient[Any], db: AsyncSession, world: World
) -> None:
    await set_matchmaking(db, world.event, scheduling_mode="self_booking")
    alice, carol = await _auth(client, world.alice_user), await _auth(client, world.carol_user)
    slots_url = f"/api/v1/events/{world.event.slug}/free-slots"
    free = await client.get(slots_url, params={"with": world.bob.id}, headers=alice)
    assert free.status_code == 200
    first = free.json()[0]["index"]
    url = f"/api/v1/events/{world.event.slug}/meeting-requests"
    booked = await client.post(url, json={"to": world.bob.id, "slot": first}, headers=alice)
    assert (booked.status_code, booked.json()["slot"]["index"], booked.json()["meeting_status"]) == (
        201,
        first,
        "held",
    )
    after = await client.get(slots_url, params={"with": world.bob.id}, headers=carol)
    assert first not in [s["index"] for s in after.json()]
    taken = await client.post(url, json={"to": world.bob.id, "slot": first}, headers=carol)
    assert (taken.status_code, taken.json()["errors"]) == (
        409,
        {"slot": "They already have a meeting in that slot."},
    )
    assert (await client.get(slots_url, headers=alice)).status_code == 400
    assert (await client.get(slots_url, params={"with": 999999}, headers=alice)).status_code == 404
    assert await db.scalar(select(func.count()).select_from(Meeting)) == 1


async def test_recommendations_api(client: AsyncTestClient[Any], db: AsyncSession, world: World) -> None:
    world.alice.keywords = ["graphene"]
    world.carol.keywords = ["graphene"]
    await db.commit()
    alice = await _auth(client, world.alice_user)
    response = await client.get(f"/api/v1/events/{world.event.slug}/recommendations", headers=alice)
    assert response.status_code == 200
    assert [(r["participant"]["id"], r["score"], r["reason"]) for r in response.json()] == [
        (world.carol.id, 5, "shares keyword graphene · different cluster (Nautical)")
    ]
    outsider = await _auth(client, world.owner)
    assert (
        await client.get(f"/api/v1/events/{world.event.slug}/recommendations", headers=outsider)
    ).status_code == 403


async def test_notifications_api_mark_read(
    client: AsyncTestClient[Any], db: AsyncSession, world: World
) -> None:
    alice, bob = await _auth(client, world.alice_user), await _auth(client, world.bob_user)
    await client.post(
        f"/api/v1/events/{world.event.slug}/meeting-requests", json={"to": world.bob.id}, headers=alice
    )
    notes = (await client.get("/api/v1/notifications", headers=bob)).json()
    assert [(n["kind"], n["url"], n["read_at"]) for n in notes] == [
        ("request_received", f"/events/{world.event.slug}/requests", None)
    ]
    assert (
        await client.post(f"/api/v1/notifications/{notes[0]['id']}/read", headers=alice)
    ).status_code == 404
    marked = await client.post(f"/api/v1/notifications/{notes[0]['id']}/read", headers=bob)
    assert marked.json() == {"marked": 1}
    assert (await client.get("/api/v1/notifications", params={"unread": "true"}, headers=bob)).json() == []
    assert (await client.post("/api/v1/notifications/read-all", headers=bob)).json() == {"marked": 0}
    assert (await client.get("/api/v1/notifications")).status_code == 401
