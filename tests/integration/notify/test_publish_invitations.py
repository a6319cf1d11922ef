"""Publishing an agenda mails iTIP invitations: REQUEST for new and moved meetings, CANCEL for removed ones.

Mails go through the outbox and the job runner to a real SMTP server (aiosmtpd); each invitation
is checked against the participant's own calendar feed: same UID, same SEQUENCE.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time
from email.message import EmailMessage

import icalendar
import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from clockevents.accounts.models import User
from clockevents.agenda import ical, runs
from clockevents.agenda.models import Meeting, ScheduleRun
from clockevents.agenda.publish import publish_run
from clockevents.errors import Conflict
from clockevents.events.models import Event
from clockevents.notify import mail
from clockevents.notify.jobs import JobRunner
from clockevents.notify.mail_models import OutboundMail
from clockevents.registration.models import Participant
from clockevents.settings import Settings
from tests.factories.accounts import make_user
from tests.factories.agenda import make_meeting, make_request, slot_at
from tests.factories.events import make_event
from tests.factories.registration import make_organisation, make_participant
from tests.helpers import api_token, bearer
from tests.integration.agenda.helpers import wait_done
from tests.integration.notify.conftest import SmtpServer

SESSIONS = ((time(9, 0), time(10, 0)), (time(14, 0), time(15, 0)))  # four 20-minute slots
DAY = date(2027, 1, 12)  # winter: Europe/Rome is CET, UTC+01:00
BASE = "http://testserver.local"

Invite = tuple[str, str, str, int, str, datetime]  # (to, METHOD, UID, SEQUENCE, STATUS, DTSTART)


# -- arranging -----------------------------------------------------------------------------------


async def _pair(db: AsyncSession) -> tuple[User, Event, Participant, Participant]:
    """Ada (Acme Srl, Rome) and Bruno (Nautica Spa, New York) with one accepted request; Ada is free in slot 2 only."""
    owner = await make_user(db)
    event = await make_event(db, owner, session_times=SESSIONS, starts_on=DAY)
    ada = await make_participant(
        db,
        event,
        user=await make_user(db, email="ada@example.org", name="Ada Rossi"),
        organisation=await make_organisation(db, name="Acme Srl"),
    )
    bruno = await make_participant(
        db,
        event,
        user=await make_user(db, email="bruno@example.org", name="Bruno Neri"),
        organisation=await make_organisation(db, name="Nautica Spa"),
    )
    ada.unavailable_slots = [0, 1, 3]
    bruno.timezone = "America/New_York"
    await db.commit()
    await make_request(db, ada, bruno, priority=2)
    return owner, event, ada, bruno


async def _build(
    factory: async_sessionmaker[AsyncSession], event: Event, owner: User, **options: object
) -> int:
    run = await runs.start_run(factory, event, owner, time_limit=2, spawn=False, **options)
    await runs.execute_run(factory, run.id)
    async with factory() as session:
        done = await session.get(ScheduleRun, run.id)
        assert done is not None
        assert done.status == "done", done.error
    return run.id


async def _publish(factory: async_sessionmaker[AsyncSession], run_id: int, actor: User) -> None:
    async with factory() as session:
        await publish_run(session, run_id, actor)
        await session.commit()


async def _set_free_slots(db: AsyncSession, participant: Participant, free: list[int]) -> None:
    participant.unavailable_slots = [i for i in range(4) if i not in free]
    await db.commit()


async def _meeting(db: AsyncSession) -> Meeting:
    meeting = await db.scalar(select(Meeting).execution_options(populate_existing=True))
    assert meeting is not None
    return meeting


# -- reading what arrived ------------------------------------------------------------------------


def _calendar_parts(msg: EmailMessage) -> list[EmailMessage]:
    return [part for part in msg.walk() if part.get_content_type() == "text/calendar"]


def _invites(messages: list[EmailMessage]) -> list[Invite]:
    """Each invitation received, from its calendar part, sorted by recipient."""
    found = []
    for msg in messages:
        parts = _calendar_parts(msg)
        if not parts:
            continue
        cal = icalendar.Calendar.from_ical(parts[0].get_content())
        [vevent] = cal.walk("VEVENT")
        found.append(
            (
                str(msg["To"]),
                str(cal["METHOD"]),
                str(vevent["UID"]),
                int(vevent["SEQUENCE"]),
                str(vevent["STATUS"]),
                vevent.decoded("DTSTART").astimezone(UTC),
            )
        )
    return sorted(found)


def _summaries(messages: list[EmailMessage]) -> list[tuple[str, str]]:
    """(to, subject) of the mails without a calendar part (the agenda summaries)."""
    return sorted((str(m["To"]), str(m["Subject"])) for m in messages if not _calendar_parts(m))


async def _feed(db: AsyncSession, event: Event, participant: Participant) -> list[tuple[str, int, str]]:
    """(UID, SEQUENCE, STATUS) of every meeting in the participant's calendar feed."""
    raw = await ical.participant_calendar(db, event, participant.id, base_url=BASE)
    return [
        (str(v["UID"]), int(v["SEQUENCE"]), str(v["STATUS"]))
        for v in icalendar.Calendar.from_ical(raw).walk("VEVENT")
    ]


