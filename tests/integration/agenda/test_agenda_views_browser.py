"""The participant agenda in a real browser: browser-zone times from local-time.js, print layout."""

from __future__ import annotations

import pytest
from playwright.async_api import Browser
from sqlalchemy.ext.asyncio import AsyncSession

from clockevents.accounts.models import User
from tests.e2e.conftest import browser, live_server  # noqa: F401 - fixtures
from tests.factories.accounts import PASSWORD
from tests.unit.agenda.test_changes import seed

pytestmark = pytest.mark.e2e


async def test_agenda_fills_browser_zone_and_prints_without_controls(
    live_server: str,  # noqa: F811
    browser: Browser,  # noqa: F811
    db: AsyncSession,
) -> None:
    s = await seed(db)
    carla = await db.get(User, s.carla.user_id)  # registered in the event's zone, no account zone
    assert carla is not None
    context = await browser.new_context(timezone_id="America/New_York")
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))  # a CSP block included
    await page.goto(f"{live_server}/login?next=/events/{s.event.slug}/agenda")
    await page.get_by_label("E-mail").fill(carla.email)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Log in").click()
    await page.wait_for_url(f"{live_server}/events/{s.event.slug}/agenda")

    cell = page.locator("td.browser-time time")
    await cell.first.wait_for()
    # Sunday 25 October: Rome is back on UTC+1, New York still on UTC-4.
    assert await cell.all_text_contents() == ["Sun 04:00\u201304:20"]
    assert await page.locator("th.browser-time").text_content() == "Your time (America/New_York)"
    assert await page.get_by_text("Cancel\u2026").is_visible()
    await page.emulate_media(media="print")
    assert not await page.get_by_text("Cancel\u2026").is_visible()
    assert errors == []
    await context.close()
