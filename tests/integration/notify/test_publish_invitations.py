"""Publishing an agenda mails iTIP invitations: REQUEST for new and moved meetings, CANCEL for removed ones.

Mails go through the outbox and the job runner to a real SMTP server (aiosmtpd); each invitation
is checked against the participant's own calendar feed: same UID, same SEQUENCE.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import icalendar
import pytest
from aiosmtpd.controller import Controller
from litestar.testing import AsyncTestClient
from sqlalchemy import event as sa_event
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from clockevents.accounts.models import User
from clockevents.agenda import ical, runs
from clockevents.agenda.models import Meeting, ScheduleRun
from clockevents.agenda.publish import publish_run
from clockevents.db import utcnow
from clockevents.errors import Conflict
from clockevents.events.models import Event, Slot
from clockevents.notify import mail, outbox
from clockevents.notify.jobs import JobRunner
from clockevents.notify.mail_models import OutboundMail
from clockevents.notify.outbox import BATCH, Draft, enqueue_many
from clockevents.notify.transport import fill_calendar
from clockevents.registration.models import Participant
from clockevents.settings import Settings
from tests.factories.accounts import make_user
from tests.factories.agenda import make_meeting, make_request, slot_at
from tests.factories.events import make_event
from tests.factories.registration import make_organisation, make_participant
from tests.helpers import api_token, bearer
from tests.integration.agenda.helpers import wait_done
from tests.integration.notify.conftest import SmtpServer, free_port

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


async def _round_robin(db: AsyncSession, people: int) -> tuple[Event, list[Meeting]]:
    """``people`` participants meeting each other pairwise, people/2 meetings per slot over four slots."""
    owner = await make_user(db)
    event = await make_event(db, owner, session_times=SESSIONS, starts_on=DAY)
    ps = [await make_participant(db, event) for _ in range(people)]
    meetings = []
    ring = list(range(1, people))
    for index in range(4):  # the circle method: every round pairs everyone, no pair twice
        order = [0, *ring]
        slot = await slot_at(db, event, index)
        for table, (i, j) in enumerate(
            zip(order[: people // 2], reversed(order[people // 2 :]), strict=True), start=1
        ):
            meetings.append(await make_meeting(db, await make_request(db, ps[i], ps[j]), slot, table=table))
        ring = ring[-1:] + ring[:-1]
    return event, meetings


class Statements:
    """Count the SQL statements a session's engine runs (a real listener, not a stand-in)."""

    def __init__(self, db: AsyncSession) -> None:
        self.engine = db.get_bind()
        self.count = 0

    def _seen(self, *_: Any) -> None:
        self.count += 1

    def __enter__(self) -> Statements:
        sa_event.listen(self.engine, "before_cursor_execute", self._seen)
        return self

    def __exit__(self, *_: Any) -> None:
        sa_event.remove(self.engine, "before_cursor_execute", self._seen)


async def test_queue_meeting_mails_query_count_does_not_grow_with_meetings(db: AsyncSession) -> None:
    event, meetings = await _round_robin(db, 8)  # 16 meetings, every participant in four
    with Statements(db) as one:
        queued_one = await mail.queue_meeting_mails(db, event, [(meetings[0], "scheduled")])
    with Statements(db) as many:
        queued_many = await mail.queue_meeting_mails(db, event, [(m, "scheduled") for m in meetings])
    await db.commit()

    assert (queued_one, queued_many, len(meetings)) == (
        2,
        30,
        16,
    )  # the first meeting's two were queued already
    assert many.count == one.count
    keys = set(await db.scalars(select(OutboundMail.dedupe_key)))
    assert keys == {
        f"meeting:{m.id}:seq:0:request:participant:{p}" for m in meetings for p in (m.a_id, m.b_id)
    }


async def test_queue_agenda_mails_query_count_does_not_grow_with_participants(db: AsyncSession) -> None:
    event, meetings = await _round_robin(db, 8)
    people = sorted({p for m in meetings for p in (m.a_id, m.b_id)})
    with Statements(db) as one:
        queued_one = await mail.queue_agenda_mails(db, event.id, people[:1])
    with Statements(db) as many:
        queued_many = await mail.queue_agenda_mails(db, event.id, people)
    await db.commit()

    assert (queued_one, queued_many) == (1, 8)
    assert many.count == one.count
    first = await db.scalar(select(OutboundMail.text).order_by(OutboundMail.id))
    starts = [
        s.starts_at
        for s in await db.scalars(select(Slot).where(Slot.event_id == event.id).order_by(Slot.index))
    ]
    lines = [line for line in (first or "").splitlines() if " — Meeting with " in line]
    assert [line.split(" — ")[0] for line in lines] == [mail.local(s, "Europe/Rome") for s in starts]


# -- settings ------------------------------------------------------------------------------------


def test_settings_mail_from_read_from_environment(tmp_path: Path) -> None:
    env = {"SECRET_KEY": "k", "CLOCKEVENTS_DATA_DIR": str(tmp_path)}

    configured = Settings.from_env({**env, "MAIL_FROM": " CLOCK <agenda@clock.example.org> "})
    unset = Settings.from_env(env)

    assert (configured.mail_from, unset.mail_from) == ("CLOCK <agenda@clock.example.org>", "")
    with pytest.raises(ValueError, match="MAIL_FROM"):
        Settings.from_env({**env, "MAIL_FROM": "not an address"})


