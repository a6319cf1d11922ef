from __future__ import annotations

from typing import Any

from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession

from tests.factories.accounts import make_user
from tests.factories.events import make_event
from tests.factories.registration import make_participant
from tests.helpers import api_token, bearer
from tests.integration.agenda.helpers import DAY, SESSIONS, wait_done


async def test_request_accept_build_publish_reaches_both_agendas_and_notifications(
    client: AsyncTestClient[Any], db: AsyncSession
) -> None:
    owner = await make_user(db)
    event = await make_event(db, owner, session_times=SESSIONS, starts_on=DAY)
    ada_user = await make_user(db, name="Ada Rossi")
    bruno_user = await make_user(db, name="Bruno Neri")
    await make_participant(db, event, user=ada_user)
    bruno = await make_participant(db, event, user=bruno_user)
    organiser = bearer(await api_token(client, owner.email))
    ada = bearer(await api_token(client, ada_user.email))
    bruno_h = bearer(await api_token(client, bruno_user.email))

    asked = await client.post(
        f"/api/v1/events/{event.slug}/meeting-requests", json={"to": bruno.id}, headers=ada
    )
    assert asked.status_code == 201, asked.text
    accepted = await client.post(f"/api/v1/meeting-requests/{asked.json()['id']}/accept", headers=bruno_h)
    assert accepted.status_code == 200, accepted.text
    started = await client.post(
        f"/api/v1/events/{event.slug}/schedule-runs", json={"time_limit": 2}, headers=organiser
    )
    assert started.status_code == 201, started.text
    run = await wait_done(client, started.json()["id"], organiser)
    assert run["status"] == "done", run["error"]
    assert run["statistics"]["placed_meetings"] == 1
    published = await client.post(f"/api/v1/schedule-runs/{run['id']}/publish", headers=organiser)
    assert published.status_code == 200, published.text

    for headers, partner in ((ada, "Bruno Neri"), (bruno_h, "Ada Rossi")):
        meetings = (await client.get(f"/api/v1/events/{event.slug}/meetings", headers=headers)).json()
        assert [(m["partner"]["name"], m["status"], m["table"]) for m in meetings] == [
            (partner, "scheduled", 1)
        ]
        notes = (await client.get("/api/v1/notifications", headers=headers)).json()
        agenda_notes = [
            n for n in (notes["items"] if isinstance(notes, dict) else notes) if n["kind"] == "agenda"
        ]
        assert [n["url"] for n in agenda_notes] == [f"/events/{event.slug}/agenda"]
