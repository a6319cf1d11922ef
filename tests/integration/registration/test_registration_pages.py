from __future__ import annotations

import re
from typing import Any
from zoneinfo import ZoneInfo

from litestar.testing import AsyncTestClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from clockevents.events.models import Slot
from clockevents.registration.models import Organisation, Participant
from tests.factories.accounts import make_user
from tests.factories.events import make_event
from tests.factories.registration import make_opportunity, make_organisation, make_participant
from tests.helpers import field_error, form_post, login

ORG = {
    "org_choice": "new",
    "organisation.name": "Blue Yachts",
    "organisation.kind": "business",
    "organisation.country": "IT",
    "organisation.city": "Viareggio",
    "organisation.website": "https://blue.example",
    "organisation.size": "10-49",
    "organisation.description": "",
}


def profile(cluster_id: int) -> dict[str, str]:
    return {
        "cluster_id": str(cluster_id),
        "participant_type": "business",
        "job_title": "Founder",
        "pitch": "Electric tenders.",
        "keywords": "electric, boats",
        "sectors": "nautical",
        "languages": "it, en",
        "timezone": "Europe/Rome",
    }


def hidden(html: str) -> list[tuple[str, str]]:
    """The hidden state fields a step carries forward."""
    return [
        (m.group(1), m.group(2))
        for m in re.finditer(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', html)
        if m.group(1) != "_csrf_token"
    ]


async def setup(db: AsyncSession, client: AsyncTestClient[Any], **kw: Any) -> tuple[Any, Any]:
    owner = await make_user(db)
    event = await make_event(db, owner, **kw)
    user = await make_user(db, name="Gianni Verdi")
    await login(client, user.email)
    return event, user


async def test_wizard_walks_all_steps_and_registers(db: AsyncSession, client: AsyncTestClient[Any]) -> None:
    event, user = await setup(db, client)
    url = f"/events/{event.slug}/register"
    first = await client.get(url)
    assert first.status_code == 200
    assert 'aria-current="step">1. Organisation' in first.text
    step2 = await form_post(client, url, {"step": "1", "action": "next", **ORG})
    assert step2.status_code == 200, step2.text
    assert "Step 2 of 4: Profile" in step2.text
    step3 = await form_post(
        client,
        url,
        [("step", "2"), ("action", "next"), *hidden(step2.text), *profile(event.clusters[1].id).items()],
    )
    assert "Step 3 of 4: Availability" in step3.text
    assert 'id="slot-0"' in step3.text
    step4 = await form_post(
        client,
        url,
        [("step", "3"), ("action", "next"), *hidden(step3.text), ("unavailable_slots", "1"), ("listed", "1")],
    )
    assert "Step 4 of 4: Confirm" in step4.text
    assert "Blue Yachts (new)" in step4.text
    done = await form_post(client, url, [("step", "4"), ("action", "confirm"), *hidden(step4.text)])
    assert done.status_code in (302, 303), done.text
    assert done.headers["location"] == f"/events/{event.slug}/profile?welcome=1"
    participant = await db.scalar(select(Participant).where(Participant.user_id == user.id))
    assert participant is not None
    assert (
        participant.cluster_id,
        participant.unavailable_slots,
        participant.listed,
        participant.status,
    ) == (
        event.clusters[1].id,
        [1],
        True,
        "approved",
    )
    assert participant.keywords == ["electric", "boats"]
    page = await client.get(done.headers["location"])
    assert "You are registered." in page.text


async def test_wizard_step_errors_reshown_per_field(db: AsyncSession, client: AsyncTestClient[Any]) -> None:
    event, _ = await setup(db, client)
    url = f"/events/{event.slug}/register"
    bad = {
        **ORG,
        "organisation.name": "",
        "organisation.country": "Italy",
        "organisation.website": "blue.example",
    }
    response = await form_post(client, url, {"step": "1", "action": "next", **bad})
    assert response.status_code == 400
    assert field_error(response.text, "organisation.name") == "Enter the organisation&#39;s name."
    assert (
        field_error(response.text, "organisation.country")
        == "Enter a two-letter country code such as IT or FR."
    )
    assert field_error(response.text, "organisation.website") == (
        "Enter a web address starting with http:// or https://."
    )
    assert 'value="Viareggio"' in response.text
    missing = await form_post(client, url, {"step": "1", "action": "next"})
    assert field_error(missing.text, "organisation_id") == "Choose your organisation or create a new one."
    step2 = await form_post(
        client,
        url,
        {
            "step": "2",
            "action": "next",
            **ORG,
            **profile(event.clusters[0].id),
            "job_title": "",
            "timezone": "Mars",
        },
    )
    assert step2.status_code == 400
    assert field_error(step2.text, "job_title") == "Enter your job title."
    assert field_error(step2.text, "timezone") == "Choose a time zone such as Europe/Rome."


async def test_wizard_confirm_with_bad_slot_goes_back_to_its_step(
    db: AsyncSession, client: AsyncTestClient[Any]
) -> None:
    event, _ = await setup(db, client)
    data = [("step", "4"), ("action", "confirm"), *ORG.items(), *profile(event.clusters[0].id).items()]
    response = await form_post(
        client, f"/events/{event.slug}/register", [*data, ("unavailable_slots", "999")]
    )
    assert response.status_code == 400
    assert "Step 3 of 4" in response.text
    assert field_error(response.text, "unavailable_slots") == "Choose slots of this event."
    assert await db.scalar(select(func.count()).select_from(Organisation)) == 0


async def test_wizard_join_existing_organisation(db: AsyncSession, client: AsyncTestClient[Any]) -> None:
    event, user = await setup(db, client)
    org = await make_organisation(db, name="Stone Guild")
    await db.commit()
    found = await client.get(f"/events/{event.slug}/register", params={"q": "guild"})
    assert f'value="{org.id}"' in found.text
    data = [
        ("step", "4"),
        ("action", "confirm"),
        ("org_choice", str(org.id)),
        *profile(event.clusters[0].id).items(),
    ]
    response = await form_post(client, f"/events/{event.slug}/register", data)
    assert response.status_code in (302, 303), response.text
    participant = await db.scalar(select(Participant).where(Participant.user_id == user.id))
    assert participant is not None and participant.organisation_id == org.id
    assert await db.scalar(select(func.count()).select_from(Organisation)) == 1


async def test_wizard_back_keeps_values(db: AsyncSession, client: AsyncTestClient[Any]) -> None:
    event, _ = await setup(db, client)
    data = {"step": "2", "action": "back", **ORG, **profile(event.clusters[0].id)}
    response = await form_post(client, f"/events/{event.slug}/register", data)
    assert "Step 1 of 4" in response.text
    assert 'value="Blue Yachts"' in response.text
    assert '<input type="hidden" name="job_title" value="Founder">' in response.text


async def test_wizard_anonymous_goes_to_signup(db: AsyncSession, client: AsyncTestClient[Any]) -> None:
    owner = await make_user(db)
    event = await make_event(db, owner)
    response = await client.get(f"/events/{event.slug}/register", follow_redirects=False)
    assert response.status_code in (302, 303)
    assert response.headers["location"] == f"/signup?next=/events/{event.slug}/register"


async def test_wizard_unknown_event_is_404(db: AsyncSession, client: AsyncTestClient[Any]) -> None:
    await setup(db, client)
    assert (await client.get("/events/nope/register")).status_code == 404


async def test_wizard_closed_event_is_409(db: AsyncSession, client: AsyncTestClient[Any]) -> None:
    event, _ = await setup(db, client, status="closed")
    response = await client.get(f"/events/{event.slug}/register")
    assert response.status_code == 409
    assert "Registration is not open for this event." in response.text


async def test_wizard_when_registered_goes_to_profile(db: AsyncSession, client: AsyncTestClient[Any]) -> None:
    event, user = await setup(db, client)
    await make_participant(db, event, user=user)
    response = await client.get(f"/events/{event.slug}/register", follow_redirects=False)
    assert response.headers["location"] == f"/events/{event.slug}/profile"


async def test_profile_edit_saves_and_reshows_errors(db: AsyncSession, client: AsyncTestClient[Any]) -> None:
    event, user = await setup(db, client)
    mine = await make_participant(db, event, user=user, cluster=event.clusters[0])
    url = f"/events/{event.slug}/profile"
    page = await client.get(url)
    assert page.status_code == 200
    assert 'for="f-job_title"' in page.text
    data = {**profile(event.clusters[0].id), "pitch": "Updated pitch", "listed": "1"}
    saved = await form_post(client, url, data)
    assert saved.status_code in (302, 303)
    await db.refresh(mine)
    assert mine.pitch == "Updated pitch"
    bad = await form_post(client, url, {**data, "pitch": "x" * 601, "languages": "Italian"})
    assert bad.status_code == 400
    assert field_error(bad.text, "pitch") == "Use at most 600 characters."
    assert field_error(bad.text, "languages") == "Use ISO 639 language codes such as en, it, fr."
    await db.refresh(mine)
    assert mine.pitch == "Updated pitch"


async def test_profile_anonymous_redirects_to_login(db: AsyncSession, client: AsyncTestClient[Any]) -> None:
    owner = await make_user(db)
    event = await make_event(db, owner)
    response = await client.get(f"/events/{event.slug}/profile", follow_redirects=False)
    assert response.headers["location"] == f"/login?next=/events/{event.slug}/profile"


async def test_opportunity_pages(db: AsyncSession, client: AsyncTestClient[Any]) -> None:
    event, user = await setup(db, client)
    await make_participant(db, event, user=user)
    url = f"/events/{event.slug}/opportunities"
    assert (await client.get(url)).status_code == 200
    bad = await form_post(client, url, {"kind": "gift", "title": "", "description": "d"})
    assert bad.status_code == 400
    assert field_error(bad.text, "title") == "Give the opportunity a title."
    assert field_error(bad.text, "kind") is not None
    ok = await form_post(client, url, {"kind": "request", "title": "Need sensors", "keywords": "iot"})
    assert ok.status_code in (302, 303)
    listing = await client.get(url)
    assert "Need sensors" in listing.text
    item_id = re.search(r"/opportunities/(\d+)/edit", listing.text).group(1)  # type: ignore[union-attr]
    edit = await client.get(f"{url}/{item_id}/edit")
    assert 'value="Need sensors"' in edit.text
    changed = await form_post(client, f"{url}/{item_id}", {"kind": "request", "title": "Need lidar"})
    assert changed.status_code in (302, 303)
    assert "Need lidar" in (await client.get(url)).text
    removed = await form_post(client, f"{url}/{item_id}/delete", {})
    assert removed.status_code in (302, 303)
    assert "Need lidar" not in (await client.get(url)).text


async def test_opportunity_pages_of_another_are_403(db: AsyncSession, client: AsyncTestClient[Any]) -> None:
    event, user = await setup(db, client)
    await make_participant(db, event, user=user)
    other = await make_opportunity(db, await make_participant(db, event))
    url = f"/events/{event.slug}/opportunities/{other.id}"
    assert (await client.get(f"{url}/edit")).status_code == 403
    assert (await form_post(client, url, {"kind": "offer", "title": "Mine"})).status_code == 403
    assert (await form_post(client, f"{url}/delete", {})).status_code == 403
    assert (await client.get(f"/events/{event.slug}/opportunities/9999/edit")).status_code == 404


async def test_organisation_page_and_edit(db: AsyncSession, client: AsyncTestClient[Any]) -> None:
    event, user = await setup(db, client)
    mine = await make_participant(db, event, user=user)
    await make_participant(db, event, organisation=mine.organisation, status="pending")
    url = f"/organisations/{mine.organisation_id}"
    page = await client.get(url)
    assert page.status_code == 200
    assert page.text.count("<tr>") == 2  # header + the viewer; the pending colleague stays hidden
    bad = await form_post(client, url, {"name": "", "kind": "business", "country": "IT"})
    assert bad.status_code == 400
    assert field_error(bad.text, "name") == "Enter the organisation&#39;s name."
    ok = await form_post(
        client, url, {"name": "Renamed", "kind": "research", "country": "FR", "size": "250+"}
    )
    assert ok.status_code in (302, 303)
    assert "Renamed" in (await client.get(url)).text


async def test_organisation_page_outsider_cannot_edit(db: AsyncSession, client: AsyncTestClient[Any]) -> None:
    event, _ = await setup(db, client)
    other = await make_participant(db, event)
    url = f"/organisations/{other.organisation_id}"
    page = await client.get(url)
    assert "Edit the organisation" not in page.text
    response = await form_post(client, url, {"name": "Taken", "kind": "business", "country": "IT"})
    assert response.status_code == 403
    assert (await client.get("/organisations/99999")).status_code == 404


async def test_my_events_lists_registrations_and_organising(
    db: AsyncSession, client: AsyncTestClient[Any]
) -> None:
    event, user = await setup(db, client, requires_approval=True)
    await make_participant(db, event, user=user, status="pending")
    own = await make_event(db, user, slug="my-own-day")
    page = await client.get("/my/events")
    assert page.status_code == 200
    assert event.title in page.text
    assert 'status-pending">pending' in page.text
    assert f'href="/events/{own.slug}/admin"' in page.text


async def test_wizard_typed_name_means_new_organisation(
    db: AsyncSession, client: AsyncTestClient[Any]
) -> None:
    event, _ = await setup(db, client)
    data = [
        ("step", "4"),
        ("action", "confirm"),
        *{**ORG, "org_choice": ""}.items(),
        *profile(event.clusters[0].id).items(),
    ]
    response = await form_post(client, f"/events/{event.slug}/register", data)
    assert response.status_code in (302, 303), response.text
    names = list(await db.scalars(select(Organisation.name)))
    assert names == ["Blue Yachts"]


async def test_wizard_slots_show_local_and_event_time(db: AsyncSession, client: AsyncTestClient[Any]) -> None:
    event, _ = await setup(db, client)
    first = await db.scalar(select(Slot).where(Slot.event_id == event.id, Slot.index == 0))
    assert first is not None
    ny, rome = ZoneInfo("America/New_York"), ZoneInfo("Europe/Rome")
    expected = (
        f"{first.starts_at.astimezone(ny):%H:%M}\u2013{first.ends_at.astimezone(ny):%H:%M}"
        f" ({first.starts_at.astimezone(rome):%H:%M} event time)"
    )
    data = {
        "step": "2",
        "action": "next",
        **ORG,
        **profile(event.clusters[0].id),
        "timezone": "America/New_York",
    }
    response = await form_post(client, f"/events/{event.slug}/register", data)
    assert "Times in America/New_York." in response.text
    assert f'value="0"> {expected}</label>' in response.text


async def test_pages_need_login(db: AsyncSession, client: AsyncTestClient[Any]) -> None:
    owner = await make_user(db)
    event = await make_event(db, owner)
    participant = await make_participant(db, event)
    paths = [
        f"/events/{event.slug}/opportunities",
        f"/organisations/{participant.organisation_id}",
        "/my/events",
    ]
    for path in paths:
        response = await client.get(path, follow_redirects=False)
        assert (response.status_code, response.headers["location"]) == (302, f"/login?next={path}"), path


async def test_profile_and_opportunities_without_registration_go_to_wizard(
    db: AsyncSession, client: AsyncTestClient[Any]
) -> None:
    event, _ = await setup(db, client)
    for path in ("profile", "opportunities"):
        response = await client.get(f"/events/{event.slug}/{path}", follow_redirects=False)
        assert response.headers["location"] == f"/events/{event.slug}/register"
    response = await form_post(client, f"/events/{event.slug}/opportunities", {"kind": "offer", "title": "X"})
    assert response.status_code == 403


async def test_profile_unknown_event_is_404(db: AsyncSession, client: AsyncTestClient[Any]) -> None:
    await setup(db, client)
    assert (await client.get("/events/nope/profile")).status_code == 404
    assert (await client.get("/events/nope/opportunities")).status_code == 404
