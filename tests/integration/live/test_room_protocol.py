"""The meeting room over a real WebSocket: admission, snapshot, chat, notes, signals, errors, resume."""

from __future__ import annotations

import json

import pytest
import websockets
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from clockevents.live.messages import meeting_channel
from clockevents.live.models import LiveChannel
from tests.integration.live.conftest import Room, both_parties, close_code, connect, recv, recv_until


async def test_two_parties_chat_and_see_each_other(server: str, room: Room) -> None:
    url = f"{server}/ws/meetings/{room.meeting.id}"
    a = await connect(url, room.a_token)
    snap = await recv(a)
    assert snap["type"] == "snapshot"
    assert snap["me"]["participant_id"] == room.a.id
    assert snap["presence"] == {str(room.a.id): "absent", str(room.b.id): "absent"}
    assert [p["participant_id"] for p in snap["parties"]] == [room.a.id, room.b.id]
    joined = await recv(a)
    assert (joined["type"], joined["state"], joined["who"]["participant_id"]) == (
        "presence",
        "joined",
        room.a.id,
    )
    assert joined["seq"] == snap["seq"] + 1

    b = await connect(url, room.b_token)
    snap_b = await recv(b)
    assert snap_b["presence"][str(room.a.id)] == "joined"
    assert snap_b["polite"] is (room.b.id > room.a.id)
    b_joined = await recv_until(a, "presence")
    assert (b_joined["who"]["participant_id"], b_joined["state"]) == (room.b.id, "joined")

    await a.send(json.dumps({"type": "chat", "text": "  hello Bo  "}))
    got = await recv_until(b, "chat")
    assert (got["text"], got["from"]["participant_id"], got["from"]["name"]) == (
        "hello Bo",
        room.a.id,
        "Ada Rossi",
    )
    mine = await recv_until(a, "chat")
    assert mine["seq"] == got["seq"]

    await b.send(json.dumps({"type": "signal", "data": {"sdp": "offer"}}))
    signal = await recv_until(a, "signal")
    assert signal["data"] == {"sdp": "offer"} and signal["from"]["participant_id"] == room.b.id
    assert signal["ephemeral"] is True

    await b.send(json.dumps({"type": "note", "text": "Next: NDA"}))
    note = await recv_until(a, "note")
    assert (note["text"], note["by"]["name"]) == ("Next: NDA", "Bo Chen")
    await a.close()
    left = await recv_until(b, "presence")
    assert (left["who"]["participant_id"], left["state"]) == (room.a.id, "left")
    await b.close()

    # A newcomer's snapshot holds the stored chat and notes.
    again = await connect(url, room.b_token)
    snap = await recv(again)
    assert [m["text"] for m in snap["chat"]] == ["hello Bo"]
    assert snap["note"]["text"] == "Next: NDA"
    assert snap["presence"][str(room.a.id)] == "left"
    await again.close()


async def test_refusals_use_the_documented_close_codes(server: str, room: Room) -> None:
    url = f"{server}/ws/meetings/{room.meeting.id}"
    assert await close_code(await connect(url)) == 4401
    assert await close_code(await connect(url, "not-a-token")) == 4401
    assert await close_code(await connect(url, room.outsider_token)) == 4403
    assert await close_code(await connect(f"{server}/ws/meetings/999999", room.a_token)) == 4404
    assert (
        await close_code(await connect(f"{server}/ws/events/{room.event.slug}", room.outsider_token)) == 4403
    )


async def test_organiser_may_join_and_both_parties_are_told(server: str, room: Room) -> None:
    url = f"{server}/ws/meetings/{room.meeting.id}"
    a = await connect(url, room.a_token)
    await recv(a)
    await recv_until(a, "presence")
    o = await connect(url, room.organiser_token)
    snap = await recv(o)
    assert snap["me"]["role"] == "organiser" and snap["me"]["participant_id"] is None
    told = await recv_until(a, "presence")
    assert (told["who"]["role"], told["who"]["name"], told["state"]) == (
        "organiser",
        "Olga Organiser",
        "joined",
    )
    await o.close()
    await a.close()


async def test_bad_messages_get_an_error_and_the_connection_stays(server: str, room: Room) -> None:
    a = await connect(f"{server}/ws/meetings/{room.meeting.id}", room.a_token)
    await recv(a)
    await recv_until(a, "presence")
    cases = [
        ("{not json", "malformed JSON"),
        ("[1, 2]", "a message is a JSON object with a type"),
        (json.dumps({"type": "dance"}), "unknown message type: 'dance'"),
        (json.dumps({"text": "no type"}), "a message needs a type"),
        (json.dumps({"type": "chat", "text": ""}), "text: A chat message needs some text."),
        (json.dumps({"type": "chat", "text": 5}), "text: A chat message needs some text."),
        (json.dumps({"type": "signal", "data": "x"}), "data: A signal carries an object in data."),
        (json.dumps({"type": "chat", "text": "x" * 17000}), "message too large: at most 16384 bytes"),
    ]
    for raw, reason in cases:
        await a.send(raw)
        error = await recv_until(a, "error")
        assert error["reason"] == reason
    await a.send(json.dumps({"type": "ping"}))
    assert (await recv_until(a, "pong"))["type"] == "pong"
    await a.close()


