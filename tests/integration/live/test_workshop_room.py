"""The workshop room over a real WebSocket and in browsers: refusals, questions, votes, answers, resume."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from playwright.async_api import Browser, Page, expect
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from clockevents.live.models import LiveChannel, LiveMessage, WorkshopVote
from tests.e2e.conftest import browser, live_server  # noqa: F401 - fixtures
from tests.factories.accounts import PASSWORD
from tests.integration.live.conftest import close_code, connect, recv, recv_until
from tests.integration.live.workshop_scene import Scene

BROWSER_MS = 20_000


async def test_room_refusals_use_the_documented_close_codes(server: str, scene: Scene) -> None:
    url = f"{server}/ws/workshops/{scene.workshop_id}"
    assert await close_code(await connect(url)) == 4401
    assert await close_code(await connect(url, scene.tokens["cy"])) == 4403  # not registered
    assert await close_code(await connect(url, scene.tokens["outsider"])) == 4403
    assert await close_code(await connect(f"{server}/ws/workshops/999999", scene.tokens["ada"])) == 4404


async def _until_stored(db: AsyncSession, channel: str, state: str, count: int, timeout: float = 5.0) -> None:
    """Wait until ``count`` presence messages saying ``state`` are stored on ``channel``."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        async with AsyncSession(db.bind) as fresh:  # the test's own session keeps its objects
            payloads = list(
                await fresh.scalars(
                    select(LiveMessage.payload)
                    .join(LiveChannel, LiveChannel.id == LiveMessage.channel_id)
                    .where(LiveChannel.name == channel, LiveMessage.type == "presence")
                )
            )
        if sum(p.get("state") == state for p in payloads) >= count:
            return
        assert asyncio.get_running_loop().time() < deadline, f"fewer than {count} {state} on {channel}"
        await asyncio.sleep(0.02)


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
    await _until_stored(db, f"workshop:{scene.workshop_id}", "joined", 2)  # said after the snapshots
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
    await _until_stored(db, f"workshop:{scene.workshop_id}", "left", 3)  # the server's side of the closes

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
