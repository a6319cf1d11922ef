"""Two people meet in a live room in real browsers: they chat and see each other by WebRTC.

Headless Chromium's fake camera and microphone stand in for real devices; the two peer
connections meet on this machine without any STUN or TURN server.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
import websockets
from playwright.async_api import Browser, Page
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from clockevents.accounts.services import issue_token
from clockevents.db import utcnow
from clockevents.events.models import EventSession, Slot
from clockevents.registration.models import Organisation, Participant
from tests.factories.accounts import PASSWORD, make_user
from tests.factories.agenda import make_meeting, make_request, slot_at
from tests.factories.events import make_event
from tests.factories.registration import make_organisation, make_participant
from web.live.handlers import MAX_SOCKETS_PER_USER

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


async def trails(*pages: Page) -> str:
    """The rooms' negotiation trails (window.clockRoom.video.trail), for a failure message."""
    out = []
    for page in pages:
        out.append("\n".join(await page.evaluate("window.clockRoom.video.trail")))
    return "\n---\n".join(out)


async def wait_connected(*pages: Page, fresh_from: str | None = None) -> None:
    """Wait until every page's peer connection is connected (a new one if ``fresh_from`` names the old)."""
    check = "window.clockRoom.pc !== null && window.clockRoom.pc.connectionState === 'connected'"
    if fresh_from:
        check += f" && window.clockRoom.pc !== window.{fresh_from}"
    for page in pages:
        try:
            await page.wait_for_function(f"() => {check}", timeout=TIMEOUT_MS)
        except Exception as exc:
            raise AssertionError("no video connection:\n" + await trails(*pages)) from exc


@pytest.mark.parametrize("first", ["ada", "bo"])
async def test_two_parties_chat_and_connect_by_video(
    db: AsyncSession, live_server: str, browser: Browser, first: str
) -> None:
    organiser = await make_user(db, email="olga@clock.example", name="Olga Organiser")
    event = await make_event(db, organiser)
    ada_user = await make_user(db, email="ada@nanotech.example", name="Ada Rossi")
    bo_user = await make_user(db, email="bo@labx.example", name="Bo Chen")
    # Who registered first has the smaller id and is the impolite side; Ada later reloads her page.
    registered: dict[str, Participant] = {}
    for who in (first, "bo" if first == "ada" else "ada"):
        user, organisation = (ada_user, "Nanotech Srl") if who == "ada" else (bo_user, "Lab X")
        registered[who] = await make_participant(
            db, event, user=user, organisation=await make_organisation(db, name=organisation)
        )
    ada, bo = registered["ada"], registered["bo"]
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
    for page in (ada_page, bo_page):  # each also gets its own message back, with its number
        await page.locator("#chat-log li p", has_text="Loud and clear, Ada.").wait_for(timeout=TIMEOUT_MS)
        assert await page.locator("#chat-log li p").all_text_contents() == [
            "Hello Bo, can you hear me?",
            "Loud and clear, Ada.",
        ]

    # Video: both peer connections connect, and both decode the other's camera frames.
    await wait_connected(ada_page, bo_page)
    for page in (ada_page, bo_page):
        frames = await eventually(page, FRAMES_DECODED)
        assert frames > 0
    # Exactly one side was polite: the party with the larger participant id.
    polite = {who: await page.evaluate("window.clockRoom.room.polite") for who, page in pages.items()}
    assert polite == {"ada": ada.id > bo.id, "bo": bo.id > ada.id}

    # The device test: Ada's microphone moves the level meter; muting and the camera switch work.
    await ada_page.get_by_text("Test your camera and microphone").click()
    assert await eventually(ada_page, "document.getElementById('mic-level').value > 0")
    await ada_page.get_by_role("button", name="Mute microphone").click()
    await ada_page.get_by_role("button", name="Turn camera off").click()
    assert await ada_page.evaluate(
        "[window.clockRoom.video.track('audio').enabled, window.clockRoom.video.track('video').enabled]"
    ) == [False, False]
    assert (
        await ada_page.get_by_role("button", name="Unmute microphone").get_attribute("aria-pressed") == "true"
    )
    await ada_page.get_by_role("button", name="Unmute microphone").click()
    await ada_page.get_by_role("button", name="Turn camera on").click()
    assert await ada_page.evaluate(
        "[window.clockRoom.video.track('audio').enabled, window.clockRoom.video.track('video').enabled]"
    ) == [True, True]

    # Ada's connection drops: she comes back with ?after= and misses nothing said meanwhile,
    # and the video carries on (the same page keeps its peer connection).
    await ada_page.evaluate("window.clockRoom.socket.ws.close(4000, 'network hiccup')")
    await bo_page.get_by_label("Message").fill("Did you drop out?")
    await bo_page.get_by_role("button", name="Send").click()
    await ada_page.locator("#chat-log li p", has_text="Did you drop out?").wait_for(timeout=TIMEOUT_MS)
    assert "?after=" in await ada_page.evaluate("window.clockRoom.socket.ws.url")
    assert await ada_page.locator("#chat-log li p").all_text_contents() == [
        "Hello Bo, can you hear me?",
        "Loud and clear, Ada.",
        "Did you drop out?",
    ]
    for page in (ada_page, bo_page):
        assert await page.evaluate("window.clockRoom.pc.connectionState") == "connected"

    # Ada reloads the page: Bo's side drops the old peer connection and connects to her new page.
    await bo_page.evaluate("window.previousPc = window.clockRoom.pc")
    await ada_page.reload()
    await ada_page.wait_for_function(
        "() => document.getElementById('room-conn').dataset.state === 'open'", timeout=TIMEOUT_MS
    )
    await wait_connected(bo_page, fresh_from="previousPc")
    await wait_connected(ada_page)
    assert await eventually(ada_page, FRAMES_DECODED) > 0
    assert await ada_page.locator("#chat-log li p").count() == 3

    # An organiser looks in: presence and chat, no video; the parties' connection carries on.
    await bo_page.evaluate("window.beforeOrganiser = window.clockRoom.pc")
    olga_page = await (await browser.new_context()).new_page()
    olga_page.set_default_timeout(TIMEOUT_MS)
    await log_in(olga_page, live_server, "olga@clock.example")
    await olga_page.goto(room_url)
    await olga_page.wait_for_function(
        "() => document.getElementById('room-conn').dataset.state === 'open'", timeout=TIMEOUT_MS
    )
    await ada_page.locator("#room-organisers", has_text="Organisers here: Olga Organiser.").wait_for()
    assert await olga_page.locator("video").count() == 0
    await olga_page.get_by_label("Message").fill("All fine in here?")
    await olga_page.get_by_role("button", name="Send").click()
    await bo_page.locator("#chat-log li p", has_text="All fine in here?").wait_for(timeout=TIMEOUT_MS)
    assert await olga_page.evaluate("window.clockRoom.pc") is None
    assert (
        await bo_page.evaluate(
            "window.clockRoom.pc === window.beforeOrganiser && window.clockRoom.pc.connectionState"
        )
        == "connected"
    )


