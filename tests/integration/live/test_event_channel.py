"""The event's live channel: dashboard snapshot, announcements by cluster, presence, throttling."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from clockevents.db import utcnow
from clockevents.events.models import Cluster, Slot
from clockevents.live.demo import shift_to_now
from tests.integration.live.conftest import Room, both_parties, connect, recv, recv_until


async def _clusters(db: AsyncSession, room: Room) -> list[Cluster]:
    return list(
        await db.scalars(select(Cluster).where(Cluster.event_id == room.event.id).order_by(Cluster.id))
    )


async def test_dashboard_shows_the_current_meeting_and_the_partners_arrival(
    server: str, room: Room, db: AsyncSession
) -> None:
    live = await shift_to_now(db, room.event)
    await db.commit()
    assert live.meeting_id == room.meeting.id and live.meetings_now == 1
    slot = await db.get(Slot, room.meeting.slot_id)
    assert slot is not None
    dash = await connect(f"{server}/ws/events/{room.event.slug}", room.a_token)
    snap = await recv(dash)
    assert snap["type"] == "snapshot" and snap["me"]["participant_id"] == room.a.id
    current = snap["current"]
    assert current["id"] == room.meeting.id
    assert current["partner"] == "Bo Chen"
    assert current["partner_state"] == "absent"
    assert current["room_url"] == f"/meetings/{room.meeting.id}/room"
    assert current["starts_at"] == slot.starts_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert snap["next"] is None

    b = await connect(f"{server}/ws/meetings/{room.meeting.id}", room.b_token)
    await recv(b)
    arrived = await recv_until(dash, "presence")
    assert (arrived["meeting_id"], arrived["who"]["participant_id"], arrived["state"]) == (
        room.meeting.id,
        room.b.id,
        "joined",
    )
    assert "audience" not in arrived
    await b.close()
    await dash.close()


async def test_announcements_reach_everyone_or_one_cluster(server: str, room: Room, db: AsyncSession) -> None:
    clusters = await _clusters(db, room)
    a = await db.get(type(room.a), room.a.id)
    assert a is not None
    a.cluster_id = clusters[0].id
    b = await db.get(type(room.b), room.b.id)
    assert b is not None
    b.cluster_id = clusters[1].id
    await db.commit()

    url = f"{server}/ws/events/{room.event.slug}"
    organiser = await connect(url, room.organiser_token)
    alice = await connect(url, room.a_token)
    bob = await connect(url, room.b_token)
    for ws in (organiser, alice, bob):
        assert (await recv(ws))["type"] == "snapshot"

    await organiser.send(json.dumps({"type": "announce", "text": "Coffee at 11", "cluster_id": None}))
    for ws in (organiser, alice, bob):
        got = await recv_until(ws, "announcement")
        assert (got["text"], got["cluster"], got["by"]) == ("Coffee at 11", None, "Olga Organiser")

    await organiser.send(
        json.dumps({"type": "announce", "text": "Stone cluster: room B", "cluster_id": clusters[1].id})
    )
    assert (await recv_until(bob, "announcement"))["text"] == "Stone cluster: room B"
    assert (await recv_until(organiser, "announcement"))["cluster_id"] == clusters[1].id
    await organiser.send(json.dumps({"type": "announce", "text": "For all again"}))
    # Alice's next announcement is the one for everyone: the cluster one never reached her.
    assert (await recv_until(alice, "announcement"))["text"] == "For all again"

    await alice.send(json.dumps({"type": "announce", "text": "I am not an organiser"}))
    error = await recv_until(alice, "error")
    assert error["reason"] == "Only organisers post announcements."
    await organiser.send(json.dumps({"type": "announce", "text": "x", "cluster_id": 999999}))
    assert (await recv_until(organiser, "error"))["reason"] == "cluster_id: Choose a cluster of this event."

    # A late dashboard sees the announcements meant for it in its snapshot.
    late = await connect(url, room.a_token)
    snap = await recv(late)
    assert [m["text"] for m in snap["announcements"]] == ["Coffee at 11", "For all again"]
    for ws in (organiser, alice, bob, late):
        await ws.close()


async def test_a_flood_is_slowed_down_and_nothing_is_lost(server: str, room: Room) -> None:
    url = f"{server}/ws/meetings/{room.meeting.id}"
    a, b = await both_parties(url, room)
    count = 80
    for i in range(count):
        await a.send(json.dumps({"type": "chat", "text": f"m{i}"}))
    warned = await recv_until(a, "error", timeout=60)
    assert warned["reason"] == "too many messages: slowed down"
    texts = []
    while len(texts) < count:
        message = await recv_until(b, "chat", timeout=60)
        texts.append(message["text"])
    assert texts == [f"m{i}" for i in range(count)]
    await a.close()
    await b.close()


async def test_a_dropped_connection_shows_reconnecting(server: str, room: Room) -> None:
    url = f"{server}/ws/meetings/{room.meeting.id}"
    b = await connect(url, room.b_token)
    await recv(b)
    a = await connect(url, room.a_token)
    await recv(a)
    while (await recv_until(b, "presence"))["who"]["participant_id"] != room.a.id:
        pass  # b's own arrival comes first
    # Drop the TCP connection without a closing handshake.
    a.transport.abort()
    gone = await recv_until(b, "presence")
    assert (gone["who"]["participant_id"], gone["state"]) == (room.a.id, "reconnecting")
    back = await connect(url, room.a_token)
    await recv(back)
    again = await recv_until(b, "presence")
    assert (again["who"]["participant_id"], again["state"]) == (room.a.id, "joined")
    await back.close()
    await b.close()


async def test_shift_to_now_moves_every_slot_by_the_same_amount(room: Room, db: AsyncSession) -> None:
    before = {
        s.id: (s.starts_at, s.ends_at)
        for s in await db.scalars(select(Slot).where(Slot.event_id == room.event.id))
    }
    now = utcnow().replace(second=0, microsecond=0)
    event_id = room.event.id
    live = await shift_to_now(db, room.event, now)
    await db.commit()
    db.expire_all()
    after = {
        s.id: (s.starts_at, s.ends_at)
        for s in await db.scalars(select(Slot).where(Slot.event_id == event_id))
    }
    deltas = {after[i][0] - before[i][0] for i in before} | {after[i][1] - before[i][1] for i in before}
    assert len(deltas) == 1
    assert live.slot_starts == now - timedelta(minutes=2)
    assert live.meetings_now == 1 and live.pair is not None


async def test_a_cluster_partner_follows_only_their_own_clusters_rooms(
    server: str, room: Room, db: AsyncSession
) -> None:
    from clockevents.accounts.services import issue_token
    from tests.factories.accounts import make_user
    from tests.factories.agenda import make_meeting, make_request, slot_at
    from tests.factories.events import add_role
    from tests.factories.registration import make_participant

    clusters = await _clusters(db, room)
    a = await db.get(type(room.a), room.a.id)
    b = await db.get(type(room.b), room.b.id)
    assert a is not None and b is not None
    a.cluster_id = b.cluster_id = clusters[0].id
    await db.commit()
    c_user, d_user = await make_user(db, name="Cy"), await make_user(db, name="Di")
    c = await make_participant(db, room.event, user=c_user, cluster=clusters[1])
    d = await make_participant(db, room.event, user=d_user, cluster=clusters[1])
    other = await make_meeting(db, await make_request(db, c, d), await slot_at(db, room.event, 0), table=2)
    partner = await make_user(db, name="Pat Partner")
    await add_role(db, room.event, partner, "cluster_partner", clusters[1])
    partner_token = await issue_token(db, partner, kind="api")
    c_token = await issue_token(db, c_user, kind="api")
    await db.commit()

    watch = await connect(f"{server}/ws/events/{room.event.slug}", partner_token)
    assert (await recv(watch))["type"] == "snapshot"
    outside = await connect(f"{server}/ws/meetings/{room.meeting.id}", room.a_token)  # cluster 0
    await recv(outside)
    inside = await connect(f"{server}/ws/meetings/{other.id}", c_token)  # cluster 1
    await recv(inside)
    seen = await recv_until(watch, "presence")
    # The first presence the partner receives is from their own cluster's room, not the earlier one.
    assert (seen["meeting_id"], seen["who"]["participant_id"]) == (other.id, c.id)
    for ws in (watch, outside, inside):
        await ws.close()
