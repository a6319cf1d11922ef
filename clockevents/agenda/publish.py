"""Compare a draft run with the published agenda, and publish it in one transaction."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import uuid4
from zoneinfo import ZoneInfo

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from clockevents.accounts.models import User
from clockevents.agenda.models import Meeting, MeetingSeat, ScheduleRun, TableBooking
from clockevents.agenda.problem import Built, built_from_stored, parse_id
from clockevents.agenda.runs import get_run
from clockevents.db import utcnow
from clockevents.errors import Conflict
from clockevents.events.models import Event, Slot
from clockevents.live.workshops import blocked_slots
from clockevents.matchmaking.models import MeetingRequest
from clockevents.notify.mail import queue_agenda_mails, queue_meeting_mails
from clockevents.notify.services import notify
from scheduler.tables import assign_tables

STALE = "The agenda changed since this build ({}); build it again before publishing."


def new_uid() -> str:
    return f"meeting-{uuid4()}@clockevents"


@dataclass
class Change:
    """What publishing does to one meeting of the problem."""

    meeting: str  # problem id: "m12" or "r5"
    kind: str  # "added" | "moved" | "removed" | "unchanged" | "unplaced" (a request left out again)
    a_id: int
    b_id: int
    row: Meeting | None  # the meeting row it updates, if any
    old_slot_id: int | None
    new_slot_id: int | None


async def _tables_of_others(db: AsyncSession, event: Event, mine: list[int]) -> dict[int, set[int]]:
    """Tables already booked per slot by meetings outside the problem (never reassigned)."""
    rows = await db.execute(
        select(TableBooking.slot_id, TableBooking.table)
        .join(Meeting, Meeting.id == TableBooking.meeting_id)
        .where(Meeting.event_id == event.id, Meeting.id.not_in(mine or [0]))
    )
    taken: dict[int, set[int]] = {}
    for slot_id, table in rows.all():
        taken.setdefault(slot_id, set()).add(table)
    return taken


def _suggested_tables(built: Built, assignments: dict[str, int]) -> dict[str, int]:
    """The solver package's table plan, 1-based: it keeps people at the table they sat at."""
    position = built.slot_position
    per_slot: dict[int, int] = {}
    for slot_id in assignments.values():
        per_slot[slot_id] = per_slot.get(slot_id, 0) + 1
    count = built.problem.capacity or max(per_slot.values(), default=1)
    try:
        plan = assign_tables(built.problem, {m: position[s] for m, s in assignments.items()}, count)
    except ValueError:  # more meetings than tables in a slot (tables cut after publishing)
        return {}
    return {m: t + 1 for m, t in plan.items()}


def table_numbers(
    built: Built,
    assignments: dict[str, int],
    keep: dict[str, int],
    taken: dict[int, set[int]] | None = None,
) -> dict[str, int]:
    """Table (or virtual room) number, 1-based, for every placed meeting, unique per slot.

    A meeting that stays in its slot keeps its table; the others take the solver package's
    suggestion when it is free, else the lowest free number.
    """
    suggested = _suggested_tables(built, assignments)
    by_slot: dict[int, list[str]] = {}
    for mid, slot_id in sorted(assignments.items()):
        by_slot.setdefault(slot_id, []).append(mid)
    result: dict[str, int] = {}
    for slot_id, mids in by_slot.items():
        used = set((taken or {}).get(slot_id, set()))
        for preferred in (keep, suggested):
            for mid in mids:
                table = preferred.get(mid)
                if mid not in result and table is not None and table not in used:
                    result[mid] = table
                    used.add(table)
        number = 1
        for mid in mids:
            if mid in result:
                continue
            while number in used:
                number += 1
            result[mid] = number
            used.add(number)
    return result


async def _plan(db: AsyncSession, run: ScheduleRun) -> tuple[Built, list[Change]]:
    """Line up every meeting of the run's problem with its row and its new slot."""
    built = await built_from_stored(db, run.problem)
    assigned = {a["meeting"]: a["slot"] for a in (run.solution or {}).get("assignments", [])}
    ids = {kind: [] for kind in "mr"}  # type: dict[str, list[int]]
    for mid in built.pairs:
        kind, number = parse_id(mid)
        ids[kind].append(number)
    rows = {m.id: m for m in await db.scalars(select(Meeting).where(Meeting.id.in_(ids["m"])))}
    by_request = {
        m.request_id: m for m in await db.scalars(select(Meeting).where(Meeting.request_id.in_(ids["r"])))
    }
    changes = []
    for mid, (a_id, b_id) in built.pairs.items():
        kind, number = parse_id(mid)
        position = assigned.get(mid)
        new_slot = built.slot_ids[position] if position is not None else None
        row = rows.get(number) if kind == "m" else by_request.get(number)
        old_slot = row.slot_id if kind == "m" and row is not None and row.status == "scheduled" else None
        if kind == "r":
            change = "added" if new_slot is not None else "unplaced"
        elif new_slot is None:
            change = "removed" if old_slot is not None else "unchanged"
        else:
            change = "unchanged" if new_slot == old_slot else "moved"
        changes.append(Change(mid, change, a_id, b_id, row, old_slot, new_slot))
    return built, changes