async def _deliver(settings: Settings, factory: async_sessionmaker[AsyncSession]) -> tuple[int, int]:
    result = await JobRunner(settings, factory).tick()
    return result.sent, result.failed


# -- the tests -----------------------------------------------------------------------------------


async def test_publish_invitations_request_matches_feed_uid_and_sequence(
    db: AsyncSession,
    smtp: SmtpServer,
    smtp_settings: Settings,
    factory: async_sessionmaker[AsyncSession],
) -> None:
    owner, event, ada, bruno = await _pair(db)
    run_id = await _build(factory, event, owner)
    sender = replace(smtp_settings, mail_from="CLOCK Tuscany <agenda@clock.example.org>")

    await _publish(factory, run_id, owner)
    sent = await _deliver(sender, factory)

    meeting = await _meeting(db)
    slot = await slot_at(db, event, 2)
    start = slot.starts_at.astimezone(UTC)
    assert sent == (4, 0)  # per participant: the invitation and the agenda summary
    assert _invites(smtp.inbox.messages) == [
        ("ada@example.org", "REQUEST", meeting.uid, 0, "CONFIRMED", start),
        ("bruno@example.org", "REQUEST", meeting.uid, 0, "CONFIRMED", start),
    ]
    assert await _feed(db, event, ada) == [(meeting.uid, 0, "CONFIRMED")]
    assert await _feed(db, event, bruno) == [(meeting.uid, 0, "CONFIRMED")]
    assert _summaries(smtp.inbox.messages) == [
        ("ada@example.org", f"Your agenda for {event.title} has changed"),
        ("bruno@example.org", f"Your agenda for {event.title} has changed"),
    ]
    assert {str(m["From"]) for m in smtp.inbox.messages} == {"CLOCK Tuscany <agenda@clock.example.org>"}
    by_to = {str(m["To"]): m for m in smtp.inbox.messages if _calendar_parts(m)}
    assert (
        str(by_to["ada@example.org"]["Subject"])
        == "Meeting with Bruno Neri (Nautica Spa) on Tue 12 Jan 2027, 14:00 CET"
    )
    assert (
        str(by_to["bruno@example.org"]["Subject"])
        == "Meeting with Ada Rossi (Acme Srl) on Tue 12 Jan 2027, 08:00 EST"
    )
    msg = by_to["ada@example.org"]
    parts = _calendar_parts(msg)
    assert [(p.get_param("method"), p.get_filename()) for p in parts] == [
        ("REQUEST", None),
        ("REQUEST", "invite.ics"),
    ]
    agenda = f"{BASE}/events/{event.slug}/agenda"
    plain = msg.get_body(preferencelist=("plain",))
    html = msg.get_body(preferencelist=("html",))
    assert plain is not None and html is not None
    assert f"Your agenda: {agenda}" in plain.get_content()
    assert f'<a href="{agenda}">Your agenda</a>' in html.get_content()
    vevent = icalendar.Calendar.from_ical(parts[0].get_content()).walk("VEVENT")[0]
    assert (str(vevent["SUMMARY"]), str(vevent["URL"])) == (
        "Meeting with Bruno Neri (Nautica Spa)",
        f"{BASE}/meetings/{meeting.id}/room",
    )


