"""Mails through a real SMTP server: iTIP parts, the outbox folder fallback, and SMTP outages."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from zoneinfo import ZoneInfo

import icalendar
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from clockevents.accounts.models import User
from clockevents.db import utcnow
from clockevents.notify.jobs import JobRunner
from clockevents.notify.mail import queue_agenda_mails, send_meeting_mail
from clockevents.notify.mail_models import OutboundMail
from clockevents.settings import Settings
from tests.integration.notify.conftest import Scene, SmtpServer, free_port


def calendar_parts(msg: EmailMessage) -> list[EmailMessage]:
    return [part for part in msg.walk() if part.get_content_type() == "text/calendar"]


def parse_ics(part: EmailMessage) -> icalendar.Calendar:
    return icalendar.Calendar.from_ical(part.get_content())


async def test_meeting_mail_request_carries_itip_invitation(
    db: AsyncSession,
    scene: Scene,
    smtp: SmtpServer,
    smtp_settings: Settings,
    factory: async_sessionmaker[AsyncSession],
) -> None:
    queued = await send_meeting_mail(db, scene.meeting, "scheduled", [scene.a.id, scene.b.id])
    await db.commit()

    result = await JobRunner(smtp_settings, factory).tick()

    assert (queued, result.sent, result.failed) == (2, 2, 0)
    assert sorted(smtp.inbox.recipients) == sorted([m.to for m in await db.scalars(select(OutboundMail))])
    msg = smtp.inbox.messages[0]
    parts = calendar_parts(msg)
    assert [p.get_param("method") for p in parts] == ["REQUEST", "REQUEST"]
    assert [p.get_content_charset() for p in parts] == ["utf-8", "utf-8"]
    assert [p.get_filename() for p in parts] == [None, "invite.ics"]
    assert msg.get_body(preferencelist=("plain",)) is not None
    assert msg.get_body(preferencelist=("html",)) is not None
    cal = parse_ics(parts[0])
    vevent = cal.walk("VEVENT")[0]
    assert (str(cal["METHOD"]), str(vevent["UID"]), int(vevent["SEQUENCE"]), str(vevent["STATUS"])) == (
        "REQUEST",
        scene.meeting.uid,
        scene.meeting.sequence,
        "CONFIRMED",
    )
    assert vevent.decoded("DTSTART") == scene.slot.starts_at
    agenda = f"http://testserver.local/events/{scene.event.slug}/agenda"
    assert agenda in msg.get_body(preferencelist=("plain",)).get_content()
    assert f'href="{agenda}"' in msg.get_body(preferencelist=("html",)).get_content()
    assert str(vevent["URL"]) == f"http://testserver.local/meetings/{scene.meeting.id}/room"


async def test_meeting_mail_cancel_carries_itip_cancel(
    db: AsyncSession,
    scene: Scene,
    smtp: SmtpServer,
    smtp_settings: Settings,
    factory: async_sessionmaker[AsyncSession],
) -> None:
    scene.meeting.status = "cancelled"
    scene.meeting.sequence += 1
    scene.meeting.cancel_reason = "Bruno is ill."
    await db.flush()
    await send_meeting_mail(db, scene.meeting, "cancelled", [scene.b.id])
    await db.commit()

    await JobRunner(smtp_settings, factory).tick()

    assert len(smtp.inbox.messages) == 1
    msg = smtp.inbox.messages[0]
    parts = calendar_parts(msg)
    assert [p.get_param("method") for p in parts] == ["CANCEL", "CANCEL"]
    cal = parse_ics(parts[1])
    vevent = cal.walk("VEVENT")[0]
    assert (str(cal["METHOD"]), str(vevent["UID"]), int(vevent["SEQUENCE"]), str(vevent["STATUS"])) == (
        "CANCEL",
        scene.meeting.uid,
        1,
        "CANCELLED",
    )
    assert msg["Subject"].startswith("Cancelled: meeting with Anna Rossi")
    assert "Reason: Bruno is ill." in msg.get_body(preferencelist=("plain",)).get_content()


async def test_meeting_mail_same_change_twice_queues_once(db: AsyncSession, scene: Scene) -> None:
    first = await send_meeting_mail(db, scene.meeting, "scheduled", [scene.a.id])
    second = await send_meeting_mail(db, scene.meeting, "scheduled", [scene.a.id])
    await db.commit()

    assert (first, second, await db.scalar(select(func.count()).select_from(OutboundMail))) == (1, 0, 1)


async def test_mail_without_smtp_url_goes_to_outbox_folder(
    db: AsyncSession, scene: Scene, settings: Settings, factory: async_sessionmaker[AsyncSession]
) -> None:
    await send_meeting_mail(db, scene.meeting, "scheduled", [scene.a.id])
    await db.commit()

    result = await JobRunner(settings, factory).tick()

    files = sorted((settings.data_dir / "outbox").glob("*.eml"))
    assert (result.sent, len(files)) == (1, 1)
    msg = message_from_bytes(files[0].read_bytes(), policy=policy.default)
    assert msg["Subject"] == (await db.scalar(select(OutboundMail.subject)))
    assert [p.get_param("method") for p in calendar_parts(msg)] == ["REQUEST", "REQUEST"]  # type: ignore[arg-type]
    row = await db.scalar(select(OutboundMail))
    await db.refresh(row)
    assert (row.status, row.attempts) == ("sent", 1)


async def test_smtp_down_keeps_mail_queued_then_delivers(
    db: AsyncSession, scene: Scene, settings: Settings, factory: async_sessionmaker[AsyncSession]
) -> None:
    server = SmtpServer(free_port())  # nothing listens on this port yet
    down = replace(settings, smtp_url=server.url)
    await send_meeting_mail(db, scene.meeting, "scheduled", [scene.a.id])
    await db.commit()

    first = await JobRunner(down, factory).tick()
    row = await db.scalar(select(OutboundMail))
    await db.refresh(row)
    assert (first.sent, first.failed, row.status, row.attempts) == (0, 1, "queued", 1)
    assert row.last_error != ""
    assert row.next_attempt_at > utcnow()

    too_soon = await JobRunner(down, factory).tick()
    assert (too_soon.sent, too_soon.failed) == (0, 0)

    server.start()
    try:
        later = await JobRunner(down, factory).tick(utcnow() + timedelta(minutes=1))
    finally:
        server.stop()
    await db.refresh(row)
    assert (later.sent, row.status, row.attempts, len(server.inbox.messages)) == (1, "sent", 2, 1)
    assert server.inbox.recipients == [row.to]


async def test_agenda_mail_one_per_participant_in_their_zone(db: AsyncSession, scene: Scene) -> None:
    scene.b.timezone = "America/New_York"
    await db.commit()

    queued = await queue_agenda_mails(db, scene.event.id, [scene.a.id, scene.b.id, scene.a.id])
    await db.commit()

    rows = list(await db.scalars(select(OutboundMail).order_by(OutboundMail.id)))
    assert (queued, [r.kind for r in rows]) == (2, ["agenda", "agenda"])
    by_to = {r.to: r.text for r in rows}
    emails = {
        p.id: (await db.get(User, p.user_id)).email  # type: ignore[union-attr]
        for p in (scene.a, scene.b)
    }
    rome = scene.slot.starts_at.astimezone(ZoneInfo("Europe/Rome")).strftime("%H:%M %Z")
    new_york = scene.slot.starts_at.astimezone(ZoneInfo("America/New_York")).strftime("%H:%M %Z")
    assert f"{rome} — Meeting with Bruno Verdi" in by_to[emails[scene.a.id]]
    assert f"{new_york} — Meeting with Anna Rossi" in by_to[emails[scene.b.id]]


async def test_cancelled_meeting_mails_both_sides_an_itip_cancel(db: AsyncSession, scene: Scene) -> None:
    from clockevents.agenda.changes import cancel_meeting

    canceller = await db.get(User, scene.a.user_id)
    await cancel_meeting(db, scene.meeting.id, canceller, "Plans changed")
    await db.commit()

    rows = list(await db.scalars(select(OutboundMail).order_by(OutboundMail.to)))
    emails = sorted([(await db.get(User, p.user_id)).email for p in (scene.a, scene.b)])  # type: ignore[union-attr]
    assert [(r.to, r.ics_method) for r in rows] == [(e, "CANCEL") for e in emails]
    for row in rows:
        vevent = icalendar.Calendar.from_ical(row.ics).walk("VEVENT")[0]
        assert (str(vevent["UID"]), int(vevent["SEQUENCE"]), str(vevent["STATUS"])) == (
            scene.meeting.uid,
            1,
            "CANCELLED",
        )


async def test_job_loop_started_delivers_without_a_request(
    db: AsyncSession, scene: Scene, settings: Settings, factory: async_sessionmaker[AsyncSession]
) -> None:
    await send_meeting_mail(db, scene.meeting, "scheduled", [scene.a.id])
    await db.commit()
    runner = JobRunner(settings, factory, interval=0.1)

    runner.start()
    status = None
    try:
        for _ in range(100):
            await asyncio.sleep(0.05)
            await db.rollback()  # a fresh snapshot for every look
            status = await db.scalar(select(OutboundMail.status))
            if status == "sent":
                break
    finally:
        await runner.stop()

    assert (status, len(list((settings.data_dir / "outbox").glob("*.eml")))) == ("sent", 1)