async def compute_changes(db: AsyncSession, run: ScheduleRun, event: Event) -> dict[str, Any]:
    """Per meeting (added / moved / removed) and per participant, what publishing would change."""
    if not run.solution:
        return {"summary": {}, "meetings": [], "participants": []}
    built, changes = await _plan(db, run)
    slots = {s.id: s for s in await db.scalars(select(Slot).where(Slot.event_id == event.id))}
    zone = ZoneInfo(event.timezone)

    def when(slot_id: int | None) -> dict[str, Any] | None:
        slot = slots.get(slot_id) if slot_id is not None else None
        if slot is None:
            return None
        local = slot.starts_at.astimezone(zone)
        return {
            "index": slot.index,
            "starts_at": local.isoformat(),
            "label": local.strftime("%a %d %b, %H:%M"),
        }

    summary = {"added": 0, "moved": 0, "removed": 0, "unchanged": 0}
    touched: dict[int, dict[str, int]] = {}
    meetings = []
    for change in changes:
        for who in (change.a_id, change.b_id):
            tally = touched.setdefault(who, {"added": 0, "moved": 0, "removed": 0})
            if change.kind in tally:
                tally[change.kind] += 1
        if change.kind not in summary:
            continue  # a request still left out changes nobody's agenda
        summary[change.kind] += 1
        if change.kind == "unchanged":
            continue
        meetings.append(
            {
                "meeting": change.meeting,
                "meeting_id": change.row.id if change.row is not None else None,
                "change": change.kind,
                "a": built.person(change.a_id).label,
                "b": built.person(change.b_id).label,
                "before": when(change.old_slot_id),
                "after": when(change.new_slot_id),
            }
        )
    participants = sorted(
        (
            {
                "participant_id": who,
                "name": built.person(who).label,
                "changed": any(tally.values()),
                **tally,
            }
            for who, tally in touched.items()
        ),
        key=lambda p: (not p["changed"], p["name"].lower()),
    )
    summary["participants_changed"] = sum(1 for p in participants if p["changed"])
    return {"summary": summary, "meetings": meetings, "participants": participants}


async def _check_current(db: AsyncSession, run: ScheduleRun, built: Built, changes: list[Change]) -> None:
    """Refuse to publish a draft whose inputs moved on (a later publish, cancelled meetings...)."""
    later = await db.scalar(
        select(ScheduleRun.id).where(
            ScheduleRun.event_id == run.event_id,
            ScheduleRun.id != run.id,
            ScheduleRun.status == "published",
            ScheduleRun.published_at > run.created_at,
        )
    )
    if later is not None:
        raise Conflict(STALE.format("another build was published since"))
    fixed = {m.id: m.fixed_slot for m in built.problem.meetings}
    request_ids = [parse_id(c.meeting)[1] for c in changes if c.meeting.startswith("r")]
    accepted = set(
        await db.scalars(
            select(MeetingRequest.id).where(
                MeetingRequest.id.in_(request_ids), MeetingRequest.status == "accepted"
            )
        )
    )
    for change in changes:
        if change.meeting.startswith("m"):
            row = change.row
            if row is None or row.status != "scheduled":
                raise Conflict(STALE.format("a meeting in it was cancelled"))
            position = fixed[change.meeting]
            if position is not None and row.slot_id != built.slot_ids[position]:
                raise Conflict(STALE.format("a meeting in it was moved"))
        elif change.kind == "added":
            if parse_id(change.meeting)[1] not in accepted:
                raise Conflict(STALE.format("a request in it is no longer accepted"))
            if change.row is not None and change.row.status != "cancelled":
                raise Conflict(STALE.format("a request in it was booked meanwhile"))
    # Workshop registrations made after the build: nobody may be placed in a workshop they attend.
    placed = [c for c in changes if c.kind in ("added", "moved") and c.new_slot_id is not None]
    if placed:
        blocked = await blocked_slots(db, [p for c in placed for p in (c.a_id, c.b_id)])
        for change in placed:
            if any(change.new_slot_id in blocked.get(p, set()) for p in (change.a_id, change.b_id)):
                raise Conflict(STALE.format("someone in it registered for a workshop at that time"))


