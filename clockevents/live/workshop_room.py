"""A workshop's room: who may enter, the snapshot, chat, questions, votes and "answered" marks.

The WebSocket handler (web/live/workshops.py) calls these; it holds no rule of its own.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from clockevents.accounts.models import User
from clockevents.db import claim, utcnow
from clockevents.errors import Conflict, NotAuthenticated, NotFound, PermissionDenied, ValidationFailed
from clockevents.events.models import Event
from clockevents.events.permissions import access_for
from clockevents.live.hub import LiveHub
from clockevents.live.messages import iso, workshop_channel
from clockevents.live.models import (
    PresenceLease,
    Workshop,
    WorkshopQuestion,
    WorkshopRegistration,
    WorkshopVote,
)
from clockevents.live.rooms import check_chat
from clockevents.live.workshops import CHAT_HISTORY, QUESTION_MAX, get_workshop, views_of, whole_number
from clockevents.matchmaking.parties import own_participant


@dataclass(frozen=True)
class WorkshopAccess:
    """The caller inside one workshop room."""

    workshop: Workshop
    event: Event
    user: User
    role: str  # "presenter" | "attendee" | "organiser"
    participant_id: int | None
    name: str

    @property
    def channel(self) -> str:
        return workshop_channel(self.workshop.id)

    @property
    def who(self) -> dict[str, Any]:
        return {
            "participant_id": self.participant_id,
            "user_id": self.user.id,
            "name": self.name,
            "role": self.role,
        }

    @property
    def moderates(self) -> bool:
        """The presenter and the organisers mark questions answered."""
        return self.role in ("presenter", "organiser")


async def workshop_access(db: AsyncSession, user: User | None, workshop_id: int) -> WorkshopAccess:
    """Let in the registered attendees, the presenter and the event's organisers; refuse others."""
    if user is None:
        raise NotAuthenticated()
    workshop = await get_workshop(db, workshop_id)
    event = await db.get(Event, workshop.event_id)
    assert event is not None
    me = await own_participant(db, event, user)
    if me is not None and workshop.presenter_id == me.id:
        return WorkshopAccess(workshop, event, user, "presenter", me.id, user.name)
    if me is not None and me.status == "approved":
        registered = await db.scalar(
            select(WorkshopRegistration.id).where(
                WorkshopRegistration.workshop_id == workshop.id, WorkshopRegistration.participant_id == me.id
            )
        )
        if registered is not None:
            return WorkshopAccess(workshop, event, user, "attendee", me.id, user.name)
    access = await access_for(db, event, user)
    if access.is_staff:
        return WorkshopAccess(workshop, event, user, "organiser", None, user.name)
    raise PermissionDenied(
        "Only the workshop's registered attendees, its presenter and the organisers may enter this room."
    )


def _question(row: WorkshopQuestion, name: str, votes: int, voted: bool) -> dict[str, Any]:
    return {
        "id": row.id,
        "text": row.text,
        "by": {"user_id": row.user_id, "name": name},
        "votes": votes,
        "answered": row.answered,
        "voted": voted,
        "at": iso(row.created_at),
    }


async def questions(db: AsyncSession, workshop_id: int, user_id: int | None) -> list[dict[str, Any]]:
    """The workshop's questions, most votes first (then oldest first), with the caller's votes."""
    votes = func.count(WorkshopVote.id).label("votes")
    rows = (
        await db.execute(
            select(WorkshopQuestion, User.name, votes)
            .outerjoin(User, User.id == WorkshopQuestion.user_id)
            .outerjoin(WorkshopVote, WorkshopVote.question_id == WorkshopQuestion.id)
            .where(WorkshopQuestion.workshop_id == workshop_id)
            .group_by(WorkshopQuestion.id, User.name)
            .order_by(votes.desc(), WorkshopQuestion.id)
        )
    ).all()
    mine: set[int] = set()
    if user_id is not None and rows:
        mine = set(
            await db.scalars(
                select(WorkshopVote.question_id).where(
                    WorkshopVote.user_id == user_id, WorkshopVote.question_id.in_([r[0].id for r in rows])
                )
            )
        )
    return [_question(q, name or "", n, q.id in mine) for q, name, n in rows]


