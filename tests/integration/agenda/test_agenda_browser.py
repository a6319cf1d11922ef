"""The run page in a real browser: agenda-run.js follows the build, then the draft is published."""

from __future__ import annotations

import random

import pytest
from playwright.async_api import Browser
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from clockevents.agenda.models import Meeting
from tests.e2e.conftest import browser, live_server  # noqa: F401 - fixtures
from tests.factories.accounts import PASSWORD
from tests.factories.agenda import make_request
from tests.factories.registration import make_participant
from tests.integration.agenda.helpers import seed_pair

pytestmark = pytest.mark.e2e


async def test_run_page_follows_build_live_then_publishes(
    live_server: str,  # noqa: F811
    browser: Browser,  # noqa: F811
    db: AsyncSession,
) -> None:
    owner, event, ada, bruno = await seed_pair(db)
    # Enough accepted requests that the solver uses its whole time limit, so the page loads
    # while the build is still running and only the script can bring the result in.
    crowd = [ada, bruno] + [await make_participant(db, event) for _ in range(14)]
    rng = random.Random(7)
    for i, sender in enumerate(crowd):
        for receiver in rng.sample(crowd[i + 1 :], min(6, len(crowd) - i - 1)):
            await make_request(db, sender, receiver, priority=rng.randint(1, 3))
    page = await browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))  # script errors (a CSP block included)
    await page.goto(f"{live_server}/login?next=/events/{event.slug}/admin/agenda")
    await page.get_by_label("E-mail").fill(owner.email)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Log in").click()
    await page.wait_for_url(f"{live_server}/events/{event.slug}/admin/agenda")

    await page.get_by_label("Time limit (seconds)").fill("2")
    await page.get_by_role("button", name="Build agenda").click()
    await page.wait_for_url(f"{live_server}/events/{event.slug}/admin/agenda/runs/*")
    assert await page.locator("#run-status").get_attribute("data-active") == "yes"
    # No click: the script polls the run and reloads the page once the build is done.
    await page.get_by_role("heading", name="What publishing changes").wait_for(timeout=30_000)
    assert await page.locator('[data-field="status"]').text_content() == "done"

    await page.get_by_role("button", name="Publish").click()
    await page.locator(".alert.success").wait_for()
    assert len(list(await db.scalars(select(Meeting)))) > 0
    assert errors == []
