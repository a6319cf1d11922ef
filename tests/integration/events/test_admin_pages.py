from __future__ import annotations

from datetime import date
from typing import Any

from litestar.testing import AsyncTestClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from clockevents.events.models import Cluster, Event, EventRole, Slot
from tests.factories.accounts import make_user
from tests.factories.events import add_role, make_event
from tests.factories.registration import make_participant
from tests.helpers import field_error, form_post, login

NEW_EVENT_FORM = {
    "title": "Blue economy day",
    "slug": "blue-economy",
    "description": "Ports, boats and sensors.",
    "timezone": "Europe/Rome",
    "starts_on": "2027-06-01",
    "ends_on": "2027-06-02",
    "registration_opens_at": "2027-05-01T09:00",
    "registration_closes_at": "2027-05-25T18:00",
    "meeting_minutes": "25",
    "gap_minutes": "5",
    "tables": "30",
    "format": "hybrid",
    "requires_approval": "on",
    "participant_types": ["business", "research"],
    "opportunity_kinds": "offer, request, licence",
}


async def test_new_event_page_creates_and_redirects(db: AsyncSession, client: AsyncTestClient[Any]) -> None:
    admin = await make_user(db, is_admin=True)
    await login(client, admin.email)
    assert (await client.get("/admin/events/new")).status_code == 200
    response = await form_post(client, "/admin/events/new", NEW_EVENT_FORM)
    assert response.status_code in (302, 303), response.text
    assert response.headers["location"] == "/events/blue-economy/admin"
    event = await db.scalar(select(Event).where(Event.slug == "blue-economy"))
    assert event is not None
    assert (event.format, event.requires_approval, event.participant_types, event.opportunity_kinds) == (
        "hybrid",
        True,
        ["business", "research"],
        ["offer", "request", "licence"],
    )
    # 09:00 in Rome in May is 07:00 UTC.
    assert event.registration_opens_at is not None
    assert event.registration_opens_at.hour == 7


async def test_new_event_page_reshows_errors_per_field(
    db: AsyncSession, client: AsyncTestClient[Any]
) -> None:
    admin = await make_user(db, is_admin=True)
    await login(client, admin.email)
    bad = {**NEW_EVENT_FORM, "slug": "Blue Economy", "timezone": "Atlantis/Deep", "ends_on": "2027-05-01"}
    bad["participant_types"] = []
    response = await form_post(client, "/admin/events/new", bad)
    assert response.status_code == 400
    assert field_error(response.text, "slug") == (
        "Use lowercase letters, digits and hyphens (at most 64), e.g. clock-2026."
    )
    assert (
        field_error(response.text, "timezone") == "Unknown time zone; use an IANA name such as Europe/Rome."
    )
    assert field_error(response.text, "ends_on") == "The last day cannot come before the first."
    assert field_error(response.text, "participant_types") == "Choose at least one participant type."
    assert 'value="Blue economy day"' in response.text
    assert await db.scalar(select(func.count()).select_from(Event)) == 0


async def test_new_event_page_duplicate_slug_is_409(db: AsyncSession, client: AsyncTestClient[Any]) -> None:
    admin = await make_user(db, is_admin=True)
    await make_event(db, admin, slug="blue-economy")
    await login(client, admin.email)
    response = await form_post(client, "/admin/events/new", NEW_EVENT_FORM)
    assert response.status_code == 409
    assert field_error(response.text, "slug") == "Another event already uses this address."


async def test_new_event_page_guards(db: AsyncSession, client: AsyncTestClient[Any]) -> None:
    response = await client.get("/admin/events/new", follow_redirects=False)
    assert (response.status_code, response.headers["location"]) == (302, "/login?next=/admin/events/new")
    member = await make_user(db)
    await login(client, member.email)
    assert (await client.get("/admin/events/new")).status_code == 403
    assert (await form_post(client, "/admin/events/new", NEW_EVENT_FORM)).status_code == 403


async def test_admin_overview_for_staff_only(db: AsyncSession, client: AsyncTestClient[Any]) -> None:
    owner = await make_user(db)
    event = await make_event(db, owner, slug="ovr")
    await make_participant(db, event, cluster=event.clusters[0])
    partner = await make_user(db)
    await add_role(db, event, partner, "cluster_partner", event.clusters[0])
    await login(client, partner.email)
    html = (await client.get("/events/ovr/admin")).text
    assert 'href="/events/ovr/admin/participants"' in html
    assert 'href="/events/ovr/admin/settings"' not in html
    assert "12</span> meeting slots" in html
    outsider = await make_user(db)
    await login(client, outsider.email)
    assert (await client.get("/events/ovr/admin")).status_code == 403
    assert (await client.get("/events/nope/admin")).status_code == 404


async def test_settings_page_saves_and_reshows(db: AsyncSession, client: AsyncTestClient[Any]) -> None:
    owner = await make_user(db)
    event = await make_event(db, owner, slug="settle", status="draft", starts_on=date(2027, 3, 1))
    await login(client, owner.email)
    page = await client.get("/events/settle/admin/settings")
    assert 'value="settle"' in page.text
    form = {
        **NEW_EVENT_FORM,
        "slug": "settle",
        "status": "open",
        "starts_on": "2027-03-01",
        "ends_on": "2027-03-01",
        "registration_opens_at": "",
        "registration_closes_at": "",
        "meeting_minutes": "20",
    }
    response = await form_post(client, "/events/settle/admin/settings", form)
    assert response.status_code in (302, 303), response.text
    await db.refresh(event)
    assert (event.title, event.status, event.tables) == ("Blue economy day", "open", 30)
    backwards = await form_post(client, "/events/settle/admin/settings", {**form, "status": "draft"})
    assert backwards.status_code == 400
    assert (
        field_error(backwards.text, "status")
        == "An event that is open cannot become draft: it can only move on to live."
    )