async def present(hub: LiveHub, db: AsyncSession, room: WorkshopAccess) -> list[dict[str, Any]]:
    """Who is in the room now: every person with more "joined" than "left" (second tabs count once)."""
    open_: dict[int, int] = {}
    who: dict[int, dict[str, Any]] = {}
    for message in await hub.history(db, room.channel, types=["presence"]):
        person = message.get("who") or {}
        uid = person.get("user_id")
        if uid is None:
            continue
        who[uid] = person
        open_[uid] = open_.get(uid, 0) + (1 if message.get("state") == "joined" else -1)
    return [
        {"user_id": uid, "name": who[uid].get("name", ""), "role": who[uid].get("role", "")}
        for uid, n in open_.items()
        if n > 0
    ]


async def snapshot(hub: LiveHub, db: AsyncSession, room: WorkshopAccess) -> dict[str, Any]:
    """What a newcomer sees first: the workshop, its presenter, attendance, chat and questions."""
    seq = await hub.last_seq(db, room.channel)
    view = (await views_of(db, [room.workshop], None))[0]
    presenter = view.presenter
    return {
        "type": "snapshot",
        "seq": seq,
        "ephemeral": True,
        "server_time": iso(utcnow()),
        "me": {**room.who, "moderates": room.moderates},
        "workshop": {
            "id": room.workshop.id,
            "title": room.workshop.title,
            "description": room.workshop.description,
            "capacity": room.workshop.capacity,
            "slots": [
                {"index": s.index, "starts_at": iso(s.starts_at), "ends_at": iso(s.ends_at)}
                for s in view.slots
            ],
            "event": {"slug": room.event.slug, "title": room.event.title, "timezone": room.event.timezone},
        },
        "presenter": (
            {"participant_id": presenter.id, "name": presenter.name, "organisation": presenter.organisation}
            if presenter is not None
            else None
        ),
        "attendees": view.registered,
        "present": await present(hub, db, room),
        "chat": await hub.history(db, room.channel, types=["chat"], limit=CHAT_HISTORY, newest=True),
        "questions": await questions(db, room.workshop.id, room.user.id),
    }


async def post_chat(hub: LiveHub, room: WorkshopAccess, data: dict[str, Any]) -> dict[str, Any]:
    text = check_chat(data)
    who = room.who
    return await hub.post(
        room.channel,
        room.event.id,
        "chat",
        {
            "from": {
                "participant_id": who["participant_id"],
                "user_id": who["user_id"],
                "name": who["name"],
                "role": who["role"],
            },
            "text": text,
        },
        user_id=room.user.id,
    )


def check_question(data: Mapping[str, Any]) -> str:
    text = data.get("text")
    if not isinstance(text, str) or not text.strip():
        raise ValidationFailed({"text": "A question needs some text."})
    text = text.strip()
    if len(text) > QUESTION_MAX:
        raise ValidationFailed({"text": f"A question holds at most {QUESTION_MAX} characters."})
    if "\x00" in text:
        raise ValidationFailed({"text": "The question contains a character that is not allowed."})
    return text


async def ask(
    hub: LiveHub, db: AsyncSession, room: WorkshopAccess, data: Mapping[str, Any]
) -> dict[str, Any]:
    """Store a question (1 to 500 characters) and tell the room."""
    text = check_question(data)
    async with db.begin():
        row = WorkshopQuestion(
            workshop_id=room.workshop.id, user_id=room.user.id, text=text, created_at=utcnow()
        )
        db.add(row)
    return await hub.post(
        room.channel,
        room.event.id,
        "question",
        {
            "id": row.id,
            "text": text,
            "by": {"user_id": room.user.id, "name": room.name},
            "votes": 0,
            "answered": False,
        },
        user_id=room.user.id,
    )