async def state_of(page: Page, selector: str) -> str | None:
    return await page.locator(selector).get_attribute("data-state")


async def wait_state(page: Page, selector: str, state: str) -> None:
    """Wait until the element's data-state is ``state`` (the pages keep it current)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + TIMEOUT_MS / 1000
    while (current := await state_of(page, selector)) != state:
        if loop.time() > deadline:
            raise AssertionError(f"{selector} is {current!r}, not {state!r}")
        await asyncio.sleep(0.2)


async def test_dashboard_follows_partner_and_announcements_and_monitor_follows_rooms(
    db: AsyncSession, live_server: str, browser: Browser
) -> None:
    organiser = await make_user(db, email="olga@clock.example", name="Olga Organiser")
    event = await make_event(db, organiser)
    ada_user = await make_user(db, email="ada@nanotech.example", name="Ada Rossi")
    bo_user = await make_user(db, email="bo@labx.example", name="Bo Chen")
    cy_user = await make_user(db, email="cy@stone.example", name="Cy Diaz")
    ada = await make_participant(db, event, user=ada_user)
    bo = await make_participant(db, event, user=bo_user)
    cy = await make_participant(db, event, user=cy_user)
    # A slot running now (it began a minute ago), then Ada's next meeting in the event's first slot.
    session = await db.scalar(select(EventSession).where(EventSession.event_id == event.id).limit(1))
    assert session is not None
    now = utcnow().replace(microsecond=0)
    running = Slot(
        event_id=event.id,
        session_id=session.id,
        index=999,
        starts_at=now - timedelta(minutes=1),
        ends_at=now + timedelta(minutes=19),
    )
    db.add(running)
    await db.commit()
    current = await make_meeting(db, await make_request(db, ada, bo), running, table=4)
    await make_meeting(db, await make_request(db, cy, ada), await slot_at(db, event, 0), table=2)

    async def page_of(email: str) -> Page:
        page = await (await browser.new_context()).new_page()
        page.set_default_timeout(TIMEOUT_MS)
        await log_in(page, live_server, email)
        return page

    ada_page = await page_of("ada@nanotech.example")
    await ada_page.goto(f"{live_server}/events/{event.slug}/live")
    await wait_state(ada_page, "#live-conn", "open")
    join = ada_page.locator("#live-current [data-field=join]")
    await join.wait_for()
    assert await join.get_attribute("href") == f"/meetings/{current.id}/room"
    assert await join.text_content() == "Join"
    assert await ada_page.locator("#live-current .live-with strong").text_content() == "Bo Chen"
    assert await ada_page.locator("#live-next .live-with strong").text_content() == "Cy Diaz"
    # The next meeting opens five minutes before its slot, weeks from now: no link yet.
    next_join = ada_page.locator("#live-next [data-field=join]")
    assert (await next_join.get_attribute("href"), await next_join.get_attribute("aria-disabled")) == (
        None,
        "true",
    )
    assert await state_of(ada_page, "#live-current [data-field=partner]") == "absent"

    olga_page = await page_of("olga@clock.example")
    await olga_page.goto(f"{live_server}/events/{event.slug}/live/monitor")
    await wait_state(olga_page, "#live-conn", "open")
    row = f"#monitor-rooms tr[data-meeting-id='{current.id}']"
    await wait_state(olga_page, row, "waiting_for_both")

    # Bo enters the room: Ada's dashboard and the monitor both see it.
    bo_page = await page_of("bo@labx.example")
    await bo_page.goto(f"{live_server}/meetings/{current.id}/room")
    await wait_state(bo_page, "#room-conn", "open")
    await wait_state(ada_page, "#live-current [data-field=partner]", "joined")
    assert (
        await ada_page.locator("#live-current [data-field=partner]").text_content()
    ).strip() == "Your partner is waiting in the room."
    await wait_state(olga_page, row, "one_waiting")
    assert await olga_page.locator(f"{row} td").nth(0).text_content() == "4"

    # An announcement to everyone reaches Ada's dashboard.
    await olga_page.get_by_label("Announcement").fill("Coffee is served in the lobby.")
    await olga_page.get_by_label("To").select_option(label="Everyone at the event")
    await olga_page.get_by_role("button", name="Send announcement").click()
    await olga_page.locator("#announce-result", has_text="Announcement sent.").wait_for()
    await ada_page.locator("#live-announcements li p", has_text="Coffee is served in the lobby.").wait_for()
    assert await ada_page.locator("#live-announcements li p").first.text_content() == (
        "Coffee is served in the lobby."
    )

    # Ada joins: now both are in, and the monitor says so.
    await join.click()
    await ada_page.wait_for_url(f"{live_server}/meetings/{current.id}/room")
    await wait_state(ada_page, "#room-conn", "open")
    await wait_state(olga_page, row, "in_progress")
    assert await olga_page.locator("#monitor-totals li[data-state=in_progress] .stat").text_content() == "1"


async def test_room_warns_before_the_end_and_shows_the_next_meeting(
    db: AsyncSession, live_server: str, browser: Browser
) -> None:
    organiser = await make_user(db, name="Olga Organiser")
    event = await make_event(db, organiser)
    ada_user = await make_user(db, email="ada@nanotech.example", name="Ada Rossi")
    ada = await make_participant(db, event, user=ada_user)
    bo = await make_participant(db, event)
    cy = await make_participant(db, event, user=await make_user(db, name="Cy Diaz"))
    # Ada's meeting with Bo ends in 50 seconds; the one with Cy follows at once.
    session = await db.scalar(select(EventSession).where(EventSession.event_id == event.id).limit(1))
    assert session is not None
    end = utcnow().replace(microsecond=0) + timedelta(seconds=50)
    ending = Slot(
        event_id=event.id,
        session_id=session.id,
        index=998,
        starts_at=end - timedelta(minutes=20),
        ends_at=end,
    )
    following = Slot(
        event_id=event.id,
        session_id=session.id,
        index=999,
        starts_at=end,
        ends_at=end + timedelta(minutes=20),
    )
    db.add_all([ending, following])
    await db.commit()
    now_meeting = await make_meeting(db, await make_request(db, ada, bo), ending, table=1)
    next_meeting = await make_meeting(db, await make_request(db, ada, cy), following, table=5)

    page = await (await browser.new_context()).new_page()
    page.set_default_timeout(TIMEOUT_MS)
    await log_in(page, live_server, "ada@nanotech.example")
    await page.goto(f"{live_server}/meetings/{now_meeting.id}/room")
    await page.locator("#room-warning").wait_for(state="visible")
    assert await page.locator("#room-warning").text_content() == "Two minutes left in this meeting."
    assert await page.locator("#room-timer").get_attribute("data-phase") == "ending"
    card = page.locator("#room-next")
    await card.wait_for(state="visible")
    organisation = await db.get(Organisation, cy.organisation_id)
    assert organisation is not None
    assert await card.locator("[data-field=who]").text_content() == f"With Cy Diaz ({organisation.name})"
    assert (
        await card.locator("[data-field=link]").get_attribute("href") == f"/meetings/{next_meeting.id}/room"
    )


async def test_shared_notes_reach_the_partner_and_notes_too_long_to_send_say_so(
    db: AsyncSession, live_server: str, browser: Browser
) -> None:
    event = await make_event(db, await make_user(db, name="Olga Organiser"))
    ada = await make_participant(db, event, user=await make_user(db, email="ada@nanotech.example"))
    bo = await make_participant(db, event, user=await make_user(db, email="bo@labx.example"))
    meeting = await make_meeting(db, await make_request(db, ada, bo), await slot_at(db, event, 0))
    pages = []
    for email in ("ada@nanotech.example", "bo@labx.example"):
        page = await (await browser.new_context()).new_page()
        page.set_default_timeout(TIMEOUT_MS)
        await log_in(page, live_server, email)
        await page.goto(f"{live_server}/meetings/{meeting.id}/room")
        await page.wait_for_function("() => document.getElementById('room-conn').dataset.state === 'open'")
        pages.append(page)
    ada_page, bo_page = pages
    notes = "Samples of the coating by Friday; Bo checks the test rig."
    await ada_page.get_by_role("textbox", name="Shared notes").fill(notes)
    await bo_page.wait_for_function(f"() => document.getElementById('room-notes').value === {notes!r}")
    await ada_page.locator("#notes-status", has_text="Saved at").wait_for()

    # 9,000 characters, within the notes' 10,000, but 18 KB in UTF-8: more than a message may hold.
    await ada_page.get_by_role("textbox", name="Shared notes").fill("é" * 9000)
    await ada_page.locator("#notes-status", has_text="Too long").wait_for()
    assert (
        await ada_page.locator("#notes-status").text_content()
        == "Too long to save: please shorten the notes by about 821 characters."
    )
    # 8,179 of them make a message of 16,383 bytes: it fits.
    await ada_page.get_by_role("textbox", name="Shared notes").fill("é" * 8179)
    await bo_page.wait_for_function("() => document.getElementById('room-notes').value.length === 8179")
    assert await ada_page.locator("#chat-error").text_content() == ""


async def test_a_room_turned_away_for_too_many_sockets_says_so_and_stops(
    db: AsyncSession, live_server: str, browser: Browser
) -> None:
    event = await make_event(db, await make_user(db, name="Olga Organiser"))
    ada_user = await make_user(db, email="ada@nanotech.example")
    ada = await make_participant(db, event, user=ada_user)
    meeting = await make_meeting(
        db, await make_request(db, ada, await make_participant(db, event)), await slot_at(db, event, 0)
    )
    token = await issue_token(db, ada_user, kind="api")
    await db.commit()  # the server runs in a process of its own
    ws_url = live_server.replace("http://", "ws://") + f"/ws/events/{event.slug}"
    held = [
        await websockets.connect(
            ws_url, additional_headers={"Authorization": f"Bearer {token}"}, max_queue=None
        )
        for _ in range(MAX_SOCKETS_PER_USER)
    ]
    try:
        for socket in held:  # each admitted: its snapshot arrives
            assert '"snapshot"' in str(await asyncio.wait_for(socket.recv(), TIMEOUT_MS / 1000))
        page = await (await browser.new_context()).new_page()
        page.set_default_timeout(TIMEOUT_MS)
        await log_in(page, live_server, "ada@nanotech.example")
        await page.goto(f"{live_server}/meetings/{meeting.id}/room")
        await page.wait_for_function("() => document.getElementById('room-conn').dataset.state === 'closed'")
        assert (
            await page.locator("#room-conn").text_content()
            == "Too many live connections open: close some tabs, then reload this page."
        )
    finally:
        for socket in held:
            await socket.close()