async def test_a_message_over_a_mebibyte_closes_the_socket_before_it_is_read_whole(
    server: str, room: Room
) -> None:
    a = await connect(f"{server}/ws/meetings/{room.meeting.id}", room.a_token)
    await recv(a)
    await a.send(json.dumps({"type": "chat", "text": "x" * (1024 * 1024)}))
    with pytest.raises(websockets.ConnectionClosed):
        while True:
            await recv(a)
    assert a.close_code == 1009  # message too big (the reason's wording is websockets')


async def test_messages_reach_the_partner_in_the_order_they_were_sent(server: str, room: Room) -> None:
    # Chat is stored before it goes out; a signal is not stored. One sent right after a chat
    # still arrives after it, and the stored ones (chat, notes) are numbered in the order sent.
    url = f"{server}/ws/meetings/{room.meeting.id}"
    a, b = await both_parties(url, room)
    await a.send(json.dumps({"type": "ping"}))
    await recv_until(a, "pong")  # a's connection reads its messages now
    sent = []
    for i in range(6):
        # Each pair sent at once, while the connection waits for a message: the chat is queued
        # for storing as it arrives, and the signal has to wait until it has gone out.
        await a.send(json.dumps({"type": "chat", "text": f"chat {i}"}))
        await a.send(json.dumps({"type": "signal", "data": {"n": i}}))
        sent += [f"chat {i}", f"signal {i}"]
        if i % 3 == 2:
            await a.send(json.dumps({"type": "note", "text": f"note {i}"}))
            sent.append(f"note {i}")
        await recv_until(a, "chat")
    got, seqs = [], []
    while len(got) < len(sent):
        message = await recv(b)
        if message["type"] == "signal":
            got.append(f"signal {message['data']['n']}")
        elif message["type"] in ("chat", "note"):
            got.append(f"{message['type']} {message['text'].split()[-1]}")
            seqs.append(message["seq"])
    assert got == sent
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    await a.close()
    await b.close()


async def test_a_message_that_cannot_be_stored_gets_an_error_and_the_connection_stays(
    server: str, room: Room, db: AsyncSession
) -> None:
    a = await connect(f"{server}/ws/meetings/{room.meeting.id}", room.a_token)
    await recv(a)
    await a.send(json.dumps({"type": "ping"}))
    await recv_until(a, "pong")
    await a.send(json.dumps({"type": "chat", "text": "kept"}))
    assert (await recv_until(a, "chat"))["text"] == "kept"
    # The room's channel vanishes under the running server: nothing more can be stored in it.
    await db.execute(delete(LiveChannel).where(LiveChannel.name == meeting_channel(room.meeting.id)))
    await db.commit()
    reason = "the message could not be stored: please send it again"
    await a.send(json.dumps({"type": "chat", "text": "lost"}))  # taken straight from the protocol
    assert (await recv_until(a, "error"))["reason"] == reason
    await a.send(json.dumps({"type": "note", "text": "lost too"}))  # through the connection's task
    assert (await recv_until(a, "error"))["reason"] == reason
    await a.send(json.dumps({"type": "ping"}))
    assert (await recv_until(a, "pong"))["type"] == "pong"
    await a.close()


async def test_resume_after_a_drop_misses_nothing(server: str, room: Room) -> None:
    url = f"{server}/ws/meetings/{room.meeting.id}"
    a, b = await both_parties(url, room)
    await a.send(json.dumps({"type": "chat", "text": "one"}))
    seen = await recv_until(b, "chat")
    await b.close()
    for text in ("two", "three"):
        await a.send(json.dumps({"type": "chat", "text": text}))
        await recv_until(a, "chat")
    back = await connect(f"{url}?after={seen['seq']}", room.b_token)
    replay = []
    while True:
        message = await recv(back)
        replay.append(message)
        if message["type"] == "chat" and message["text"] == "three":
            break
    assert [m["text"] for m in replay if m["type"] == "chat"] == ["two", "three"]
    seqs = [m["seq"] for m in replay]
    assert seqs == sorted(seqs) and seqs[0] == seen["seq"] + 1
    assert all(m["type"] != "snapshot" for m in replay)
    await back.close()
    await a.close()


async def test_cookie_connections_need_our_own_origin(server: str, room: Room, settings) -> None:  # type: ignore[no-untyped-def]
    from clockevents.accounts.services import issue_token
    from clockevents.db import create_engine, create_session_factory

    engine = create_engine(settings.database_url)
    async with create_session_factory(engine)() as db:
        from clockevents.accounts.models import User

        user = await db.get(User, room.a_user.id)
        cookie = await issue_token(db, user, kind="session")
        await db.commit()
    await engine.dispose()
    url = f"{server}/ws/meetings/{room.meeting.id}"
    host = server.removeprefix("ws://")
    headers = {"Cookie": f"ce_session={cookie}"}
    evil = await websockets.connect(url, additional_headers=headers, origin="http://evil.example")
    assert await close_code(evil) == 4403
    good = await websockets.connect(url, additional_headers=headers, origin=f"http://{host}")
    assert (await recv(good))["type"] == "snapshot"
    await good.close()
