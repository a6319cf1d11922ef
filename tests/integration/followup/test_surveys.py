"""The follow-up survey: who is invited and when, and every way a link can be misused."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from litestar.testing import AsyncTestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from clockevents.cli import main
from clockevents.db import utcnow
from clockevents.followup.models import MeetingOutcome, SurveyInvitation
from clockevents.followup.surveys import add_months, send_due_surveys, survey_token
from clockevents.followup.tokens import make_token
from clockevents.notify.mail_models import OutboundMail
from clockevents.notify.transport import BASE_URL_MARK
from clockevents.settings import Settings
from tests.conftest import TEST_SECRET
from tests.helpers import field_error, form_post
from tests.integration.followup.conftest import Scene, build_scene


@pytest.fixture
async def old_scene(db: AsyncSession, client: AsyncTestClient[Any]) -> Scene:
    """The event began seven months ago; Anna wants to continue with Bruno, Bruno does not."""
    scene = await build_scene(db, client, add_months(datetime.now(UTC).date(), -7))
    for who, wants in ((scene.a, True), (scene.b, False)):
        db.add(MeetingOutcome(meeting_id=scene.meeting.id, participant_id=who.id, wants_to_continue=wants))
    await db.commit()
    return scene


def token_in(mail: OutboundMail) -> str:
    match = re.search(re.escape(BASE_URL_MARK) + r"/survey/(\S+)", mail.text)
    assert match, mail.text
    return match.group(1)


async def invite(db: AsyncSession, now: datetime | None = None) -> str:
    """Send the due surveys and return the token of the single mail queued."""
    assert await send_due_surveys(db, now or utcnow(), secret=TEST_SECRET) == 1
    await db.commit()
    mail = await db.scalar(select(OutboundMail).where(OutboundMail.kind == "survey"))
    assert mail is not None
    return token_in(mail)


def test_add_months_clamps_to_the_month_end() -> None:
    assert add_months(date(2026, 8, 31), 6) == date(2027, 2, 28)
    assert add_months(date(2027, 8, 31), 6) == date(2028, 2, 29)
    assert add_months(date(2026, 11, 15), -7) == date(2026, 4, 15)
    assert add_months(date(2026, 1, 31), -2) == date(2025, 11, 30)


async def test_surveys_go_once_to_parties_who_want_to_continue(db: AsyncSession, old_scene: Scene) -> None:
    now = utcnow()
    assert await send_due_surveys(db, now, secret=TEST_SECRET) == 1
    await db.commit()
    assert await send_due_surveys(db, now + timedelta(days=1), secret=TEST_SECRET) == 0
    await db.commit()

    invitations = list(await db.scalars(select(SurveyInvitation)))
    assert [(i.meeting_id, i.participant_id, i.used_at, i.expires_at - i.sent_at) for i in invitations] == [
        (old_scene.meeting.id, old_scene.a.id, None, timedelta(days=30))
    ]
    mails = list(await db.scalars(select(OutboundMail)))
    assert [(m.to, m.kind) for m in mails] == [("anna@example.org", "survey")]
    assert mails[0].subject.startswith(f"{old_scene.event.title}: how did your contact with Bruno Verdi (")


async def test_surveys_wait_for_the_months_after_the_event(db: AsyncSession, old_scene: Scene) -> None:
    assert await send_due_surveys(db, utcnow(), secret=TEST_SECRET, months=8) == 0
    assert list(await db.scalars(select(SurveyInvitation))) == []


async def test_surveys_none_for_a_recent_event(db: AsyncSession, scene: Scene) -> None:
    db.add(MeetingOutcome(meeting_id=scene.meeting.id, participant_id=scene.a.id, wants_to_continue=True))
    await db.commit()
    assert await send_due_surveys(db, utcnow(), secret=TEST_SECRET) == 0


async def test_survey_link_answers_once_then_refuses(
    db: AsyncSession, old_scene: Scene, client: AsyncTestClient[Any]
) -> None:
    token = await invite(db)

    page = await client.get(f"/survey/{token}")
    assert page.status_code == 200
    assert "How did it go?" in page.text
    assert "you met Bruno Verdi (" in page.text

    answered = await form_post(client, f"/survey/{token}", {"stage": "negotiation", "agreement_kind": ""})
    assert answered.status_code == 200
    assert "Your answer is recorded." in answered.text
    invitation = await db.scalar(select(SurveyInvitation))
    assert invitation is not None
    await db.refresh(invitation)
    assert (invitation.stage, invitation.agreement_kind, invitation.used_at is not None) == (
        "negotiation",
        None,
        True,
    )

    again = await form_post(
        client, f"/survey/{token}", {"stage": "joint_project", "agreement_kind": "licence"}
    )
    reopen = await client.get(f"/survey/{token}")
    for response in (again, reopen):
        assert response.status_code == 410
        assert "This survey has already been answered. Thank you!" in response.text
    await db.refresh(invitation)
    assert (invitation.stage, invitation.agreement_kind) == ("negotiation", None)


async def test_survey_answer_with_agreement_kind(
    db: AsyncSession, old_scene: Scene, client: AsyncTestClient[Any]
) -> None:
    token = await invite(db)
    await client.get(f"/survey/{token}")
    response = await form_post(
        client, f"/survey/{token}", {"stage": "agreement_signed", "agreement_kind": "commercial_agreement"}
    )
    assert response.status_code == 200
    invitation = await db.scalar(select(SurveyInvitation))
    assert invitation is not None
    await db.refresh(invitation)
    assert (invitation.stage, invitation.agreement_kind) == ("agreement_signed", "commercial_agreement")


async def test_survey_wrong_answer_shows_field_errors_and_keeps_the_link(
    db: AsyncSession, old_scene: Scene, client: AsyncTestClient[Any]
) -> None:
    token = await invite(db)
    await client.get(f"/survey/{token}")

    response = await form_post(client, f"/survey/{token}", {"stage": "married", "agreement_kind": "hug"})

    assert response.status_code == 400
    assert field_error(response.text, "stage") == "Choose how far the contact has gone."
    assert field_error(response.text, "agreement_kind") == "Choose one of the listed kinds, or none."
    invitation = await db.scalar(select(SurveyInvitation))
    assert invitation is not None and invitation.used_at is None
    assert (await client.get(f"/survey/{token}")).status_code == 200


async def test_survey_expired_link_is_410(
    db: AsyncSession, old_scene: Scene, client: AsyncTestClient[Any]
) -> None:
    invitation = SurveyInvitation(
        meeting_id=old_scene.meeting.id,
        participant_id=old_scene.a.id,
        sent_at=utcnow() - timedelta(days=40),
        expires_at=utcnow() - timedelta(days=10),
    )
    db.add(invitation)
    await db.commit()

    response = await client.get(f"/survey/{survey_token(TEST_SECRET, invitation)}")

    assert response.status_code == 410
    assert "This link has expired." in response.text


async def test_survey_invitation_expired_before_its_token_is_410(
    db: AsyncSession, old_scene: Scene, client: AsyncTestClient[Any]
) -> None:
    token = await invite(db)
    invitation = await db.scalar(select(SurveyInvitation))
    assert invitation is not None
    invitation.expires_at = utcnow() - timedelta(minutes=1)  # withdrawn early
    await db.commit()

    response = await client.get(f"/survey/{token}")

    assert response.status_code == 410
    assert "This link has expired." in response.text


async def test_survey_token_for_another_meeting_is_400(
    db: AsyncSession, old_scene: Scene, client: AsyncTestClient[Any]
) -> None:
    await invite(db)
    invitation = await db.scalar(select(SurveyInvitation))
    assert invitation is not None
    forged = make_token(
        TEST_SECRET,
        "survey",
        {"invitation": invitation.id, "meeting": old_scene.upcoming.id},
        invitation.expires_at,
    )

    page = await client.get(f"/survey/{forged}")
    answer = await form_post(client, f"/survey/{forged}", {"stage": "joint_project"})

    for response in (page, answer):
        assert response.status_code == 400
        assert "This link is not for a survey of ours. Please use the link from your e-mail." in response.text
    await db.refresh(invitation)
    assert invitation.used_at is None


@pytest.mark.parametrize(
    "mangle",
    [
        pytest.param(lambda t, ids, exp: make_token("another-secret", "survey", ids, exp), id="other-secret"),
        pytest.param(
            lambda t, ids, exp: make_token(TEST_SECRET, "password-reset", ids, exp), id="other-purpose"
        ),
        pytest.param(
            lambda t, ids, exp: t[:-2] + ("AA" if not t.endswith("AA") else "BB"), id="bad-signature"
        ),
        pytest.param(lambda t, ids, exp: t.split(".")[0], id="no-signature"),
        pytest.param(lambda t, ids, exp: "x" * 700, id="too-long"),
        pytest.param(lambda t, ids, exp: "not.a.token", id="garbage"),
    ],
)
async def test_survey_damaged_or_foreign_token_is_400(
    db: AsyncSession, old_scene: Scene, client: AsyncTestClient[Any], mangle: Any
) -> None:
    token = await invite(db)
    invitation = await db.scalar(select(SurveyInvitation))
    assert invitation is not None
    ids = {"invitation": invitation.id, "meeting": invitation.meeting_id}

    response = await client.get(f"/survey/{mangle(token, ids, invitation.expires_at)}")

    assert response.status_code == 400
    assert "This link is not valid. Please use the link from your e-mail." in response.text


# -- the command ------------------------------------------------------------------------------


async def _invoke(settings: Settings, tmp_path: Path, *args: str) -> Result:
    env = {
        "DATABASE_URL": settings.database_url,
        "SECRET_KEY": TEST_SECRET,
        "CLOCKEVENTS_DATA_DIR": str(tmp_path),
    }
    return await asyncio.to_thread(CliRunner().invoke, main, list(args), env=env)


async def test_send_surveys_command_with_now(
    db: AsyncSession, old_scene: Scene, settings: Settings, tmp_path: Path, client: AsyncTestClient[Any]
) -> None:
    early = await _invoke(settings, tmp_path, "send-surveys", "--now", utcnow().isoformat(), "--months", "9")
    assert (early.exit_code, early.stdout) == (0, "0 survey invitation(s) queued\n")

    result = await _invoke(settings, tmp_path, "send-surveys", "--now", utcnow().isoformat())
    assert (result.exit_code, result.stdout) == (0, "1 survey invitation(s) queued\n")

    mail = await db.scalar(select(OutboundMail).where(OutboundMail.kind == "survey"))
    assert mail is not None
    assert (await client.get(f"/survey/{token_in(mail)}")).status_code == 200


async def test_send_surveys_command_bad_now_is_exit_2(settings: Settings, tmp_path: Path) -> None:
    result = await _invoke(settings, tmp_path, "send-surveys", "--now", "next tuesday")
    assert (result.exit_code, result.stderr) == (
        2,
        "error: --now must be an ISO date-time, e.g. 2027-04-01T09:00:00+00:00\n",
    )


async def test_the_job_loop_sends_due_surveys_once(
    db: AsyncSession, old_scene: Scene, settings: Settings
) -> None:
    from clockevents.db import create_engine, create_session_factory
    from clockevents.notify.jobs import JobRunner

    engine = create_engine(settings.database_url)
    try:
        runner = JobRunner(settings, create_session_factory(engine))
        first, second = await runner.tick(), await runner.tick()
    finally:
        await engine.dispose()
    assert (first.surveys, second.surveys) == (1, 0)
    mails = list(await db.scalars(select(OutboundMail).where(OutboundMail.kind == "survey")))
    assert [m.to for m in mails] == ["anna@example.org"]
