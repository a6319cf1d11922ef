"""Follow-up tasks: next steps agreed in a meeting, owned by one of its two parties.

Only the two parties create, complete and comment on a meeting's tasks; organisers covering
either side read them. ``followup.reminders`` mails each open task's owner before it is due.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from clockevents.accounts.models import User
from clockevents.agenda.changes import MeetingContext, load_meeting
from clockevents.agenda.models import Meeting
from clockevents.agenda.problem import load_people
from clockevents.db import utcnow
from clockevents.errors import Conflict, NotAuthenticated, NotFound, PermissionDenied, ValidationFailed
from clockevents.events.models import Event
from clockevents.events.permissions import access_for
from clockevents.followup.models import FollowUpComment, FollowUpTask
from clockevents.followup.outcomes import MAX_ID, party_of
from clockevents.matchmaking.parties import own_participant
from clockevents.registration.models import Participant

TITLE_MAX = 300
COMMENT_MAX = 2000
TASK_FIELDS = ("meeting_id", "title", "due_on", "owner_id")


@dataclass(frozen=True)
class CommentView:
    id: int
    author_id: int | None
    author: str
    text: str
    created_at: datetime


@dataclass(frozen=True)
class TaskView:
    id: int
    event_id: int
    meeting_id: int
    title: str
    due_on: date | None
    done_at: datetime | None
    owner_id: int | None
    owner: str
    created_by_id: int | None
    parties: tuple[int, int]  # the meeting's two participants (who may see and change it)
    other: str  # the meeting's other party, as the reader sees it ("" for organisers)
    comments: list[CommentView] = field(default_factory=list)

    @property
    def done(self) -> bool:
        return self.done_at is not None


# -- reading ----------------------------------------------------------------------------------


async def _views(
    db: AsyncSession, tasks: list[FollowUpTask], reader: set[int] | None = None
) -> list[TaskView]:
    """Tasks with their comments and names, in one pass. ``reader``: the caller's participant ids."""
    if not tasks:
        return []
    meetings = {
        m.id: m
        for m in await db.scalars(select(Meeting).where(Meeting.id.in_({t.meeting_id for t in tasks})))
    }
    comments: dict[int, list[FollowUpComment]] = defaultdict(list)
    for comment in await db.scalars(
        select(FollowUpComment)
        .where(FollowUpComment.task_id.in_([t.id for t in tasks]))
        .order_by(FollowUpComment.created_at, FollowUpComment.id)
    ):
        comments[comment.task_id].append(comment)
    ids: set[int] = {pid for m in meetings.values() for pid in (m.a_id, m.b_id)}
    ids |= {c.author_id for cs in comments.values() for c in cs if c.author_id is not None}
    people = await load_people(db, ids)

    def label(pid: int | None) -> str:
        return people[pid].label if pid is not None and pid in people else ""

    views = []
    for task in tasks:
        meeting = meetings[task.meeting_id]
        other = ""
        if reader:
            other_id = meeting.b_id if meeting.a_id in reader else meeting.a_id
            other = label(other_id)
        views.append(
            TaskView(
                id=task.id,
                event_id=task.event_id,
                meeting_id=task.meeting_id,
                title=task.title,
                due_on=task.due_on,
                done_at=task.done_at,
                owner_id=task.owner_id,
                owner=label(task.owner_id),
                created_by_id=task.created_by_id,
                parties=(meeting.a_id, meeting.b_id),
                other=other,
                comments=[
                    CommentView(c.id, c.author_id, label(c.author_id), c.text, c.created_at)
                    for c in comments[task.id]
                ],
            )
        )
    return views


async def list_tasks(db: AsyncSession, event: Event, user: User | None) -> list[TaskView]:
    """The caller's tasks in ``event``: those of their meetings (organisers: all they cover)."""
    if user is None:
        raise NotAuthenticated()
    me = await own_participant(db, event, user)
    order = (FollowUpTask.done_at.is_not(None), FollowUpTask.due_on, FollowUpTask.id)
    if me is not None:
        query = (
            select(FollowUpTask)
            .join(Meeting, Meeting.id == FollowUpTask.meeting_id)
            .where(FollowUpTask.event_id == event.id, or_(Meeting.a_id == me.id, Meeting.b_id == me.id))
            .order_by(*order)
        )
        return await _views(db, list(await db.scalars(query)), {me.id})
    access = await access_for(db, event, user)
    if not access.is_staff:
        raise PermissionDenied("Only the event's participants and organisers see follow-up tasks.")
    tasks = list(
        await db.scalars(select(FollowUpTask).where(FollowUpTask.event_id == event.id).order_by(*order))
    )
    if not access.is_organiser:  # a cluster partner: tasks of meetings with a side in their cluster
        views = await _views(db, tasks)
        clusters = {
            p.id: p.cluster_id
            for p in await db.scalars(
                select(Participant).where(Participant.id.in_({pid for v in views for pid in v.parties}))
            )
        }
        return [v for v in views if any(access.covers_cluster(clusters.get(pid)) for pid in v.parties)]
    return await _views(db, tasks)


