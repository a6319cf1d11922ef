from __future__ import annotations

from typing import Any

from litestar.testing import AsyncTestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from clockevents.agenda.models import Meeting, MeetingSeat
from clockevents.notify.models import Notification
from tests.factories.accounts import make_user
from tests.helpers import api_token, bearer, json_post, login
from tests.unit.agenda.test_changes import seed


async def _token(client: AsyncTestClient[Any], db: AsyncSession, user_id: int | None) -> dict[str, str]:
    from clockevents.accounts.models import User

    user = await db.get(User, user_id)
    assert user is not None
    return bearer(await api_token(client, user.email))


async def test_cancel_meeting_api_by_participant_then_twice_409(
    client: AsyncTestClient[Any], db: AsyncSession
) -> None:
    s = await seed(db)
    ada = await _token(client, db, s.ada.user_id)

    response = await client.post(f"/api/v1/meetings/{s.first.id}/cancel", json={"reason": "Ill"}, headers=ada)
    again = await client.post(f"/api/v1/meetings/{s.first.id}/cancel", json={}, headers=ada)

    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["id"], body["status"], body["sequence"], body["cancel_reason"]) == (
        s.first.id,
        "cancelled",
        1,
        "Ill",
    )
    assert body["uid"] == s.first.uid
    assert again.status_code == 409
    assert again.json()["detail"] == "This meeting is already cancelled."
    seats = await db.scalars(select(MeetingSeat).where(MeetingSeat.meeting_id == s.first.id))
    assert list(seats) == []
    notes = list(await db.scalars(select(Notification.user_id)))
    assert notes == [s.bruno.user_id]


async def test_cancel_meeting_api_without_body_by_cookie_session(
    client: AsyncTestClient[Any], db: AsyncSession
) -> None:
    s = await seed(db)
    await login(client, s.owner.email)

    response = await json_post(client, f"/api/v1/meetings/{s.other.id}/cancel", None)

    assert response.status_code == 200, response.text
    assert response.json()["cancel_reason"] == ""


async def test_cancel_meeting_api_errors(client: AsyncTestClient[Any], db: AsyncSession) -> None:
    s = await seed(db)
    carla = await _token(client, db, s.carla.user_id)
    owner = bearer(await api_token(client, s.owner.email))

    anonymous = await client.post(f"/api/v1/meetings/{s.first.id}/cancel", json={})
    stranger = await client.post(f"/api/v1/meetings/{s.first.id}/cancel", json={}, headers=carla)
    unknown = await client.post("/api/v1/meetings/999999/cancel", json={}, headers=owner)
    bad = await client.post(f"/api/v1/meetings/{s.first.id}/cancel", json={"reason": 5}, headers=owner)

    assert anonymous.status_code == 401
    assert stranger.status_code == 403
    assert unknown.status_code == 404
    assert bad.status_code == 400
    assert bad.json()["errors"] == {"reason": "Give the reason as text."}
    assert (await db.get(Meeting, s.first.id, populate_existing=True)).status == "scheduled"  # type: ignore[union-attr]


async def test_move_meeting_api_moves_and_raises_sequence(
    client: AsyncTestClient[Any], db: AsyncSession
) -> None:
    s = await seed(db)
    owner = bearer(await api_token(client, s.owner.email))

    response = await client.patch(
        f"/api/v1/meetings/{s.first.id}", json={"slot": 1, "table": 2}, headers=owner
    )

    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["slot"], body["table"], body["sequence"], body["status"]) == (1, 2, 1, "scheduled")
    listed = (await client.get(f"/api/v1/events/{s.event.slug}/meetings", headers=owner)).json()
    moved = next(m for m in listed if m["id"] == s.first.id)
    assert (moved["slot"], moved["starts_at"], moved["starts_at_utc"]) == (
        1,
        "2026-10-24T09:25:00+02:00",
        "2026-10-24T07:25:00+00:00",
    )
    kinds = list(await db.scalars(select(Notification.kind).order_by(Notification.id)))
    assert kinds == ["meeting_moved", "meeting_moved"]


async def test_move_meeting_api_errors(client: AsyncTestClient[Any], db: AsyncSession) -> None:
    s = await seed(db)
    owner = bearer(await api_token(client, s.owner.email))
    ada = await _token(client, db, s.ada.user_id)
    url = f"/api/v1/meetings/{s.first.id}"

    bad = await client.patch(url, json={"slot": "x", "table": 9}, headers=owner)
    busy = await client.patch(url, json={"slot": 2}, headers=owner)
    participant = await client.patch(url, json={"slot": 1}, headers=ada)
    anonymous = await client.patch(url, json={"slot": 1})
    unknown = await client.patch("/api/v1/meetings/999999", json={"slot": 1}, headers=owner)
    not_object = await client.patch(
        url, content=b"[1]", headers={**owner, "content-type": "application/json"}
    )
    await client.post(f"{url}/cancel", json={}, headers=owner)
    cancelled = await client.patch(url, json={"slot": 1}, headers=owner)

    assert bad.status_code == 400
    assert bad.json()["errors"] == {
        "slot": "Give the slot as a whole number.",
        "table": "Give a table number from 1 to 3.",
    }
    assert busy.status_code == 400
    assert busy.json()["errors"]["slot"].startswith("Ada Rossi already has another meeting in slot 2.")
    assert participant.status_code == 403
    assert anonymous.status_code == 401
    assert unknown.status_code == 404
    assert not_object.status_code == 400
    assert cancelled.status_code == 409


async def test_meetings_csv_api_content_type_and_permissions(
    client: AsyncTestClient[Any], db: AsyncSession
) -> None:
    s = await seed(db)
    owner = bearer(await api_token(client, s.owner.email))
    ada = await _token(client, db, s.ada.user_id)
    url = f"/api/v1/events/{s.event.slug}/meetings.csv"

    response = await client.get(url, headers=owner)

    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    lines = response.text.split("\r\n")
    assert lines[0] == (
        "meeting_id,uid,status,day,start,end,start_utc,table,a_name,a_organisation,a_cluster,"
        "b_name,b_organisation,b_cluster,request_message,sequence"
    )
    assert len(lines) == 5  # header, three meetings, trailing empty string
    assert (await client.get(url, headers=ada)).status_code == 403
    assert (await client.get(url)).status_code == 401
    assert (await client.get("/api/v1/events/no-such/meetings.csv", headers=owner)).status_code == 404
    stranger = bearer(await api_token(client, (await make_user(db)).email))
    assert (await client.get(url, headers=stranger)).status_code == 403
