"""A person's own data: everything the platform holds about them as JSON, and account deletion.

Deleting an account removes the user row and what only describes the person (login tokens,
notifications, mail choices, pitch, job title, private notes, queued mail). Their registrations
stay as anonymous participants (no user, unlisted, shown as "Participant N"), so the meetings
they held still count in the organisers' figures and the other parties keep their agendas.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from sqlalchemy import delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from clockevents.accounts.models import AuthToken, LoginAttempt, User
from clockevents.accounts.services import authenticate
from clockevents.agenda.models import Meeting
from clockevents.agenda.problem import load_people
from clockevents.errors import Conflict, NotAuthenticated, ValidationFailed
from clockevents.events.models import Event, EventRole, Slot
from clockevents.followup.models import FollowUpComment, FollowUpTask, MeetingOutcome, SurveyInvitation
from clockevents.live.models import LiveChannel, LiveMessage, WorkshopQuestion
from clockevents.matchmaking.models import MeetingRequest
from clockevents.notify.mail_models import MailPreference, OutboundMail
from clockevents.notify.models import Notification
from clockevents.registration.models import Opportunity, Organisation, Participant

EXPORT_FORMAT = "clockevents-personal-data/1"
DELETED_NAME = "Deleted participant"


def _value(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _row(row: Any, names: Iterable[str]) -> dict[str, Any]:
    return {name: _value(getattr(row, name)) for name in names}


async def export_data(db: AsyncSession, user: User | None) -> dict[str, Any]:
    """Everything held about the caller, as plain JSON-ready data."""
    if user is None:
        raise NotAuthenticated()
    participants = list(
        await db.scalars(select(Participant).where(Participant.user_id == user.id).order_by(Participant.id))
    )
    mine = [p.id for p in participants]
    events = {
        e.id: e
        for e in await db.scalars(select(Event).where(Event.id.in_({p.event_id for p in participants})))
    }
    organisations = {
        o.id: o
        for o in await db.scalars(
            select(Organisation).where(
                or_(
                    Organisation.id.in_({p.organisation_id for p in participants}),
                    Organisation.created_by_id == user.id,
                )
            )
        )
    }
    opportunities = list(
        await db.scalars(
            select(Opportunity).where(Opportunity.participant_id.in_(mine)).order_by(Opportunity.id)
        )
    )
    requests = list(
        await db.scalars(
            select(MeetingRequest)
            .where(or_(MeetingRequest.sender_id.in_(mine), MeetingRequest.receiver_id.in_(mine)))
            .order_by(MeetingRequest.id)
        )
    )
    meetings = (
        await db.execute(
            select(Meeting, Slot)
            .outerjoin(Slot, Slot.id == Meeting.slot_id)
            .where(or_(Meeting.a_id.in_(mine), Meeting.b_id.in_(mine)))
            .order_by(Meeting.id)
        )
    ).all()
    others = {pid for r in requests for pid in (r.sender_id, r.receiver_id)}
    others |= {pid for m, _ in meetings for pid in (m.a_id, m.b_id)}
    people = await load_people(db, others - set(mine))
    meeting_ids = [m.id for m, _ in meetings]
    tasks = list(
        await db.scalars(
            select(FollowUpTask).where(FollowUpTask.meeting_id.in_(meeting_ids)).order_by(FollowUpTask.id)
        )
    )
    comments = list(
        await db.scalars(
            select(FollowUpComment)
            .where(FollowUpComment.task_id.in_([t.id for t in tasks]))
            .order_by(FollowUpComment.id)
        )
    )
    chat = (
        await db.execute(
            select(LiveMessage, LiveChannel.name)
            .join(LiveChannel, LiveChannel.id == LiveMessage.channel_id)
            .where(LiveMessage.user_id == user.id, LiveMessage.type == "chat")
            .order_by(LiveMessage.id)
        )
    ).all()

    def other_of(pair: tuple[int, int]) -> str:
        other = pair[1] if pair[0] in mine else pair[0]
        person = people.get(other)
        return person.label if person else ""

    return {
        "format": EXPORT_FORMAT,
        "account": _row(user, ("id", "email", "name", "timezone", "is_admin", "created_at", "updated_at")),
        "api_tokens": [
            _row(t, ("name", "prefix", "created_at", "last_used_at", "expires_at", "revoked_at"))
            for t in await db.scalars(
                select(AuthToken)
                .where(AuthToken.user_id == user.id, AuthToken.kind == "api")
                .order_by(AuthToken.id)
            )
        ],
        "mail_preferences": {
            p.kind: p.enabled
            for p in await db.scalars(select(MailPreference).where(MailPreference.user_id == user.id))
        },
        "notifications": [
            _row(n, ("kind", "text", "url", "created_at", "read_at"))
            for n in await db.scalars(
                select(Notification).where(Notification.user_id == user.id).order_by(Notification.id)
            )
        ],
        "organisations": [
            _row(o, ("id", "name", "kind", "country", "city", "website", "description", "size"))
            for o in organisations.values()
        ],
        "participations": [
            {
                **_row(
                    p,
                    (
                        "id",
                        "organisation_id",
                        "cluster_id",
                        "participant_type",
                        "job_title",
                        "pitch",
                        "keywords",
                        "sectors",
                        "languages",
                        "timezone",
                        "listed",
                        "status",
                        "created_at",
                    ),
                ),
                "event": {"slug": events[p.event_id].slug, "title": events[p.event_id].title},
                "opportunities": [
                    _row(o, ("kind", "title", "description", "keywords"))
                    for o in opportunities
                    if o.participant_id == p.id
                ],
            }
            for p in participants
        ],
        "requests": [
            {
                **_row(
                    r, ("id", "event_id", "status", "message", "decline_reason", "priority", "created_at")
                ),
                "direction": "sent" if r.sender_id in mine else "received",
                "with": other_of((r.sender_id, r.receiver_id)),
            }
            for r in requests
        ],
        "meetings": [
            {
                **_row(m, ("id", "event_id", "status", "table", "cancel_reason")),
                "starts_at": _value(slot.starts_at) if slot else None,
                "ends_at": _value(slot.ends_at) if slot else None,
                "with": other_of((m.a_id, m.b_id)),
            }
            for m, slot in meetings
        ],
        "chat_messages": [
            {
                "channel": channel,
                "seq": msg.seq,
                "text": msg.payload.get("text"),
                "at": _value(msg.created_at),
            }
            for msg, channel in chat
        ],
        "workshop_questions": [
            _row(q, ("workshop_id", "text", "created_at"))
            for q in await db.scalars(
                select(WorkshopQuestion)
                .where(WorkshopQuestion.user_id == user.id)
                .order_by(WorkshopQuestion.id)
            )
        ],
        "outcomes": [
            _row(o, ("meeting_id", "took_place", "rating", "wants_to_continue", "outcome", "private_notes"))
            for o in await db.scalars(
                select(MeetingOutcome)
                .where(MeetingOutcome.participant_id.in_(mine))
                .order_by(MeetingOutcome.id)
            )
        ],
        "tasks": [
            {
                **_row(t, ("id", "meeting_id", "title", "due_on", "done_at", "created_at")),
                "mine": t.owner_id in mine,
                "comments": [
                    {**_row(c, ("text", "created_at")), "mine": c.author_id in mine}
                    for c in comments
                    if c.task_id == t.id
                ],
            }
            for t in tasks
        ],
        "surveys": [
            _row(s, ("meeting_id", "sent_at", "used_at", "stage", "agreement_kind"))
            for s in await db.scalars(
                select(SurveyInvitation)
                .where(SurveyInvitation.participant_id.in_(mine))
                .order_by(SurveyInvitation.id)
            )
        ],
    }


def _scrub(value: Any, user_id: int) -> Any:
    """A stored live payload with the person's id and name taken out wherever it names them."""
    if isinstance(value, list):
        return [_scrub(v, user_id) for v in value]
    if not isinstance(value, dict):
        return value
    names_them = value.get("user_id") == user_id
    out = {k: _scrub(v, user_id) for k, v in value.items()}
    if names_them:
        out["user_id"] = None
        if "name" in out:
            out["name"] = DELETED_NAME
    return out