async def test_publish_invitations_moved_meeting_gets_higher_sequence(
    db: AsyncSession,
    smtp: SmtpServer,
    smtp_settings: Settings,
    factory: async_sessionmaker[AsyncSession],
) -> None:
    owner, event, ada, bruno = await _pair(db)
    await _publish(factory, await _build(factory, event, owner), owner)
    assert await _deliver(smtp_settings, factory) == (4, 0)
    first = await _meeting(db)
    smtp.inbox.messages.clear()

    await _set_free_slots(db, ada, [3])  # Ada can now only meet in slot 3
    await _publish(factory, await _build(factory, event, owner, free=[first.id]), owner)
    sent = await _deliver(smtp_settings, factory)

    moved = await _meeting(db)
    start = (await slot_at(db, event, 3)).starts_at.astimezone(UTC)
    assert sent == (4, 0)
    assert (moved.id, moved.uid, moved.sequence) == (first.id, first.uid, 1)
    assert _invites(smtp.inbox.messages) == [
        ("ada@example.org", "REQUEST", first.uid, 1, "CONFIRMED", start),
        ("bruno@example.org", "REQUEST", first.uid, 1, "CONFIRMED", start),
    ]
    assert await _feed(db, event, bruno) == [(first.uid, 1, "CONFIRMED")]
    subjects = sorted(str(m["Subject"]) for m in smtp.inbox.messages if _calendar_parts(m))
    assert subjects == [
        "Meeting with Ada Rossi (Acme Srl) moved to Tue 12 Jan 2027, 08:25 EST",
        "Meeting with Bruno Neri (Nautica Spa) moved to Tue 12 Jan 2027, 14:25 CET",
    ]


async def test_publish_invitations_removed_meeting_gets_cancel(
    db: AsyncSession,
    smtp: SmtpServer,
    smtp_settings: Settings,
    factory: async_sessionmaker[AsyncSession],
) -> None:
    owner, event, ada, _bruno = await _pair(db)
    await _publish(factory, await _build(factory, event, owner), owner)
    assert await _deliver(smtp_settings, factory) == (4, 0)
    first = await _meeting(db)
    smtp.inbox.messages.clear()

    await _set_free_slots(db, ada, [])  # Ada cannot come any more: the rebuilt agenda drops the meeting
    await _publish(factory, await _build(factory, event, owner, free=[first.id]), owner)
    sent = await _deliver(smtp_settings, factory)

    cancelled = await _meeting(db)
    start = (await slot_at(db, event, 2)).starts_at.astimezone(UTC)
    assert sent == (4, 0)
    assert (cancelled.status, cancelled.sequence) == ("cancelled", 1)
    assert _invites(smtp.inbox.messages) == [
        ("ada@example.org", "CANCEL", first.uid, 1, "CANCELLED", start),
        ("bruno@example.org", "CANCEL", first.uid, 1, "CANCELLED", start),
    ]
    assert await _feed(db, event, ada) == [(first.uid, 1, "CANCELLED")]
    msg = next(m for m in smtp.inbox.messages if _calendar_parts(m) and m["To"] == "bruno@example.org")
    assert [p.get_param("method") for p in _calendar_parts(msg)] == ["CANCEL", "CANCEL"]
    assert str(msg["Subject"]) == "Cancelled: meeting with Ada Rossi (Acme Srl) on Tue 12 Jan 2027, 08:00 EST"
    plain = msg.get_body(preferencelist=("plain",))
    assert plain is not None
    assert "Reason: Removed from the agenda when it was rebuilt." in plain.get_content()


