from __future__ import annotations

import pytest
from playwright.async_api import Browser

pytestmark = pytest.mark.e2e


async def test_signup_in_browser_shows_logged_in_name(live_server: str, browser: Browser) -> None:
    page = await browser.new_page()
    await page.goto(live_server + "/signup")
    await page.get_by_label("Your name").fill("Giulia Bianchi")
    await page.get_by_label("E-mail").fill("giulia@example.org")
    await page.get_by_label("Password").fill("short")
    await page.get_by_role("button", name="Sign up").click()
    assert await page.locator("#e-password").text_content() == "Use at least 10 characters."
    assert await page.get_by_label("E-mail").input_value() == "giulia@example.org"
    await page.get_by_label("Password").fill("a-long-enough-password")
    await page.get_by_role("button", name="Sign up").click()
    await page.wait_for_url(live_server + "/")
    assert await page.get_by_role("link", name="Giulia Bianchi").count() == 1
