"""Follow-up API: each party's outcome of a meeting, and the follow-up tasks with their comments."""

from __future__ import annotations

import logging
from typing import Any

import msgspec
from litestar import Request, get, post
from litestar.params import JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED
from sqlalchemy.ext.asyncio import AsyncSession

from clockevents.accounts.models import User
from clockevents.events.services import get_visible_event
from clockevents.followup import outcomes, tasks
from web.auth import requires_login

TAGS = ["followup"]
log = logging.getLogger(__name__)


class ReportOut(msgspec.Struct):
    participant_id: int
    took_place: bool
    rating: int | None
    wants_to_continue: bool
    outcome: str
    updated_at: str
    private_notes: str | None = None  # only in the caller's own report


class OutcomesOut(msgspec.Struct):
    meeting_id: int
    participant_id: int | None  # the caller's side; null for an organiser
    took_place_suggested: bool | None  # from the room's attendance
    mine: ReportOut | None
    theirs: ReportOut | None
    reports: list[ReportOut]  # both sides' shared answers (what an organiser reads)
    confirmed: bool
    confirmed_outcome: str | None


class CommentOut(msgspec.Struct):
    id: int
    author_id: int | None
    author: str
    text: str
    created_at: str


class TaskOut(msgspec.Struct):
    id: int
    meeting_id: int
    title: str
    due_on: str | None
    done: bool
    done_at: str | None
    owner_id: int | None
    owner: str
    created_by_id: int | None
    with_: str = msgspec.field(name="with")
    comments: list[CommentOut] = msgspec.field(default_factory=list)


def report_out(report: outcomes.OutcomeReport | None) -> ReportOut | None:
    if report is None:
        return None
    return ReportOut(
        participant_id=report.participant_id,
        took_place=report.took_place,
        rating=report.rating,
        wants_to_continue=report.wants_to_continue,
        outcome=report.outcome,
        updated_at=report.updated_at.isoformat(),
        private_notes=report.private_notes,
    )


def outcomes_out(view: outcomes.MeetingOutcomes) -> OutcomesOut:
    shared = [
        report_out(r)
        for _, r in sorted(view.reports.items())
        if r.participant_id != view.reader_participant_id
    ]
    mine = report_out(view.mine)
    return OutcomesOut(
        meeting_id=view.meeting_id,
        participant_id=view.reader_participant_id,
        took_place_suggested=view.took_place_suggested,
        mine=mine,
        theirs=report_out(view.theirs),
        reports=[r for r in ([mine] if mine else []) + shared if r is not None],
        confirmed=view.confirmed,
        confirmed_outcome=view.confirmed_outcome,
    )


def comment_out(comment: tasks.CommentView) -> CommentOut:
    return CommentOut(
        id=comment.id,
        author_id=comment.author_id,
        author=comment.author,
        text=comment.text,
        created_at=comment.created_at.isoformat(),
    )


def task_out(task: tasks.TaskView) -> TaskOut:
    return TaskOut(
        id=task.id,
        meeting_id=task.meeting_id,
        title=task.title,
        due_on=task.due_on.isoformat() if task.due_on else None,
        done=task.done,
        done_at=task.done_at.isoformat() if task.done_at else None,
        owner_id=task.owner_id,
        owner=task.owner,
        created_by_id=task.created_by_id,
        with_=task.other,
        comments=[comment_out(c) for c in task.comments],
    )


async def announce(
    request: Request[Any, Any, Any], db: AsyncSession, task: tasks.TaskView, action: str, **extra: Any
) -> None:
    """Commit, then tell the task's two parties (and the organisers) on the event channel."""
    await db.commit()  # listeners that reload must find the change
    hub = getattr(request.app.state, "live", None)
    if hub is None:
        return
    from clockevents.live.messages import event_channel

    payload = {
        "action": action,
        "task": msgspec.to_builtins(task_out(task)),
        **extra,
        "audience": {"participants": list(task.parties)},
    }
    try:
        await hub.post(event_channel(task.event_id), task.event_id, "followup", payload)
    except Exception:  # the change is saved; a lost live message must not turn it into an error
        log.exception("follow-up task %s: live message not posted", task.id)


# -- outcomes ---------------------------------------------------------------------------------