async def test_settings_page_forbidden_for_partner(db: AsyncSession, client: AsyncTestClient[Any]) -> None:
    owner = await make_user(db)
    event = await make_event(db, owner, slug="nopartner")
    partner = await make_user(db)
    await add_role(db, event, partner, "cluster_partner", event.clusters[0])
    await login(client, partner.email)
    assert (await client.get("/events/nopartner/admin/settings")).status_code == 403
    response = await form_post(client, "/events/nopartner/admin/settings", {"title": "Hijacked"})
    assert response.status_code == 403
    await db.refresh(event)
    assert event.title != "Hijacked"


async def test_grid_page_saves_rows_and_skips_blank(db: AsyncSession, client: AsyncTestClient[Any]) -> None:
    owner = await make_user(db)
    event = await make_event(db, owner, slug="gridpage", starts_on=date(2027, 4, 12), days=2)
    await login(client, owner.email)
    page = await client.get("/events/gridpage/admin/grid")
    assert page.text.count('name="starts_at"') == 4 + 4  # two sessions a day for two days, plus blanks
    rows = [
        ("day", "2027-04-12"), ("name", "Morning"), ("starts_at", "09:00"), ("ends_at", "12:30"),
        ("day", "2027-04-13"), ("name", ""), ("starts_at", "14:00"), ("ends_at", "17:00"),
        ("day", ""), ("name", ""), ("starts_at", ""), ("ends_at", ""),
    ]  # fmt: skip
    response = await form_post(client, "/events/gridpage/admin/grid", rows)
    assert response.status_code in (302, 303), response.text
    # 09:00-12:30 holds 8 slots of 20+5 minutes, 14:00-17:00 holds 7.
    assert await db.scalar(select(func.count()).select_from(Slot).where(Slot.event_id == event.id)) == 15
    saved = await client.get(response.headers["location"])
    assert "Slot grid saved: 15 slots." in saved.text


async def test_grid_page_row_errors_reshown(db: AsyncSession, client: AsyncTestClient[Any]) -> None:
    owner = await make_user(db)
    await make_event(db, owner, slug="gridbad", starts_on=date(2027, 4, 12))
    await login(client, owner.email)
    rows = [
        ("day", "2027-04-12"), ("name", ""), ("starts_at", "09:00"), ("ends_at", "11:00"),
        ("day", "2027-04-12"), ("name", ""), ("starts_at", "10:30"), ("ends_at", "10:00"),
        ("day", "2027-04-12"), ("name", ""), ("starts_at", "10:00"), ("ends_at", "12:00"),
    ]  # fmt: skip
    response = await form_post(client, "/events/gridbad/admin/grid", rows)
    assert response.status_code == 400
    assert field_error(response.text, "g-1-ends_at") == "End after the start."
    assert field_error(response.text, "g-2-starts_at") == "Overlaps the session 09:00-11:00 on 2027-04-12."
    assert 'value="10:30"' in response.text


async def test_clusters_page_add_rename_and_refuse_removal(
    db: AsyncSession, client: AsyncTestClient[Any]
) -> None:
    owner = await make_user(db)
    event = await make_event(db, owner, slug="clus", clusters=("Stone",))
    await make_participant(db, event, cluster=event.clusters[0])
    await login(client, owner.email)
    added = await form_post(client, "/events/clus/admin/clusters", {"name": "Smart City"})
    assert added.status_code in (302, 303)
    empty = await form_post(client, "/events/clus/admin/clusters", {"name": ""})
    assert (empty.status_code, field_error(empty.text, "name")) == (400, "Enter the cluster&#39;s name.")
    stone = event.clusters[0]
    renamed = await form_post(client, f"/events/clus/admin/clusters/{stone.id}", {"name": "Stone & Marble"})
    assert renamed.status_code in (302, 303)
    refused = await form_post(client, f"/events/clus/admin/clusters/{stone.id}/delete", {})
    assert refused.status_code == 409
    assert "Stone &amp; Marble still has 1 participant" in refused.text
    names = (
        await db.scalars(select(Cluster.name).where(Cluster.event_id == event.id).order_by(Cluster.position))
    ).all()
    assert list(names) == ["Stone & Marble", "Smart City"]


async def test_roles_page_add_and_remove(db: AsyncSession, client: AsyncTestClient[Any]) -> None:
    owner = await make_user(db)
    event = await make_event(db, owner, slug="crew")
    helper = await make_user(db, email="helper@example.org", name="Helga Helper")
    await login(client, owner.email)
    missing = await form_post(
        client, "/events/crew/admin/roles", {"email": "nobody@example.org", "role": "organiser"}
    )
    assert missing.status_code == 400
    assert field_error(missing.text, "email") == "No account uses this e-mail; ask them to sign up first."
    added = await form_post(
        client, "/events/crew/admin/roles", {"email": "helper@example.org", "role": "organiser"}
    )
    assert added.status_code in (302, 303)
    page = await client.get("/events/crew/admin/roles")
    assert "Helga Helper" in page.text
    role = await db.scalar(
        select(EventRole).where(EventRole.user_id == helper.id, EventRole.event_id == event.id)
    )
    assert role is not None and role.role == "organiser"
    removed = await form_post(client, f"/events/crew/admin/roles/{role.id}/delete", {})
    assert removed.status_code in (302, 303)
    assert (
        await db.scalar(select(func.count()).select_from(EventRole).where(EventRole.event_id == event.id))
        == 1
    )
