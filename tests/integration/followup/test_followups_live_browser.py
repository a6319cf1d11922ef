"""The follow-up page follows the event channel: a task the partner adds appears without a click."""

from __future__ import annotations

import httpx
import pytest
from playwright.async_api import Browser, expect

from tests.e2e.conftest import browser, live_server  # noqa: F401
from tests.factories.accounts import PASSWORD
from tests.integration.followup.conftest import Scene

pytestmark = pytest.mark.e2e


async def test_partners_new_task_shows_up_live(live_server: str, browser: Browser, scene: Scene) -> None:  # noqa: F811
    page = await browser.new_page()
    await page.goto(live_server + "/login")
    await page.get_by_label("E-mail").fill("anna@example.org")
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Log in").click()
    await page.wait_for_url(live_server + "/**")
    async with page.expect_websocket(timeout=10_000) as opened:
        await page.goto(f"{live_server}/events/{scene.event.slug}/followups")
    socket = await opened.value
    await socket.wait_for_event("framereceived", timeout=10_000)  # the snapshot: subscribed
    assert await page.get_by_text("Send the samples").count() == 0

    async with httpx.AsyncClient(base_url=live_server, timeout=10) as api:
        created = await api.post(
            f"/api/v1/events/{scene.event.slug}/followups",
            json={"meeting_id": scene.meeting.id, "title": "Send the samples"},
            headers=scene.auth["b"],
        )
        assert created.status_code == 201, created.text

    await expect(page.get_by_text("Send the samples")).to_be_visible(timeout=15_000)
    await page.close()
