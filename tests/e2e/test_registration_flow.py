"""The foundation's browser flow: sign up, register for the demo event, publish an opportunity,
get approved, and be found by another participant in the directory."""

from __future__ import annotations

import pytest
from playwright.async_api import Browser, Page

from clockevents.settings import Settings
from tests.e2e.conftest import run_cli

pytestmark = pytest.mark.e2e

DEMO_PASSWORD = "demo-password"


async def log_in(page: Page, base: str, email: str, password: str) -> None:
    await page.goto(base + "/login")
    await page.get_by_label("E-mail").fill(email)
    await page.get_by_label("Password").fill(password)
    await page.get_by_role("button", name="Log in").click()
    await page.wait_for_url(base + "/")


async def test_new_participant_is_found_in_directory_by_another(
    settings: Settings, live_server: str, browser: Browser
) -> None:
    run_cli(settings, "demo", "--participants", "6")

    # A newcomer signs up and goes through the registration wizard.
    newcomer = await (await browser.new_context()).new_page()
    await newcomer.goto(live_server + "/signup")
    await newcomer.get_by_label("Your name").fill("Marta Verdi")
    await newcomer.get_by_label("E-mail").fill("marta@grafene.example")
    await newcomer.get_by_label("Password").fill("marta-long-password")
    await newcomer.get_by_role("button", name="Sign up").click()
    await newcomer.wait_for_url(live_server + "/")
    await newcomer.goto(live_server + "/events/clock-demo")
    await newcomer.get_by_role("link", name="Register").first.click()

    await newcomer.get_by_label("A new organisation (fill in below)").check()
    await newcomer.get_by_label("Name", exact=True).fill("Grafene Verdi Srl")
    await newcomer.get_by_label("Kind").select_option("business")
    await newcomer.get_by_label("Country code").fill("IT")
    await newcomer.get_by_label("City").fill("Lucca")
    await newcomer.get_by_role("button", name="Continue").click()

    await newcomer.get_by_label("Your cluster").select_option(label="Advanced Materials")
    await newcomer.get_by_label("You take part as").select_option("business")
    await newcomer.get_by_label("Job title").fill("CTO")
    await newcomer.get_by_label("Short pitch").fill("Graphene coatings for ship hulls and train interiors.")
    await newcomer.get_by_label("Keywords").fill("graphene, antifouling")
    await newcomer.get_by_role("button", name="Continue").click()

    await newcomer.get_by_label("List me in the event's directory").check()
    await newcomer.get_by_role("button", name="Continue").click()
    await newcomer.get_by_role("button", name="Register").click()
    await newcomer.wait_for_load_state()

    # ... and publishes an opportunity on the marketplace.
    await newcomer.goto(live_server + "/events/clock-demo/opportunities")
    await newcomer.get_by_label("Kind").select_option("offer")
    await newcomer.get_by_label("Title").fill("Antifouling graphene paint for hulls")
    await newcomer.get_by_label("Keywords").fill("antifouling, nautical")
    await newcomer.get_by_role("button", name="Publish").click()
    await newcomer.wait_for_load_state()
    assert await newcomer.get_by_text("Antifouling graphene paint for hulls").count() >= 1

    # The demo event asks for approval: the organiser approves the newcomer.
    organiser = await (await browser.new_context()).new_page()
    await log_in(organiser, live_server, "organiser@clock-demo.example", DEMO_PASSWORD)
    await organiser.goto(live_server + "/events/clock-demo/admin/participants?status=pending")
    await organiser.get_by_role("button", name="Approve Marta Verdi").click()
    await organiser.wait_for_load_state()

    # Another participant finds the offer in the directory.
    other = await (await browser.new_context()).new_page()
    await log_in(other, live_server, "participant1@clock-demo.example", DEMO_PASSWORD)
    await other.goto(live_server + "/events/clock-demo/directory")
    await other.get_by_label("Search").fill("antifouling graphene")
    await other.get_by_role("button", name="Search").click()
    await other.wait_for_load_state()
    assert (await other.locator(".results-count").text_content() or "").split() == ["1", "participant"]
    assert await other.get_by_role("link", name="Grafene Verdi Srl").count() == 1
    assert await other.get_by_text("Antifouling graphene paint for hulls").count() == 1
