"""Agenda API: build runs (start, watch, cancel, publish) and the meetings of an event."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import get, post
from litestar.datastructures import State
from litestar.params import JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED
from sqlalchemy.ext.asyncio import AsyncSession

from clockevents.accounts.models import User
from clockevents.agenda import runs
from clockevents.agenda.meetings import MeetingView, list_meetings
from clockevents.agenda.models import ScheduleRun
from clockevents.agenda.problem import Person
from clockevents.agenda.publish import compute_changes, publish_run
from clockevents.events.models import Event
from clockevents.events.services import get_event
from web.auth import requires_login

TAGS = ["agenda"]


class RunIn(msgspec.Struct):
    time_limit: float | None = None  # seconds, 1..600; 30 when not given
    break_spread: int | None = None  # fairness: most minus fewest breaks per participant
    free: list[int] | None = None  # published meetings the solver may move


class RunCreated(msgspec.Struct):
    id: int
    status: str


class RunOut(msgspec.Struct):
    id: int
    event: str
    status: str
    time_limit: float
    progress: dict[str, Any]
    statistics: dict[str, Any]
    changes: dict[str, Any]
    error: str
    created_at: str
    finished_at: str | None
    published_at: str | None


class PersonOut(msgspec.Struct):
    participant_id: int
    name: str
    organisation: str


class MeetingOut(msgspec.Struct):
    id: int
    uid: str
    status: str
    table: int | None
    sequence: int
    slot: int | None
    timezone: str
    starts_at: str | None  # in the event's zone, ISO 8601 with offset
    ends_at: str | None
    starts_at_utc: str | None
    ends_at_utc: str | None
    participants: list[PersonOut]
    partner: PersonOut | None = None  # the other side, when the caller is in the meeting


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def person_out(person: Person) -> PersonOut:
    return PersonOut(participant_id=person.id, name=person.name, organisation=person.organisation)


def meeting_out(view: MeetingView) -> MeetingOut:
    return MeetingOut(
        id=view.id,
        uid=view.uid,
        status=view.status,
        table=view.table,
        sequence=view.sequence,
        slot=view.slot_index,
        timezone=view.zone,
        starts_at=_iso(view.local(view.starts_at)),
        ends_at=_iso(view.local(view.ends_at)),
        starts_at_utc=_iso(view.local(view.starts_at, "UTC")),
        ends_at_utc=_iso(view.local(view.ends_at, "UTC")),
        participants=[person_out(view.a), person_out(view.b)],
        partner=person_out(view.partner) if view.partner else None,
    )


async def run_out(db: AsyncSession, run: ScheduleRun, event: Event) -> RunOut:
    changes = await compute_changes(db, run, event) if run.status == "done" else {}
    return RunOut(
        id=run.id,
        event=event.slug,
        status=run.status,
        time_limit=run.time_limit,
        progress={k: v for k, v in (run.progress or {}).items() if k != "heartbeat"},
        statistics=run.statistics or {},
        changes=changes,
        error=run.error,
        created_at=run.created_at.isoformat(),
        finished_at=_iso(run.finished_at),
        published_at=_iso(run.published_at),
    )


@post(
    "/events/{slug:str}/schedule-runs",
    operation_id="startScheduleRun",
    tags=TAGS,
    guards=[requires_login],
    status_code=HTTP_201_CREATED,
)
async def start_schedule_run(
    slug: str, data: JSONBody[RunIn], db: AsyncSession, user: User, state: State
) -> RunCreated:
    """Build the agenda in the background (owner and organisers); one build per event at a time."""
    event = await get_event(db, slug)
    run = await runs.start_run(
        state.session_factory,
        event,
        user,
        time_limit=data.time_limit,
        break_spread=data.break_spread,
        free=data.free,
    )
    return RunCreated(id=run.id, status=run.status)


@get("/events/{slug:str}/schedule-runs", operation_id="listScheduleRuns", tags=TAGS, guards=[requires_login])
async def list_schedule_runs(slug: str, db: AsyncSession, user: User) -> list[RunCreated]:
    """The event's latest builds, newest first (owner and organisers)."""
    event = await get_event(db, slug)
    return [RunCreated(id=r.id, status=r.status) for r in await runs.list_runs(db, event, user)]


@get("/schedule-runs/{run_id:int}", operation_id="getScheduleRun", tags=TAGS, guards=[requires_login])
async def get_schedule_run(run_id: int, db: AsyncSession, user: User) -> RunOut:
    """A build's status, progress, statistics and, for a draft, what publishing would change."""
    run, event = await runs.get_run(db, run_id, user)
    return await run_out(db, run, event)


@post(
    "/schedule-runs/{run_id:int}/publish",
    operation_id="publishScheduleRun",
    tags=TAGS,
    guards=[requires_login],
    status_code=HTTP_200_OK,
)
async def publish_schedule_run(run_id: int, db: AsyncSession, user: User) -> RunOut:
    """Publish a finished draft in one transaction and notify everyone whose agenda changed."""
    run = await publish_run(db, run_id, user)
    _, event = await runs.get_run(db, run.id, user)
    return await run_out(db, run, event)


@post(
    "/schedule-runs/{run_id:int}/cancel",
    operation_id="cancelScheduleRun",
    tags=TAGS,
    guards=[requires_login],
    status_code=HTTP_200_OK,
)
async def cancel_schedule_run(run_id: int, db: AsyncSession, user: User) -> RunOut:
    """Stop a queued or running build."""
    run = await runs.cancel_run(db, run_id, user)
    _, event = await runs.get_run(db, run.id, user)
    return await run_out(db, run, event)


@get("/events/{slug:str}/meetings", operation_id="listEventMeetings", tags=TAGS, guards=[requires_login])
async def list_event_meetings(slug: str, db: AsyncSession, user: User) -> list[MeetingOut]:
    """The caller's meetings (organisers: all; cluster partners: their cluster's), in time order."""
    event = await get_event(db, slug)
    return [meeting_out(v) for v in await list_meetings(db, event, user)]


routes = [
    start_schedule_run,
    list_schedule_runs,
    get_schedule_run,
    publish_schedule_run,
    cancel_schedule_run,
    list_event_meetings,
]