@get(
    "/meetings/{meeting_id:int}/outcome",
    operation_id="getMeetingOutcome",
    tags=TAGS,
    guards=[requires_login],
)
async def get_outcome(meeting_id: int, db: AsyncSession, user: User) -> OutcomesOut:
    """Both parties' reports on a finished meeting: the caller's in full, the other's shared answers."""
    return outcomes_out(await outcomes.read_outcomes(db, meeting_id, user))


@post(
    "/meetings/{meeting_id:int}/outcome",
    operation_id="recordMeetingOutcome",
    tags=TAGS,
    guards=[requires_login],
    status_code=HTTP_200_OK,
)
async def record_outcome(
    request: Request[Any, Any, Any],
    meeting_id: int,
    data: JSONBody[dict[str, Any]],
    db: AsyncSession,
    user: User,
) -> OutcomesOut:
    """Record or update the caller's report (took_place, rating 1-5, wants_to_continue, outcome, private_notes)."""
    view = await outcomes.record_outcome(db, meeting_id, user, data)
    await announce_outcome(request, db, meeting_id)
    return outcomes_out(view)


async def announce_outcome(request: Request[Any, Any, Any], db: AsyncSession, meeting_id: int) -> None:
    """Commit, then tell the organisers' live report that an outcome came in (no answers in it)."""
    await db.commit()
    hub = getattr(request.app.state, "live", None)
    if hub is None:
        return
    from clockevents.agenda.models import Meeting
    from clockevents.live.messages import event_channel

    meeting = await db.get(Meeting, meeting_id)
    if meeting is None:
        return
    payload = {"meeting_id": meeting_id, "audience": {"organisers": True}}
    try:
        await hub.post(event_channel(meeting.event_id), meeting.event_id, "outcome", payload)
    except Exception:  # the report is saved; a lost live message must not turn it into an error
        log.exception("outcome of meeting %s: live message not posted", meeting_id)


# -- tasks ------------------------------------------------------------------------------------


@get(
    "/events/{slug:str}/followups",
    operation_id="listFollowUps",
    tags=TAGS,
    guards=[requires_login],
)
async def list_followups(slug: str, db: AsyncSession, user: User) -> list[TaskOut]:
    """The caller's follow-up tasks in the event: open ones first, by due date."""
    event = await get_visible_event(db, slug, user)
    return [task_out(t) for t in await tasks.list_tasks(db, event, user)]


@post(
    "/events/{slug:str}/followups",
    operation_id="createFollowUp",
    tags=TAGS,
    guards=[requires_login],
    status_code=HTTP_201_CREATED,
)
async def create_followup(
    slug: str, data: JSONBody[dict[str, Any]], request: Request[Any, Any, Any], db: AsyncSession, user: User
) -> TaskOut:
    """Add a task to one of the caller's meetings: meeting_id, title, due_on (YYYY-MM-DD), owner_id."""
    event = await get_visible_event(db, slug, user)
    task = await tasks.create_task(db, event, user, data)
    await announce(request, db, task, "created")
    return task_out(task)


@post(
    "/followups/{task_id:int}/complete",
    operation_id="completeFollowUp",
    tags=TAGS,
    guards=[requires_login],
    status_code=HTTP_200_OK,
)
async def complete_followup(
    task_id: int, request: Request[Any, Any, Any], db: AsyncSession, user: User
) -> TaskOut:
    """Mark the task done (either party of its meeting)."""
    task = await tasks.complete_task(db, task_id, user)
    await announce(request, db, task, "completed")
    return task_out(task)


@post(
    "/followups/{task_id:int}/comments",
    operation_id="commentFollowUp",
    tags=TAGS,
    guards=[requires_login],
    status_code=HTTP_201_CREATED,
)
async def comment_followup(
    task_id: int,
    data: JSONBody[dict[str, Any]],
    request: Request[Any, Any, Any],
    db: AsyncSession,
    user: User,
) -> CommentOut:
    """Comment on the task (either party of its meeting)."""
    task, comment = await tasks.add_comment(db, task_id, user, data)
    out = comment_out(comment)
    await announce(request, db, task, "commented", comment=msgspec.to_builtins(out))
    return out


routes = [get_outcome, record_outcome, list_followups, create_followup, complete_followup, comment_followup]
