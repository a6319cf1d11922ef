"""Workshops: the services and API (manage, register within capacity, refusals), the pages, and
the room over a real WebSocket (chat, questions, votes counted once, answered by the presenter
and organisers only, resume)."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from playwright.async_api import Browser, Page, expect
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from clockevents.accounts.models import User
from clockevents.accounts.services import issue_token
from clockevents.db import create_engine, create_session_factory
from clockevents.errors import Conflict, PermissionDenied, ValidationFailed
from clockevents.events.models import Event
from clockevents.live import workshop_room, workshops
from clockevents.live.models import WorkshopRegistration, WorkshopVote
from clockevents.registration.models import Participant
from clockevents.settings import Settings
from tests.e2e.conftest import browser, live_server  # noqa: F401 - fixtures
from tests.factories.accounts import PASSWORD, make_user
from tests.factories.events import make_event
from tests.factories.registration import make_participant
from tests.helpers import bearer, form_post, login
from tests.integration.live.conftest import close_code, connect, recv, recv_until

BROWSER_MS = 20_000


@dataclass
class Scene:
    event: Event
    organiser: User
    presenter: Participant
    ada: Participant
    bo: Participant
    cy: Participant  # approved, not registered
    ada_user: User
    bo_user: User
    cy_user: User
    tokens: dict[str, str]
    workshop_id: int


@pytest.fixture
async def scene(db: AsyncSession) -> Scene:
    organiser = await make_user(db, name="Olga Organiser", email="olga@example.org")
    event = await make_event(db, organiser)
    users = {
        n: await make_user(db, name=name, email=f"{n}@example.org")
        for n, name in (("pia", "Pia Presenter"), ("ada", "Ada Rossi"), ("bo", "Bo Chen"), ("cy", "Cy Diaz"))
    }
    people = {n: await make_participant(db, event, user=u) for n, u in users.items()}
    outsider = await make_user(db, name="Outsider")
    tokens = {n: await issue_token(db, u, kind="api") for n, u in users.items()}
    tokens["olga"] = await issue_token(db, organiser, kind="api")
    tokens["outsider"] = await issue_token(db, outsider, kind="api")
    workshop = await workshops.create_workshop(
        db,
        event,
        organiser,
        {"title": "Graphene in coatings", "presenter_id": people["pia"].id, "slots": [1, 2], "capacity": 2},
    )
    await workshops.register(db, workshop.id, users["ada"])
    await workshops.register(db, workshop.id, users["bo"])
    await db.commit()
    return Scene(
        event,
        organiser,
        people["pia"],
        people["ada"],
        people["bo"],
        people["cy"],
        users["ada"],
        users["bo"],
        users["cy"],
        tokens,
        workshop.id,
    )


# services and API ---------------------------------------------------------------------------


async def test_create_reports_every_bad_field(client: AsyncTestClient[Litestar], scene: Scene) -> None:
    other = await client.post(
        f"/api/v1/events/{scene.event.slug}/workshops",
        json={"title": " ", "presenter_id": 999999, "slots": [1, 99, "x"], "capacity": 0, "description": 5},
        headers=bearer(scene.tokens["olga"]),
    )
    assert other.status_code == 400
    assert other.json()["errors"] == {
        "title": "Give the workshop a title.",
        "description": "Give the description as text.",
        "presenter_id": "The presenter must be a participant of this event.",
        "slots": "Give the slots as slot numbers of the event's grid.",
        "capacity": "Give the capacity as a number from 1 to 100000, or leave it empty.",
    }
    missing = await client.post(
        f"/api/v1/events/{scene.event.slug}/workshops",
        json={"title": "T", "presenter_id": scene.presenter.id, "slots": [2, 999]},
        headers=bearer(scene.tokens["olga"]),
    )
    assert (missing.status_code, missing.json()["errors"]) == (400, {"slots": "This event has no slot 999."})
    empty = await client.post(
        f"/api/v1/events/{scene.event.slug}/workshops", json={}, headers=bearer(scene.tokens["olga"])
    )
    assert set(empty.json()["errors"]) == {"title", "presenter_id", "slots"}


@pytest.mark.parametrize(
    "body",
    [
        {"title": ["x"], "presenter_id": True, "slots": {"a": 1}, "capacity": 1.5},
        {"title": "x" * 201, "presenter_id": 2**40, "slots": [-1], "capacity": -3},
        {"title": "ok", "presenter_id": "12abc", "slots": [True], "capacity": "many"},
        {"title": "ok", "presenter_id": None, "slots": "", "capacity": 10**12},
        {"title": "ok", "description": "b", "presenter_id": "", "slots": [None]},
    ],
)
async def test_odd_input_gets_400_with_field_messages(
    client: AsyncTestClient[Litestar], scene: Scene, body: dict[str, Any]
) -> None:
    response = await client.post(
        f"/api/v1/events/{scene.event.slug}/workshops", json=body, headers=bearer(scene.tokens["olga"])
    )
    assert response.status_code == 400, response.text
    assert set(response.json()["errors"]) >= {"presenter_id", "slots"}
    for url in ("/api/v1/workshops/99999999999", "/api/v1/workshops/0"):
        assert (await client.get(url)).status_code == 404
    huge = await client.post("/api/v1/workshops/99999999999/registration", headers=bearer(scene.tokens["cy"]))
    assert huge.status_code == 404


async def test_presenter_cannot_give_two_workshops_at_once(db: AsyncSession, scene: Scene) -> None:
    with pytest.raises(ValidationFailed) as caught:
        await workshops.create_workshop(
            db,
            scene.event,
            scene.organiser,
            {"title": "Again", "presenter_id": scene.presenter.id, "slots": [2, 3]},
        )
    assert caught.value.fields == {"presenter_id": "The presenter gives another workshop in slot 2."}
    with pytest.raises(ValidationFailed) as caught:
        await workshops.create_workshop(
            db,
            scene.event,
            scene.organiser,
            {"title": "Ada's", "presenter_id": scene.ada.id, "slots": [0, 1]},
        )
    assert caught.value.fields == {"presenter_id": "The presenter attends another workshop in slot 1."}
    # Made presenter of the workshop she attends, Ada gives up her seat in it.
    await workshops.update_workshop(
        db, scene.workshop_id, scene.organiser, {"title": "G", "presenter_id": scene.ada.id, "slots": [1, 2]}
    )
    view = await workshops.workshop_view(
        db, await workshops.get_workshop(db, scene.workshop_id), scene.ada_user
    )
    assert (view.registered, view.is_registered, view.is_presenter) == (1, False, True)


async def test_only_organisers_manage_workshops(client: AsyncTestClient[Litestar], scene: Scene) -> None:
    body = {"title": "Mine", "presenter_id": scene.ada.id, "slots": [4]}
    url = f"/api/v1/events/{scene.event.slug}/workshops"
    assert (await client.post(url, json=body, headers=bearer(scene.tokens["ada"]))).status_code == 403
    assert (await client.post(url, json=body)).status_code == 401
    patch = await client.patch(
        f"/api/v1/workshops/{scene.workshop_id}", json=body, headers=bearer(scene.tokens["ada"])
    )
    assert patch.status_code == 403
    gone = await client.delete(f"/api/v1/workshops/{scene.workshop_id}", headers=bearer(scene.tokens["bo"]))
    assert gone.status_code == 403


async def test_create_list_edit_delete_through_the_api(
    client: AsyncTestClient[Litestar], scene: Scene
) -> None:
    olga = bearer(scene.tokens["olga"])
    created = await client.post(
        f"/api/v1/events/{scene.event.slug}/workshops",
        json={
            "title": "  Smart   rail ",
            "presenter_id": scene.cy.id,
            "slots": ["5", 4],
            "description": "How.",
        },
        headers=olga,
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert (body["title"], body["description"], body["capacity"], body["registered"]) == (
        "Smart rail",
        "How.",
        None,
        0,
    )
    assert [s["index"] for s in body["slots"]] == [4, 5]
    assert body["presenter"] == {
        "participant_id": scene.cy.id,
        "name": "Cy Diaz",
        "organisation": body["presenter"]["organisation"],
    }
    listed = await client.get(
        f"/api/v1/events/{scene.event.slug}/workshops", headers=bearer(scene.tokens["ada"])
    )
    assert [(w["title"], w["registered"], w["places_left"], w["is_registered"]) for w in listed.json()] == [
        ("Graphene in coatings", 2, 0, True),
        ("Smart rail", 0, None, False),
    ]
    lower = await client.patch(
        f"/api/v1/workshops/{scene.workshop_id}",
        json={"title": "Graphene", "presenter_id": scene.presenter.id, "slots": [1], "capacity": 1},
        headers=olga,
    )
    assert (lower.status_code, lower.json()["errors"]) == (
        400,
        {"capacity": "2 people are already registered: the capacity cannot be lower."},
    )
    edited = await client.patch(
        f"/api/v1/workshops/{scene.workshop_id}",
        json={"title": "Graphene", "presenter_id": scene.presenter.id, "slots": [1], "capacity": 3},
        headers=olga,
    )
    assert edited.status_code == 200, edited.text
    assert ([s["index"] for s in edited.json()["slots"]], edited.json()["places_left"]) == ([1], 1)
    assert (await client.delete(f"/api/v1/workshops/{body['id']}", headers=olga)).status_code == 204
    listed = await client.get(f"/api/v1/events/{scene.event.slug}/workshops")
    assert [w["title"] for w in listed.json()] == ["Graphene"]
    assert (await client.get(f"/api/v1/workshops/{body['id']}")).status_code == 404


async def test_registration_respects_capacity_and_refusals(
    client: AsyncTestClient[Litestar], db: AsyncSession, scene: Scene
) -> None:
    url = f"/api/v1/workshops/{scene.workshop_id}/registration"
    full = await client.post(url, headers=bearer(scene.tokens["cy"]))
    assert (full.status_code, full.json()["detail"]) == (409, "This workshop is full.")
    presenter = await client.post(url, headers=bearer(scene.tokens["pia"]))
    assert (presenter.status_code, presenter.json()["detail"]) == (
        409,
        "You present this workshop: you need no registration.",
    )
    outsider = await client.post(url, headers=bearer(scene.tokens["outsider"]))
    assert outsider.status_code == 403
    assert (await client.post(url)).status_code == 401
    assert (
        await client.post("/api/v1/workshops/999999/registration", headers=bearer(scene.tokens["cy"]))
    ).status_code == 404

    again = await client.post(url, headers=bearer(scene.tokens["ada"]))  # registered already: no change
    assert (again.status_code, again.json()["registered"], again.json()["is_registered"]) == (200, 2, True)
    left = await client.delete(url, headers=bearer(scene.tokens["bo"]))
    assert (left.status_code, left.json()["registered"], left.json()["is_registered"]) == (200, 1, False)
    joined = await client.post(url, headers=bearer(scene.tokens["cy"]))
    assert (joined.status_code, joined.json()["registered"], joined.json()["places_left"]) == (200, 2, 0)
    count = await db.scalar(select(func.count()).where(WorkshopRegistration.workshop_id == scene.workshop_id))
    assert count == 2


async def test_registration_refused_for_a_clashing_workshop(db: AsyncSession, scene: Scene) -> None:
    other = await workshops.create_workshop(
        db, scene.event, scene.organiser, {"title": "Nautical", "presenter_id": scene.cy.id, "slots": [2]}
    )
    with pytest.raises(Conflict) as caught:
        await workshops.register(db, other.id, scene.ada_user)
    assert caught.value.message == "You are already in the workshop “Graphene in coatings” at the same time."
    with pytest.raises(PermissionDenied):
        await workshop_room.workshop_access(db, scene.cy_user, scene.workshop_id)


async def test_concurrent_registrations_for_the_last_place_let_one_in(
    db: AsyncSession, scene: Scene, settings: Settings
) -> None:
    await workshops.unregister(db, scene.workshop_id, scene.bo_user)
    dan_user = await make_user(db, name="Dan")
    await make_participant(db, scene.event, user=dan_user)
    await db.commit()
    engine = create_engine(settings.database_url)
    factory = create_session_factory(engine)

    async def attempt(user: User) -> str:
        async with factory() as session:
            try:
                await workshops.register(session, scene.workshop_id, user)
                await session.commit()
            except Conflict as exc:
                await session.rollback()
                return exc.message
            return "ok"

    try:
        results = await asyncio.gather(*(attempt(u) for u in (scene.bo_user, scene.cy_user, dan_user)))
    finally:
        await engine.dispose()
    assert sorted(results) == ["This workshop is full.", "This workshop is full.", "ok"]
    await db.commit()
    count = await db.scalar(select(func.count()).where(WorkshopRegistration.workshop_id == scene.workshop_id))
    assert count == 2


# pages --------------------------------------------------------------------------------------


async def test_admin_page_lists_and_creates(client: AsyncTestClient[Litestar], scene: Scene) -> None:
    await login(client, "olga@example.org")
    page = await client.get(f"/events/{scene.event.slug}/admin/workshops")
    assert page.status_code == 200
    assert "Graphene in coatings" in page.text and 'aria-current="page">Workshops<' in page.text
    bad = await form_post(
        client,
        f"/events/{scene.event.slug}/admin/workshops",
        {"title": "No slots", "presenter_id": str(scene.cy.id)},
    )
    assert bad.status_code == 400
    assert '<p class="error" id="e-slots">Choose one or more slots of the event.</p>' in bad.text
    made = await form_post(
        client,
        f"/events/{scene.event.slug}/admin/workshops",
        [
            ("title", "Stone"),
            ("presenter_id", str(scene.cy.id)),
            ("slots", "6"),
            ("slots", "7"),
            ("capacity", ""),
        ],
    )
    assert made.status_code in (302, 303)
    listed = await client.get(f"/api/v1/events/{scene.event.slug}/workshops")
    assert [(w["title"], [s["index"] for s in w["slots"]]) for w in listed.json()] == [
        ("Graphene in coatings", [1, 2]),
        ("Stone", [6, 7]),
    ]


async def test_participant_page_registers_and_withdraws(
    client: AsyncTestClient[Litestar], scene: Scene
) -> None:
    await login(client, "bo@example.org")
    page = await client.get(f"/events/{scene.event.slug}/workshops")
    assert page.status_code == 200 and "Withdraw from Graphene in coatings" in page.text
    out = await form_post(client, f"/workshops/{scene.workshop_id}/unregister", {})
    assert out.status_code in (302, 303)
    page = await client.get(f"/events/{scene.event.slug}/workshops")
    assert "Register for Graphene in coatings" in page.text and "1 places left" in page.text
    back = await form_post(client, f"/workshops/{scene.workshop_id}/register", {})
    assert back.status_code in (302, 303)
    assert (await client.get(f"/workshops/{scene.workshop_id}/room")).status_code == 200


async def test_full_workshop_page_says_why(client: AsyncTestClient[Litestar], scene: Scene) -> None:
    await login(client, "cy@example.org")
    refused = await form_post(client, f"/workshops/{scene.workshop_id}/register", {})
    assert refused.status_code == 409 and "This workshop is full." in refused.text
    assert (await client.get(f"/workshops/{scene.workshop_id}/room")).status_code == 403


# the room -----------------------------------------------------------------------------------


async def test_room_refusals_use_the_documented_close_codes(server: str, scene: Scene) -> None:
    url = f"{server}/ws/workshops/{scene.workshop_id}"
    assert await close_code(await connect(url)) == 4401
    assert await close_code(await connect(url, scene.tokens["cy"])) == 4403  # not registered
    assert await close_code(await connect(url, scene.tokens["outsider"])) == 4403
    assert await close_code(await connect(f"{server}/ws/workshops/999999", scene.tokens["ada"])) == 4404


async def _send(ws: Any, message: dict[str, Any]) -> None:
    await ws.send(json.dumps(message))


async def test_questions_votes_and_answers(server: str, db: AsyncSession, scene: Scene) -> None:
    url = f"{server}/ws/workshops/{scene.workshop_id}"
    ada = await connect(url, scene.tokens["ada"])
    snap = await recv(ada)
    assert snap["type"] == "snapshot"
    assert (snap["me"]["role"], snap["me"]["moderates"], snap["attendees"]) == ("attendee", False, 2)
    assert snap["presenter"]["name"] == "Pia Presenter"
    assert (snap["workshop"]["title"], [s["index"] for s in snap["workshop"]["slots"]]) == (
        "Graphene in coatings",
        [1, 2],
    )
    assert (snap["chat"], snap["questions"], snap["present"]) == ([], [], [])
    bo = await connect(url, scene.tokens["bo"])
    await recv(bo)
    pia = await connect(url, scene.tokens["pia"])
    pia_snap = await recv(pia)
    assert (pia_snap["me"]["role"], pia_snap["me"]["moderates"]) == ("presenter", True)
    assert sorted(p["user_id"] for p in pia_snap["present"]) == sorted([scene.ada_user.id, scene.bo_user.id])

    await _send(ada, {"type": "question", "text": "  How thick is the coating?  "})
    first = await recv_until(bo, "question")
    assert (first["text"], first["by"]["name"], first["votes"], first["answered"]) == (
        "How thick is the coating?",
        "Ada Rossi",
        0,
        False,
    )
    await _send(bo, {"type": "question", "text": "Does it survive salt water?"})
    second = await recv_until(bo, "question")  # bo already read the first one
    assert second["text"] == "Does it survive salt water?"

    await _send(ada, {"type": "vote", "question_id": second["id"]})
    vote = await recv_until(pia, "vote")
    assert (vote["question_id"], vote["votes"]) == (second["id"], 1)
    await _send(ada, {"type": "vote", "question_id": second["id"]})  # again: refused, not counted
    error = await recv_until(ada, "error")
    assert error["reason"] == "You have already voted for this question."
    await _send(pia, {"type": "vote", "question_id": second["id"]})
    vote = await recv_until(pia, "vote")
    assert (vote["question_id"], vote["votes"]) == (second["id"], 2)
    assert await db.scalar(select(func.count()).where(WorkshopVote.question_id == second["id"])) == 2

    await _send(bo, {"type": "answered", "question_id": first["id"]})  # attendees may not
    error = await recv_until(bo, "error")
    assert error["reason"] == "Only the presenter and the organisers mark questions answered."
    await _send(pia, {"type": "answered", "question_id": second["id"]})
    answered = await recv_until(ada, "answered")
    assert answered["question_id"] == second["id"]

    await _send(ada, {"type": "chat", "text": "Thanks!"})
    chat = await recv_until(pia, "chat")
    assert (chat["text"], chat["from"]["name"], chat["from"]["role"]) == ("Thanks!", "Ada Rossi", "attendee")

    for bad, reason in (
        ({"type": "question", "text": "x" * 501}, "text: A question holds at most 500 characters."),
        ({"type": "question", "text": "   "}, "text: A question needs some text."),
        ({"type": "vote", "question_id": "1"}, "question_id: Give the question's id as a number."),
        ({"type": "vote", "question_id": 999999}, "No such question in this workshop."),
    ):
        await _send(bo, bad)
        assert (await recv_until(bo, "error"))["reason"] == reason
    for ws in (ada, bo, pia):
        await ws.close()

    # An organiser's snapshot: questions by votes, with the caller's own votes marked.
    olga = await connect(url, scene.tokens["olga"])
    snap = await recv(olga)
    assert snap["me"]["role"] == "organiser"
    assert [(q["text"], q["votes"], q["answered"], q["voted"]) for q in snap["questions"]] == [
        ("Does it survive salt water?", 2, True, False),
        ("How thick is the coating?", 0, False, False),
    ]
    assert [m["text"] for m in snap["chat"]] == ["Thanks!"]
    assert snap["present"] == []
    await _send(olga, {"type": "answered", "question_id": first["id"]})
    assert (await recv_until(olga, "answered"))["question_id"] == first["id"]
    await olga.close()
    ada = await connect(url, scene.tokens["ada"])
    snap = await recv(ada)
    assert [(q["id"], q["voted"], q["answered"]) for q in snap["questions"]] == [
        (second["id"], True, True),
        (first["id"], False, True),
    ]
    await ada.close()


async def test_resume_after_a_drop_misses_nothing(server: str, scene: Scene) -> None:
    url = f"{server}/ws/workshops/{scene.workshop_id}"
    ada = await connect(url, scene.tokens["ada"])
    await recv(ada)
    await _send(ada, {"type": "chat", "text": "one"})
    seen = await recv_until(ada, "chat")
    await ada.close()
    bo = await connect(url, scene.tokens["bo"])
    await recv(bo)
    await _send(bo, {"type": "chat", "text": "two"})
    await _send(bo, {"type": "question", "text": "three?"})
    await recv_until(bo, "question")
    back = await connect(f"{url}?after={seen['seq']}", scene.tokens["ada"])
    replay = [await recv(back) for _ in range(5)]
    assert [(m["type"], m.get("text") or m.get("state")) for m in replay] == [
        ("presence", "left"),
        ("presence", "joined"),
        ("chat", "two"),
        ("question", "three?"),
        ("presence", "joined"),
    ]
    assert [m["seq"] for m in replay] == list(range(seen["seq"] + 1, seen["seq"] + 6))
    await back.close()
    await bo.close()


# the room page in a real browser ------------------------------------------------------------


async def _open_room(chromium: Browser, base: str, email: str, workshop_id: int, errors: list[str]) -> Page:
    context = await chromium.new_context()
    page = await context.new_page()
    page.on("pageerror", lambda error: errors.append(str(error)))  # script errors (a CSP block included)
    await page.goto(f"{base}/login?next=/workshops/{workshop_id}/room")
    await page.get_by_label("E-mail").fill(email)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Log in").click()
    await page.wait_for_url(f"{base}/workshops/{workshop_id}/room", timeout=BROWSER_MS)
    await expect(page.locator('[data-field="connection"]')).to_have_text("Connected", timeout=BROWSER_MS)
    return page


@pytest.mark.e2e
async def test_room_page_asks_votes_and_marks_answered_in_browsers(
    live_server: str,  # noqa: F811
    browser: Browser,  # noqa: F811
    scene: Scene,
) -> None:
    errors: list[str] = []
    ada = await _open_room(browser, live_server, "ada@example.org", scene.workshop_id, errors)
    pia = await _open_room(browser, live_server, "pia@example.org", scene.workshop_id, errors)
    await expect(ada.locator('[data-field="present"]')).to_have_text("2", timeout=BROWSER_MS)

    await ada.get_by_label("Ask the presenter").fill("How thick is the coating?")
    await ada.get_by_role("button", name="Ask").click()
    question = pia.locator("#questions li").filter(has_text="How thick is the coating?")
    await expect(question).to_contain_text("0 votes", timeout=BROWSER_MS)
    await question.get_by_role("button", name="Upvote").click()
    await expect(ada.locator("#questions li")).to_contain_text("1 vote", timeout=BROWSER_MS)
    await expect(question.get_by_role("button", name="Voted")).to_be_disabled()
    assert await ada.get_by_role("button", name="Mark answered").count() == 0  # attendees do not moderate
    await question.get_by_role("button", name="Mark answered").click()
    await expect(ada.locator("#questions li")).to_contain_text("answered", timeout=BROWSER_MS)

    await pia.locator("#chat-text").fill("Welcome, everyone")
    await pia.get_by_role("button", name="Send").click()
    await expect(ada.locator("#chat li")).to_have_text("Pia Presenter Welcome, everyone", timeout=BROWSER_MS)
    await ada.close()
    await expect(pia.locator('[data-field="present"]')).to_have_text("1", timeout=BROWSER_MS)
    assert errors == []