async def publish_run(
    db: AsyncSession, run_id: int, actor: User | None, *, check_access: bool = True
) -> ScheduleRun:
    """Write the draft's meetings, seats and tables, mark it published and notify, all or nothing.

    The caller owns the transaction: on any error (Conflict included) nothing is written once it
    rolls back. ``check_access=False`` is for trusted callers (the CLI).
    """
    if check_access:
        run, event = await get_run(db, run_id, actor)
    else:
        run = await db.get(ScheduleRun, run_id)  # type: ignore[assignment]
        if run is None:
            raise Conflict("No such agenda build.")
        event = await db.get(Event, run.event_id)  # type: ignore[assignment]
    # One publish per event at a time (PostgreSQL row lock; SQLite serialises writers anyway),
    # and claim the run itself so a double click cannot publish it twice.
    await db.execute(select(Event.id).where(Event.id == run.event_id).with_for_update())
    now = utcnow()
    claimed = await db.execute(
        update(ScheduleRun)
        .where(ScheduleRun.id == run.id, ScheduleRun.status == "done")
        .values(status="published", published_at=now)
        .execution_options(synchronize_session=False)
    )
    if not claimed.rowcount:  # type: ignore[attr-defined]
        await db.refresh(run)
        raise Conflict(f"This build is {run.status}; only a finished draft can be published.")
    await db.refresh(run)
    built, changes = await _plan(db, run)
    await _check_current(db, run, built, changes)
    assignments = {c.meeting: c.new_slot_id for c in changes if c.new_slot_id is not None}
    keep = {
        c.meeting: c.row.table
        for c in changes
        if c.kind == "unchanged" and c.row is not None and c.row.table is not None
    }
    others = await _tables_of_others(db, event, [c.row.id for c in changes if c.row is not None])
    tables = table_numbers(built, assignments, keep, others)
    touched: set[int] = set()
    rewrite: list[Change] = []
    for c in changes:
        placed = c.new_slot_id is not None
        if c.kind == "unplaced" or (c.kind == "unchanged" and not placed):
            continue
        if c.kind == "unchanged" and c.row is not None and c.row.table == tables.get(c.meeting):
            continue
        if c.kind != "unchanged" or (c.row is not None and c.row.table is not None):
            touched.update((c.a_id, c.b_id))
        rewrite.append(c)
    # Free the old seats and tables first: explicit statements run now, before any insert.
    old_ids = [c.row.id for c in rewrite if c.row is not None]
    if old_ids:
        await db.execute(delete(TableBooking).where(TableBooking.meeting_id.in_(old_ids)))
        await db.execute(delete(MeetingSeat).where(MeetingSeat.meeting_id.in_(old_ids)))
    requests = {
        r.id: r
        for r in await db.scalars(
            select(MeetingRequest).where(
                MeetingRequest.id.in_([parse_id(c.meeting)[1] for c in rewrite if c.meeting[0] == "r"])
            )
        )
    }
    invitations: list[tuple[Meeting, str]] = []  # (meeting, mail kind) for every calendar change
    try:
        for c in rewrite:
            meeting = c.row
            if c.new_slot_id is None:
                assert meeting is not None
                meeting.status = "cancelled"
                meeting.cancelled_at = now
                meeting.cancel_reason = "Removed from the agenda when it was rebuilt."
                meeting.sequence += 1
                invitations.append((meeting, "cancelled"))
                continue
            sequence = meeting.sequence if meeting is not None else None
            if meeting is None:
                request = requests[parse_id(c.meeting)[1]]
                meeting = Meeting(
                    event_id=event.id,
                    request_id=request.id,
                    a_id=c.a_id,
                    b_id=c.b_id,
                    weight=request.priority,
                    uid=new_uid(),
                    sequence=0,
                )
                db.add(meeting)
            elif c.kind != "unchanged" or meeting.status != "scheduled":
                meeting.sequence += 1  # moved or revived: calendar clients must update
            elif meeting.table is not None and meeting.table != tables[c.meeting]:
                meeting.sequence += 1  # a new table is a new place
            meeting.status = "scheduled"
            meeting.slot_id = c.new_slot_id
            meeting.table = tables[c.meeting]
            meeting.published_at = now
            meeting.cancelled_at = None
            meeting.cancel_reason = ""
            if sequence is None or meeting.sequence != sequence:  # new, or a change calendars must see
                invitations.append((meeting, "scheduled" if c.kind == "added" else "moved"))
            await db.flush()
            db.add_all(
                [
                    MeetingSeat(meeting_id=meeting.id, participant_id=c.a_id, slot_id=c.new_slot_id),
                    MeetingSeat(meeting_id=meeting.id, participant_id=c.b_id, slot_id=c.new_slot_id),
                    TableBooking(meeting_id=meeting.id, slot_id=c.new_slot_id, table=tables[c.meeting]),
                ]
            )
        await db.flush()
    except IntegrityError as exc:
        raise Conflict(
            "A seat or table in this draft was taken meanwhile; nothing was published. Build again."
        ) from exc
    url = f"/events/{event.slug}/agenda"
    for who in sorted(touched):
        person = built.person(who)
        await notify(
            db, person.user_id, event.id, "agenda", f"Your agenda for {event.title} has changed.", url
        )
    await queue_agenda_mails(db, event.id, touched)
    # The iTIP invitations (REQUEST for new and changed meetings, CANCEL for removed ones) go
    # in this same transaction: the outbox rows commit or vanish with the agenda.
    await queue_meeting_mails(db, event, invitations)
    await db.flush()
    return run