async def test_queue_meeting_mails_calendar_equals_calendar_for(db: AsyncSession) -> None:
    event, meetings = await _round_robin(db, 4)
    await mail.queue_meeting_mails(db, event, [(m, "scheduled") for m in meetings])
    await db.commit()

    rows = list(await db.scalars(select(OutboundMail).order_by(OutboundMail.id)))
    expected = []
    for m in meetings:
        for me in (m.a_id, m.b_id):
            [view] = await ical.calendar_meetings(
                db, event, me, base_url=mail.BASE_URL_MARK, meeting_ids=[m.id]
            )
            vevent = ical.meeting_event(view, method="REQUEST")
            expected.append(ical.calendar_for([vevent], name=event.title, method="REQUEST").decode())

    def without_dtstamp(ics: str) -> list[str]:
        return [line for line in ics.split("\r\n") if not line.startswith("DTSTAMP:")]

    assert len(rows) == len(expected) == 16
    assert [without_dtstamp(r.ics) for r in rows] == [without_dtstamp(e) for e in expected]


# -- delivering a published agenda's burst of mail -----------------------------------------------


class Connections:
    """An aiosmtpd handler that notes which connection (client address) brought each message."""

    def __init__(self) -> None:
        self.peers: list[object] = []
        self.subjects: list[str] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.peers.append(session.peer)
        self.subjects.append(message_from_bytes(envelope.content, policy=policy.default)["Subject"])
        return "250 OK"


def _drafts(count: int, kind: str = "agenda") -> list[Draft]:
    return [
        Draft(
            to=f"p{n}@example.org", subject=f"{kind} {n}", text="Hello", kind=kind, dedupe_key=f"{kind}:{n}"
        )
        for n in range(count)
    ]


async def test_job_runner_delivers_burst_in_one_tick_over_one_connection(
    db: AsyncSession, settings: Settings, factory: async_sessionmaker[AsyncSession]
) -> None:
    handler = Connections()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        queued = await enqueue_many(db, _drafts(BATCH + 20))
        await db.commit()
        result = await JobRunner(
            replace(settings, smtp_url=f"smtp://127.0.0.1:{controller.port}"), factory
        ).tick()
    finally:
        controller.stop()

    statuses = list(await db.scalars(select(OutboundMail.status).execution_options(populate_existing=True)))
    assert (queued, result.sent, result.failed) == (70, 70, 0)
    assert (len(handler.subjects), len(set(handler.peers))) == (70, 1)
    assert set(statuses) == {"sent"}


async def test_claim_due_takes_reminders_before_a_backlog(db: AsyncSession) -> None:
    await enqueue_many(db, _drafts(BATCH + 10))
    await enqueue_many(db, _drafts(2, "reminders"))
    await db.commit()

    claimed = await outbox.claim_due(db, utcnow() + timedelta(seconds=1))

    assert len(claimed) == BATCH
    assert sorted(m.subject for m in claimed if m.kind == "reminders") == ["reminders 0", "reminders 1"]


async def test_unreachable_smtp_fails_the_round_fast_and_keeps_every_mail(
    db: AsyncSession, settings: Settings, factory: async_sessionmaker[AsyncSession]
) -> None:
    down = replace(settings, smtp_url=f"smtp://127.0.0.1:{free_port()}")  # nothing listens there
    await enqueue_many(db, _drafts(3))
    await db.commit()

    result = await JobRunner(down, factory).tick()

    rows = (
        await db.execute(
            select(OutboundMail.status, OutboundMail.attempts).execution_options(populate_existing=True)
        )
    ).all()
    assert (result.sent, result.failed) == (0, 3)
    assert sorted(rows) == [("queued", 1)] * 3


def test_fill_calendar_refolds_filled_lines_within_75_octets() -> None:
    cal = icalendar.Calendar()
    cal.add("method", "REQUEST")
    vevent = icalendar.Event()
    vevent.add("uid", "meeting-1@clockevents")
    vevent.add("summary", "Meeting with Zoë Ødegård (Ærø Fiskeri ApS)")
    vevent.add(
        "description", "Città di Castello; incontro, sala 3 " * 3 + f"{mail.BASE_URL_MARK}/meetings/1/room"
    )
    vevent.add("url", f"{mail.BASE_URL_MARK}/meetings/1/room")
    cal.add_component(vevent)
    base = "https://incontri.clock-toscana.example.org/an/unusually/long/path/prefix"

    filled = fill_calendar(cal.to_ical().decode(), base)

    assert max(len(line.encode()) for line in filled.split("\r\n")) <= 75
    event = icalendar.Calendar.from_ical(filled).walk("VEVENT")[0]
    assert (str(event["URL"]), str(event["SUMMARY"])) == (
        f"{base}/meetings/1/room",
        "Meeting with Zoë Ødegård (Ærø Fiskeri ApS)",
    )
    assert str(event["DESCRIPTION"]) == "Città di Castello; incontro, sala 3 " * 3 + f"{base}/meetings/1/room"