async def test_publish_invitations_unchanged_meeting_mails_nobody_again(
    db: AsyncSession, factory: async_sessionmaker[AsyncSession]
) -> None:
    owner, event, _ada, _bruno = await _pair(db)
    await _publish(factory, await _build(factory, event, owner), owner)

    await _publish(factory, await _build(factory, event, owner), owner)

    rows = (
        await db.execute(select(OutboundMail.to, OutboundMail.ics_method).order_by(OutboundMail.id))
    ).all()
    assert sorted(rows) == [
        ("ada@example.org", ""),
        ("ada@example.org", "REQUEST"),
        ("bruno@example.org", ""),
        ("bruno@example.org", "REQUEST"),
    ]


async def test_publish_invitations_respect_agenda_mail_preference(
    db: AsyncSession, factory: async_sessionmaker[AsyncSession]
) -> None:
    owner, event, _ada, bruno = await _pair(db)
    bruno_user = await db.get(User, bruno.user_id)
    await mail.set_preferences(db, bruno_user, {"registration": True, "requests": True, "reminders": True})
    await db.commit()

    await _publish(factory, await _build(factory, event, owner), owner)

    rows = (await db.execute(select(OutboundMail.to, OutboundMail.ics_method, OutboundMail.kind))).all()
    assert sorted(rows) == [("ada@example.org", "", "agenda"), ("ada@example.org", "REQUEST", "agenda")]


async def test_publish_conflict_queues_no_mail(
    db: AsyncSession, factory: async_sessionmaker[AsyncSession]
) -> None:
    owner, event, _ada, bruno = await _pair(db)
    run_id = await _build(factory, event, owner)
    # Bruno books Ada's only slot with someone else after the build: the publish must fail whole.
    other = await make_participant(db, event)
    await make_meeting(db, await make_request(db, bruno, other), await slot_at(db, event, 2), table=1)

    with pytest.raises(Conflict, match="taken meanwhile"):
        await _publish(factory, run_id, owner)

    assert await db.scalar(select(func.count()).select_from(OutboundMail)) == 0


async def test_publish_invitations_through_the_api_are_delivered(
    db: AsyncSession,
    smtp: SmtpServer,
    smtp_settings: Settings,
    factory: async_sessionmaker[AsyncSession],
) -> None:
    from web.app import create_app

    owner, event, _ada, _bruno = await _pair(db)
    async with AsyncTestClient(app=create_app(smtp_settings), base_url=BASE) as client:
        organiser = bearer(await api_token(client, owner.email))
        started = await client.post(
            f"/api/v1/events/{event.slug}/schedule-runs", json={"time_limit": 2}, headers=organiser
        )
        assert started.status_code == 201, started.text
        run = await wait_done(client, started.json()["id"], organiser)
        published = await client.post(f"/api/v1/schedule-runs/{run['id']}/publish", headers=organiser)
        assert published.status_code == 200, published.text
        feed = await client.get(
            f"/api/v1/events/{event.slug}/agenda.ics",
            headers=bearer(await api_token(client, "bruno@example.org")),
        )
        assert feed.status_code == 200, feed.text
    await _deliver(smtp_settings, factory)  # whatever the app's own job loop left

    [vevent] = icalendar.Calendar.from_ical(feed.content).walk("VEVENT")
    start = (await slot_at(db, event, 2)).starts_at.astimezone(UTC)
    assert len(smtp.inbox.messages) == 4
    assert _invites(smtp.inbox.messages) == [
        ("ada@example.org", "REQUEST", str(vevent["UID"]), int(vevent["SEQUENCE"]), "CONFIRMED", start),
        ("bruno@example.org", "REQUEST", str(vevent["UID"]), int(vevent["SEQUENCE"]), "CONFIRMED", start),
    ]
    assert int(vevent["SEQUENCE"]) == 0


# -- batching ------------------------------------------------------------------------------------