async def _task_context(
    db: AsyncSession, task_id: int, user: User | None
) -> tuple[FollowUpTask, MeetingContext, int | None]:
    """The task, its meeting and the caller's side in it (None: an organiser who may only read)."""
    if user is None:
        raise NotAuthenticated()
    task = await db.get(FollowUpTask, task_id) if 0 < task_id < MAX_ID else None
    if task is None:
        raise NotFound("No such follow-up task.")
    try:
        context = await load_meeting(db, task.meeting_id, user)
    except PermissionDenied:
        raise NotFound("No such follow-up task.") from None  # strangers do not learn it exists
    return task, context, party_of(context, user)


async def get_task(db: AsyncSession, task_id: int, user: User | None) -> TaskView:
    task, _, me = await _task_context(db, task_id, user)
    return (await _views(db, [task], {me} if me else None))[0]


def _need_party(me: int | None) -> int:
    if me is None:
        raise PermissionDenied("Only the meeting's two participants change its follow-up tasks.")
    return me


# -- writing ----------------------------------------------------------------------------------


def _parse_id(value: Any) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().isdigit() and len(value.strip()) < 10:
        return int(value.strip())
    return None


def _parse_date(value: Any) -> date | None:
    if isinstance(value, str) and len(value.strip()) == 10:
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            return None
    return None


def _text(value: Any, name: str, limit: int, what: str, errors: dict[str, str]) -> str:
    if not isinstance(value, str) or not value.strip():
        errors[name] = f"Write {what}."
        return ""
    text = " ".join(value.split()) if name == "title" else value.strip()
    if len(text) > limit:
        errors[name] = f"Keep it under {limit} characters."
    elif "\x00" in text:
        errors[name] = "This contains a character that is not allowed."
    return text


async def create_task(db: AsyncSession, event: Event, user: User | None, data: Mapping[str, Any]) -> TaskView:
    """Add a task to one of the caller's meetings in ``event``; its owner is either party (default: the caller)."""
    if user is None:
        raise NotAuthenticated()
    errors = {str(k): "Unknown field." for k in data if k not in TASK_FIELDS}
    meeting_id = _parse_id(data.get("meeting_id"))
    if meeting_id is None:
        errors["meeting_id"] = "Choose the meeting this task follows up."
    title = _text(data.get("title"), "title", TITLE_MAX, "what is to be done", errors)
    due_on: date | None = None
    raw_due = data.get("due_on")
    if raw_due not in (None, ""):
        due_on = _parse_date(raw_due)
        if due_on is None:
            errors["due_on"] = "Give the due date as YYYY-MM-DD."
    raw_owner = data.get("owner_id")
    owner_id = None if raw_owner in (None, "") else _parse_id(raw_owner)
    if raw_owner not in (None, "") and owner_id is None:
        errors["owner_id"] = "Choose yourself or the other participant."
    if errors:
        raise ValidationFailed(errors)
    assert meeting_id is not None
    meeting = await db.get(Meeting, meeting_id) if 0 < meeting_id < MAX_ID else None
    if meeting is None or meeting.event_id != event.id:
        raise ValidationFailed({"meeting_id": "No such meeting in this event."})
    context = await load_meeting(db, meeting_id, user)
    me = _need_party(party_of(context, user))
    if meeting.status != "scheduled":
        raise Conflict("Follow-up tasks belong to scheduled meetings; this one is not.")
    owner_id = owner_id if owner_id is not None else me
    if owner_id not in (meeting.a_id, meeting.b_id):
        raise ValidationFailed({"owner_id": "Choose yourself or the other participant."})
    task = FollowUpTask(
        event_id=event.id,
        meeting_id=meeting.id,
        owner_id=owner_id,
        created_by_id=me,
        title=title,
        due_on=due_on,
    )
    db.add(task)
    await db.flush()
    return (await _views(db, [task], {me}))[0]


async def complete_task(
    db: AsyncSession, task_id: int, user: User | None, now: datetime | None = None
) -> TaskView:
    """Mark a task done (either party); completing it again changes nothing."""
    task, _, me = await _task_context(db, task_id, user)
    _need_party(me)
    if task.done_at is None:
        task.done_at = now or utcnow()
        await db.flush()
    return (await _views(db, [task], {me} if me else None))[0]


async def add_comment(
    db: AsyncSession, task_id: int, user: User | None, data: Mapping[str, Any]
) -> tuple[TaskView, CommentView]:
    """Comment on a task (either party); return the task and the new comment."""
    task, _, me = await _task_context(db, task_id, user)
    author = _need_party(me)
    errors = {str(k): "Unknown field." for k in data if k != "text"}
    text = _text(data.get("text"), "text", COMMENT_MAX, "a comment", errors)
    if errors:
        raise ValidationFailed(errors)
    comment = FollowUpComment(task_id=task.id, author_id=author, text=text, created_at=utcnow())
    db.add(comment)
    await db.flush()
    view = (await _views(db, [task], {author}))[0]
    return view, next(c for c in view.comments if c.id == comment.id)
