"""Two people meet in a live room in real browsers: they chat and see each other by WebRTC.

Headless Chromium's fake camera and microphone stand in for real devices; the two peer
connections meet on this machine without any STUN or TURN server.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from playwright.async_api import Browser, Page
from sqlalchemy.ext.asyncio import AsyncSession

from tests.factories.accounts import PASSWORD, make_user
from tests.factories.agenda import make_meeting, make_request, slot_at
from tests.factories.events import make_event
from tests.factories.registration import make_organisation, make_participant

pytestmark = pytest.mark.e2e

TIMEOUT_MS = 20_000

FRAMES_DECODED = """
async () => {
  const pc = window.clockRoom && window.clockRoom.pc;
  if (!pc) { return 0; }
  let frames = 0;
  (await pc.getStats()).forEach((report) => {
    if (report.type === "inbound-rtp" && report.kind === "video") { frames += report.framesDecoded || 0; }
  });
  return frames;
}
"""


async def log_in(page: Page, base: str, email: str) -> None:
    await page.goto(base + "/login")
    await page.get_by_label("E-mail").fill(email)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Log in").click()
    await page.wait_for_url(base + "/", timeout=TIMEOUT_MS)


async def eventually(page: Page, script: str, timeout: float = TIMEOUT_MS / 1000) -> Any:
    """Evaluate ``script`` until it gives something truthy; fail after ``timeout`` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        value = await page.evaluate(script)
        if value:
            return value
        if loop.time() > deadline:
            raise AssertionError(f"still {value!r} after {timeout} s: {script.strip()[:80]}")
        await asyncio.sleep(0.25)


async def test_two_parties_chat_and_connect_by_video(
    db: AsyncSession, live_server: str, browser: Browser
) -> None:
    organiser = await make_user(db, name="Olga Organiser")
    event = await make_event(db, organiser)
    ada_user = await make_user(db, email="ada@nanotech.example", name="Ada Rossi")
    bo_user = await make_user(db, email="bo@labx.example", name="Bo Chen")
    ada = await make_participant(
        db, event, user=ada_user, organisation=await make_organisation(db, name="Nanotech Srl")
    )
    bo = await make_participant(
        db, event, user=bo_user, organisation=await make_organisation(db, name="Lab X")
    )
    meeting = await make_meeting(db, await make_request(db, ada, bo), await slot_at(db, event, 0))
    room_url = f"{live_server}/meetings/{meeting.id}/room"

    pages: dict[str, Page] = {}
    for who, email in (("ada", "ada@nanotech.example"), ("bo", "bo@labx.example")):
        page = await (await browser.new_context()).new_page()
        page.set_default_timeout(TIMEOUT_MS)
        await log_in(page, live_server, email)
        await page.goto(room_url)
        await page.wait_for_function(
            "() => document.getElementById('room-conn').dataset.state === 'open'", timeout=TIMEOUT_MS
        )
        pages[who] = page
    ada_page, bo_page = pages["ada"], pages["bo"]

    assert await ada_page.locator("h1").text_content() == "Meeting with Bo Chen"
    assert await bo_page.locator("h1").text_content() == "Meeting with Ada Rossi"
    # Each sees the other arrive.
    for page, other in ((ada_page, bo.id), (bo_page, ada.id)):
        await page.wait_for_function(
            f"() => document.querySelector('#room-presence li[data-pid=\"{other}\"] .live-dot').dataset.state"
            " === 'joined'",
            timeout=TIMEOUT_MS,
        )

    # Chat: each sees the other's message.
    await ada_page.get_by_label("Message").fill("Hello Bo, can you hear me?")
    await ada_page.get_by_role("button", name="Send").click()
    await bo_page.locator("#chat-log li p", has_text="Hello Bo, can you hear me?").wait_for(
        timeout=TIMEOUT_MS
    )
    await bo_page.get_by_label("Message").fill("Loud and clear, Ada.")
    await bo_page.get_by_role("button", name="Send").click()
    await ada_page.locator("#chat-log li p", has_text="Loud and clear, Ada.").wait_for(timeout=TIMEOUT_MS)
    for page in (ada_page, bo_page):
        assert await page.locator("#chat-log li p").all_text_contents() == [
            "Hello Bo, can you hear me?",
            "Loud and clear, Ada.",
        ]

    # Video: both peer connections connect, and both decode the other's camera frames.
    for page in (ada_page, bo_page):
        await page.wait_for_function(
            "() => window.clockRoom.pc !== null && window.clockRoom.pc.connectionState === 'connected'",
            timeout=TIMEOUT_MS,
        )
    for page in (ada_page, bo_page):
        frames = await eventually(page, FRAMES_DECODED)
        assert frames > 0
    # Exactly one side was polite: the party with the larger participant id.
    polite = {who: await page.evaluate("window.clockRoom.room.polite") for who, page in pages.items()}
    assert polite == {"ada": ada.id > bo.id, "bo": bo.id > ada.id}