async def _own_question(db: AsyncSession, room: WorkshopAccess, data: Mapping[str, Any]) -> WorkshopQuestion:
    raw = data.get("question_id")
    qid = whole_number(raw) if not isinstance(raw, str) else None
    if qid is None or not 0 < qid <= 2**31 - 1:
        raise ValidationFailed({"question_id": "Give the question's id as a number."})
    question = await db.get(WorkshopQuestion, qid)
    if question is None or question.workshop_id != room.workshop.id:
        raise NotFound("No such question in this workshop.")
    return question


async def vote(
    hub: LiveHub, db: AsyncSession, room: WorkshopAccess, data: Mapping[str, Any]
) -> dict[str, Any]:
    """Upvote a question, once per person: a second vote is refused (Conflict) and counts nothing.

    The ``vote`` message carries the question's count after this vote. Counts only grow (there
    is no unvote), so a client that keeps the largest count it saw is never behind.
    """
    async with db.begin():
        question = await _own_question(db, room, data)
        already = await db.scalar(
            select(WorkshopVote.id).where(
                WorkshopVote.question_id == question.id, WorkshopVote.user_id == room.user.id
            )
        )
        if already is not None:
            raise Conflict("You have already voted for this question.")
        db.add(WorkshopVote(question_id=question.id, user_id=room.user.id))
        try:
            await db.flush()
        except IntegrityError:  # a second tab's vote won the race: the constraint keeps one
            raise Conflict("You have already voted for this question.") from None
    votes = await db.scalar(select(func.count()).where(WorkshopVote.question_id == question.id)) or 0
    return await hub.post(
        room.channel,
        room.event.id,
        "vote",
        {"question_id": question.id, "votes": votes},
        user_id=room.user.id,
    )


async def mark_answered(
    hub: LiveHub, db: AsyncSession, room: WorkshopAccess, data: Mapping[str, Any]
) -> dict[str, Any] | None:
    """Mark a question answered (the presenter and the organisers); again: nothing is sent."""
    if not room.moderates:
        raise PermissionDenied("Only the presenter and the organisers mark questions answered.")
    async with db.begin():
        question = await _own_question(db, room, data)
        if question.answered:
            return None
        question.answered = True
    return await hub.post(
        room.channel, room.event.id, "answered", {"question_id": question.id}, user_id=room.user.id
    )


async def post_presence(hub: LiveHub, room: WorkshopAccess, state: str) -> None:
    """Tell the room someone came ("joined") or went ("left"); no attendance is recorded."""
    await hub.post(
        room.channel, room.event.id, "presence", {"who": room.who, "state": state}, user_id=room.user.id
    )


async def arrive(hub: LiveHub, db: AsyncSession, room: WorkshopAccess) -> int:
    """Take a presence lease (its worker confirms it; see clockevents.live.keeper), say "joined"."""
    now = utcnow()
    lease = PresenceLease(
        channel=room.channel,
        event_id=room.event.id,
        user_id=room.user.id,
        who=room.who,
        joined_at=now,
        seen_at=now,
    )
    db.add(lease)
    await db.commit()
    await post_presence(hub, room, "joined")
    return lease.id


async def depart(hub: LiveHub, db: AsyncSession, room: WorkshopAccess, lease_id: int) -> bool:
    """End the lease and say "left", unless a sweep has already done both; True when said here."""
    if not await end_lease(db, lease_id, utcnow()):
        return False
    await post_presence(hub, room, "left")
    return True


async def end_lease(db: AsyncSession, lease_id: int, at: datetime) -> bool:
    """Close an open lease; False when it was closed already (by its worker or by a sweep)."""
    return await claim(
        db,
        update(PresenceLease)
        .where(PresenceLease.id == lease_id, PresenceLease.left_at.is_(None))
        .values(left_at=at),
    )
