"""The mail asking each party, once their day's meetings are over, how those meetings went."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from clockevents.followup.models import MeetingOutcome
from clockevents.followup.reminders import PROMPT_WINDOW, queue_followup_mail, queue_outcome_prompts
from clockevents.notify.mail_models import MailPreference, OutboundMail
from clockevents.notify.transport import BASE_URL_MARK
from clockevents.registration.models import Organisation
from tests.factories.agenda import make_meeting, make_request, slot_at
from tests.integration.followup.conftest import Scene


async def _mails(db: AsyncSession) -> list[tuple[str, str, str | None]]:
    rows = await db.scalars(select(OutboundMail).order_by(OutboundMail.to))
    return [(m.to, m.subject, m.dedupe_key) for m in rows]


async def test_prompt_goes_once_to_each_party_yet_to_report(db: AsyncSession, scene: Scene) -> None:
    now = scene.slot.ends_at + timedelta(hours=1)
    db.add(MeetingOutcome(meeting_id=scene.meeting.id, participant_id=scene.b.id))
    await db.commit()
    day = scene.slot.starts_at.date().isoformat()  # 9:00 in Rome is the same day in UTC

    assert await queue_outcome_prompts(db, now) == 1
    await db.commit()
    assert await queue_outcome_prompts(db, now + timedelta(minutes=5)) == 0

    assert await _mails(db) == [
        (
            "anna@example.org",
            f"{scene.event.title}: how did your meetings go?",
            f"outcome-prompt:{scene.a.id}:{day}",
        )
    ]
    mail = await db.scalar(select(OutboundMail))
    assert mail is not None
    org_b = await db.get(Organisation, scene.b.organisation_id)
    assert org_b is not None
    assert (
        f"with Bruno Verdi ({org_b.name}): {BASE_URL_MARK}/meetings/{scene.meeting.id}/outcome" in mail.text
    )


async def test_prompt_waits_for_the_days_last_meeting(db: AsyncSession, scene: Scene) -> None:
    later_slot = await slot_at(db, scene.event, 5)  # same day, 11:05 in Rome
    later = await make_meeting(db, await make_request(db, scene.a, scene.c), later_slot, table=3)
    between = scene.slot.ends_at + timedelta(minutes=30)

    assert await queue_outcome_prompts(db, between) == 1  # Bruno's day is over; Anna's is not
    await db.commit()
    assert [to for to, _, _ in await _mails(db)] == ["bruno@example.org"]

    assert await queue_outcome_prompts(db, later_slot.ends_at + timedelta(minutes=1)) == 2
    await db.commit()
    assert [to for to, _, _ in await _mails(db)] == [
        "anna@example.org",
        "bruno@example.org",
        "carla@example.org",
    ]
    anna = await db.scalar(select(OutboundMail).where(OutboundMail.to == "anna@example.org"))
    assert anna is not None
    assert f"/meetings/{scene.meeting.id}/outcome" in anna.text
    assert f"/meetings/{later.id}/outcome" in anna.text


async def test_prompt_none_when_reported_switched_off_or_long_ago(db: AsyncSession, scene: Scene) -> None:
    assert scene.b.user_id is not None
    db.add(MeetingOutcome(meeting_id=scene.meeting.id, participant_id=scene.a.id))
    db.add(MailPreference(user_id=scene.b.user_id, kind="reminders", enabled=False))
    await db.commit()

    assert await queue_outcome_prompts(db, scene.slot.ends_at + timedelta(hours=1)) == 0
    await db.execute(MailPreference.__table__.delete())
    scene.upcoming.status = "cancelled"  # it ends two days after the first: keep it out of the way
    await db.commit()
    assert await queue_outcome_prompts(db, scene.slot.ends_at + PROMPT_WINDOW + timedelta(minutes=1)) == 0
    assert await _mails(db) == []


async def test_followup_mail_counts_prompts_and_task_reminders(db: AsyncSession, scene: Scene) -> None:
    assert await queue_followup_mail(db, scene.slot.ends_at + timedelta(hours=1)) == 2
