"""The follow-up survey: months after an event, ask each party who wanted to continue a
meeting's contact how far it went (no contact, negotiation, agreement signed, joint project).

The mail carries a link ``/survey/{token}``: signed with the app's secret, for this purpose and
this invitation only, expiring with the invitation, and good for one answer.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from clockevents.agenda.models import Meeting
from clockevents.agenda.problem import load_people
from clockevents.errors import ValidationFailed
from clockevents.events.models import Event, Slot
from clockevents.followup.models import OUTCOME_KINDS, SURVEY_STAGES, MeetingOutcome, SurveyInvitation
from clockevents.followup.tokens import BadToken, TokenGone, make_token, read_token
from clockevents.notify import mail as mails
from clockevents.notify.outbox import enqueue
from clockevents.notify.transport import BASE_URL_MARK

PURPOSE = "survey"
SURVEY_AFTER_MONTHS = 6  # default delay after the event's last day; `send-surveys --months` changes it
VALID_DAYS = 30  # how long a survey link stays usable
SEND_WINDOW_DAYS = 90  # events whose survey date is older than this get none (no mail storm on upgrade)
STAGE_LABELS = {
    "no_contact": "We have not been in contact since",
    "negotiation": "We are negotiating",
    "agreement_signed": "We signed an agreement",
    "joint_project": "We run a joint project",
}
AGREEMENT_LABELS = {
    "none": "No agreement",
    "further_contact": "Further contact",
    "technical_cooperation": "Technical cooperation",
    "commercial_agreement": "Commercial agreement",
    "research_cooperation": "Research cooperation",
    "investment": "Investment",
    "licence": "Licence",
}


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later, clamped to the month's end (31 Aug + 6 -> 28/29 Feb)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    for last in (31, 30, 29, 28):
        try:
            return date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise AssertionError("unreachable")


def survey_token(secret: str, invitation: SurveyInvitation) -> str:
    return make_token(
        secret,
        PURPOSE,
        {"invitation": invitation.id, "meeting": invitation.meeting_id},
        invitation.expires_at,
    )


def survey_link(secret: str, invitation: SurveyInvitation) -> str:
    return f"{BASE_URL_MARK}/survey/{survey_token(secret, invitation)}"


async def send_due_surveys(
    db: AsyncSession, now: datetime, *, secret: str, months: int = SURVEY_AFTER_MONTHS
) -> int:
    """Invite, once, every party who wanted to continue a meeting held ``months`` after its event.

    Returns how many mails were queued. Parties without an account (deleted) are skipped.
    """
    today = now.date()
    events = [
        e
        for e in await db.scalars(select(Event).where(Event.ends_on < today).order_by(Event.id))
        if today - timedelta(days=SEND_WINDOW_DAYS) < add_months(e.ends_on, months) <= today
    ]
    count = 0
    for event in events:
        rows = (
            await db.execute(
                select(MeetingOutcome, Meeting)
                .join(Meeting, Meeting.id == MeetingOutcome.meeting_id)
                .join(Slot, Slot.id == Meeting.slot_id)
                .outerjoin(
                    SurveyInvitation,
                    (SurveyInvitation.meeting_id == MeetingOutcome.meeting_id)
                    & (SurveyInvitation.participant_id == MeetingOutcome.participant_id),
                )
                .where(
                    Meeting.event_id == event.id,
                    Meeting.status == "scheduled",
                    Slot.ends_at <= now,
                    MeetingOutcome.wants_to_continue.is_(True),
                    SurveyInvitation.id.is_(None),
                )
                .order_by(Meeting.id, MeetingOutcome.participant_id)
            )
        ).all()
        if not rows:
            continue
        who = {
            r.participant_id: r
            for r in await mails.recipients(db, {o.participant_id for o, _ in rows}, "surveys")
        }
        people = await load_people(db, {pid for _, m in rows for pid in (m.a_id, m.b_id)})
        for outcome, meeting in rows:
            recipient = who.get(outcome.participant_id)
            if recipient is None:
                continue
            invitation = SurveyInvitation(
                meeting_id=meeting.id,
                participant_id=outcome.participant_id,
                sent_at=now,
                expires_at=now + timedelta(days=VALID_DAYS),
            )
            try:
                async with db.begin_nested():
                    db.add(invitation)
                    await db.flush()
            except IntegrityError:  # another runner invited them first
                continue
            other = people.get(meeting.b_id if outcome.participant_id == meeting.a_id else meeting.a_id)
            subject = (
                f"{event.title}: how did your contact with {other.label if other else 'your partner'} go?"
            )
            text, html = mails.render(
                recipient.name,
                subject,
                [
                    f"Some months ago at {event.title} you met {other.label if other else 'a partner'} "
                    "and wanted to stay in touch.",
                    "Two questions, one minute: how far has it gone? Your answer helps the organisers "
                    "judge what their events bring about.",
                    f"The link works once, until {invitation.expires_at:%d %B %Y}.",
                ],
                event,
                survey_link(secret, invitation),
                "Answer the survey",
            )
            await enqueue(
                db,
                to=recipient.email,
                subject=subject,
                text=text,
                html=html,
                kind="survey",
                dedupe_key=f"survey:{invitation.id}",
            )
            count += 1
    await db.flush()
    return count


# -- answering --------------------------------------------------------------------------------


@dataclass(frozen=True)
class SurveyView:
    invitation: SurveyInvitation
    event: Event
    other: str  # the other party's label
    met_on: datetime | None


async def open_survey(db: AsyncSession, secret: str, token: str, now: datetime) -> SurveyView:
    """The survey a link stands for; 400 for a link that is not one, 410 once expired or answered."""
    claims = read_token(secret, PURPOSE, token, now)
    invitation_id = claims.ids.get("invitation", 0)
    invitation = await db.get(SurveyInvitation, invitation_id) if 0 < invitation_id < 2**31 else None
    if invitation is None or invitation.meeting_id != claims.ids.get("meeting"):
        raise BadToken("This link is not for a survey of ours. Please use the link from your e-mail.")
    if invitation.used_at is not None:
        raise TokenGone("This survey has already been answered. Thank you!")
    if now >= invitation.expires_at:
        raise TokenGone("This link has expired.")
    meeting = await db.get(Meeting, invitation.meeting_id)
    assert meeting is not None  # invitations go with their meeting (ON DELETE CASCADE)
    event = await db.get(Event, meeting.event_id)
    assert event is not None
    slot = await db.get(Slot, meeting.slot_id) if meeting.slot_id is not None else None
    other_id = meeting.b_id if invitation.participant_id == meeting.a_id else meeting.a_id
    other = (await load_people(db, [other_id])).get(other_id)
    return SurveyView(invitation, event, other.label if other else "", slot.starts_at if slot else None)


def clean_answer(data: Mapping[str, Any]) -> tuple[str, str | None]:
    errors: dict[str, str] = {}
    stage = data.get("stage")
    if not isinstance(stage, str) or stage not in SURVEY_STAGES:
        errors["stage"] = "Choose how far the contact has gone."
    kind = data.get("agreement_kind")
    if kind in (None, ""):
        kind = None
    elif not isinstance(kind, str) or kind not in OUTCOME_KINDS:
        errors["agreement_kind"] = "Choose one of the listed kinds, or none."
    if errors:
        raise ValidationFailed(errors)
    return stage, kind  # type: ignore[return-value]


async def answer_survey(
    db: AsyncSession, secret: str, token: str, data: Mapping[str, Any], now: datetime
) -> SurveyInvitation:
    """Store the answers once: a second answer through the same link is refused (410)."""
    view = await open_survey(db, secret, token, now)
    stage, kind = clean_answer(data)
    result = await db.execute(
        update(SurveyInvitation)
        .where(SurveyInvitation.id == view.invitation.id, SurveyInvitation.used_at.is_(None))
        .values(used_at=now, stage=stage, agreement_kind=kind)
        .execution_options(synchronize_session=False)
    )
    if not result.rowcount:  # type: ignore[attr-defined]
        raise TokenGone("This survey has already been answered. Thank you!")
    await db.refresh(view.invitation)
    return view.invitation
