"""Meeting and agenda mails at scale: queries that do not grow with the event, one calendar
builder equal to the feed's, and delivery that drains a burst over one SMTP connection."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, time, timedelta
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

import icalendar
import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import event as sa_event
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from clockevents.agenda import ical
from clockevents.agenda.models import Meeting
from clockevents.db import utcnow
from clockevents.events.models import Event, Slot
from clockevents.notify import mail, outbox
from clockevents.notify.jobs import JobRunner
from clockevents.notify.mail_models import OutboundMail
from clockevents.notify.outbox import BATCH, Draft, enqueue_many
from clockevents.notify.transport import fill_calendar
from clockevents.settings import Settings
from tests.factories.accounts import make_user
from tests.factories.agenda import make_meeting, make_request, slot_at
from tests.factories.events import make_event
from tests.factories.registration import make_participant
from tests.integration.notify.conftest import free_port

SESSIONS = ((time(9, 0), time(10, 0)), (time(14, 0), time(15, 0)))  # four 20-minute slots
DAY = date(2027, 1, 12)  # winter: Europe/Rome is CET, UTC+01:00
BASE = "http://testserver.local"

Invite = tuple[str, str, str, int, str, datetime]  # (to, METHOD, UID, SEQUENCE, STATUS, DTSTART)


# -- arranging -----------------------------------------------------------------------------------


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