async def delete_account(db: AsyncSession, user: User | None, password: Any, address: str) -> None:
    """Delete the caller's account once their password is confirmed; keep their meetings anonymous.

    Refused (409) while the caller is the only owner of an event: they hand it over first.
    """
    if user is None:
        raise NotAuthenticated()
    if not isinstance(password, str) or not password:
        raise ValidationFailed({"password": "Enter your password to confirm."})
    try:
        await authenticate(db, email=user.email, password=password, address=address)
    except ValidationFailed:
        raise ValidationFailed({"password": "The password is wrong."}) from None
    other = aliased(EventRole)
    owned = list(
        await db.scalars(
            select(Event.title)
            .join(EventRole, EventRole.event_id == Event.id)
            .where(EventRole.user_id == user.id, EventRole.role == "owner")
            .where(
                ~select(other.id)
                .where(other.event_id == Event.id, other.role == "owner", other.user_id != user.id)
                .exists()
            )
            .order_by(Event.title)
        )
    )
    if owned:
        raise Conflict("You are the only owner of " + ", ".join(owned) + ": make someone else owner first.")
    participants = list(await db.scalars(select(Participant).where(Participant.user_id == user.id)))
    mine = [p.id for p in participants]
    for participant in participants:
        participant.user_id = None
        participant.job_title = ""
        participant.pitch = ""
        participant.keywords = []
        participant.languages = []
        participant.listed = False
        participant.search_text = ""
    for outcome in await db.scalars(select(MeetingOutcome).where(MeetingOutcome.participant_id.in_(mine))):
        outcome.private_notes = ""
    for message in await db.scalars(select(LiveMessage).where(LiveMessage.user_id == user.id)):
        message.payload = _scrub(message.payload, user.id)
        message.user_id = None
    await db.execute(delete(OutboundMail).where(OutboundMail.to == user.email))
    await db.execute(delete(LoginAttempt).where(LoginAttempt.email == user.email))
    await db.flush()
    await db.delete(user)  # tokens, notifications, mail choices and roles go with it (ON DELETE CASCADE)
    await db.flush()
