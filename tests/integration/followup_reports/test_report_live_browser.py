"""The report page's figures follow the event channel: a follow-up message makes it refetch."""

from __future__ import annotations

import httpx
import pytest
from playwright.async_api import Browser, expect
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from clockevents.accounts.models import User
from clockevents.followup.models import MeetingOutcome
from tests.factories.accounts import PASSWORD
from tests.integration.followup_reports.scenario import seed

pytestmark = pytest.mark.e2e

HELD = "[data-figure=meetings_held]"
NO_SHOW = "[data-figure=meetings_no_show]"


async def test_report_page_figures_update_live(live_server: str, browser: Browser, db: AsyncSession) -> None:
    s = await seed(db)
    a1_user = await db.get(User, s.people["a1"].user_id)
    assert a1_user is not None
    page = await browser.new_page()
    await page.goto(live_server + "/login")
    await page.get_by_label("E-mail").fill(s.owner.email)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Log in").click()
    await page.wait_for_url(live_server + "/**")
    async with page.expect_websocket(timeout=10_000) as opened:
        await page.goto(f"{live_server}/events/{s.event.slug}/admin/report")
    socket = await opened.value
    await socket.wait_for_event("framereceived", timeout=10_000)  # the snapshot: subscribed
    assert (await page.text_content(HELD), await page.text_content(NO_SHOW)) == ("4", "1")

    # Both parties of M3 now say it took place (held, no longer a no-show); a task created on
    # M1 through the API is what goes out on the event channel.
    await db.execute(
        update(MeetingOutcome).where(MeetingOutcome.meeting_id == s.meetings["M3"].id).values(took_place=True)
    )
    await db.commit()
    async with httpx.AsyncClient(base_url=live_server, timeout=10) as api:
        token = (
            await api.post("/api/v1/auth/token", json={"email": a1_user.email, "password": PASSWORD})
        ).json()
        created = await api.post(
            f"/api/v1/events/{s.event.slug}/followups",
            json={"meeting_id": s.meetings["M1"].id, "title": "Send the samples"},
            headers={"Authorization": f"Bearer {token['token']}"},
        )
        assert created.status_code == 201, created.text

    await expect(page.locator(HELD)).to_have_text("5", timeout=15_000)
    assert (await page.text_content(HELD), await page.text_content(NO_SHOW)) == ("5", "0")
