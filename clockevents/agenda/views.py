"""Read-only agenda views: a participant's days, the organiser's grid, the table plan, CSV export."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date, datetime
from itertools import groupby

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from clockevents.accounts.models import User
from clockevents.agenda.meetings import MeetingView, list_meetings, zone_of
from clockevents.agenda.models import Meeting
from clockevents.agenda.problem import LIVE_STATUSES, Person
from clockevents.errors import NotFound
from clockevents.events.models import Cluster, Event, Slot
from clockevents.events.permissions import Access, require_cluster, require_staff
from clockevents.matchmaking.models import MeetingRequest
from clockevents.registration.models import Organisation, Participant

CSV_COLUMNS = (
    "meeting_id",
    "uid",
    "status",
    "day",
    "start",
    "end",
    "start_utc",
    "table",
    "a_name",
    "a_organisation",
    "a_cluster",
    "b_name",
    "b_organisation",
    "b_cluster",
    "request_message",
    "sequence",
)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def by_day(meetings: list[MeetingView]) -> list[tuple[date | None, list[MeetingView]]]:
    """Group time-ordered meetings by their day in the event's zone."""
    return [(day, list(items)) for day, items in groupby(meetings, key=lambda m: m.day)]


def for_participant(views: list[MeetingView], participant_id: int) -> list[MeetingView]:
    """Keep the participant's meetings, each with ``partner`` set to the other side."""
    mine = []
    for view in views:
        if participant_id in (view.a.id, view.b.id):
            view.partner = view.b if view.a.id == participant_id else view.a
            mine.append(view)
    return mine


async def participant_agenda(
    db: AsyncSession, event: Event, user: User | None, participant_id: int
) -> tuple[Participant, Person, list[MeetingView]]:
    """Any participant's meetings (cancelled ones included) for staff covering their cluster."""
    participant = await db.get(Participant, participant_id)
    if participant is None or participant.event_id != event.id:
        raise NotFound("No such participant in this event.")
    await require_cluster(db, event, user, participant.cluster_id)
    views = await list_meetings(db, event, user, statuses=(*LIVE_STATUSES, "cancelled"))
    mine = for_participant(views, participant.id)
    organisation = await db.get(Organisation, participant.organisation_id)
    owner = await db.get(User, participant.user_id) if participant.user_id is not None else None
    person = Person(
        participant.id,
        owner.name if owner else f"Participant {participant.id}",
        organisation.name if organisation else "",
        participant.user_id,
    )
    return participant, person, mine


@dataclass
class Grid:
    """Slots by tables: ``cells[(slot_id, table)]`` is the live meeting there."""

    slots: list[Slot]
    tables: list[int]
    cells: dict[tuple[int, int], MeetingView] = field(default_factory=dict)
    untabled: dict[int, list[MeetingView]] = field(default_factory=dict)  # slot id -> meetings

    def rows(self) -> list[tuple[Slot, list[MeetingView | None]]]:
        return [(slot, [self.cells.get((slot.id, t)) for t in self.tables]) for slot in self.slots]

    def plan(self) -> list[tuple[Slot, list[MeetingView]]]:
        """Per slot, the tables in use in table order (what the printed plan lists)."""
        result = []
        for slot in self.slots:
            used = [self.cells[(slot.id, t)] for t in self.tables if (slot.id, t) in self.cells]
            if used:
                result.append((slot, used))
        return result


async def meeting_grid(db: AsyncSession, event: Event, user: User | None) -> tuple[Access, Grid]:
    """The live meetings laid out by slot and table (cluster partners: their cluster's only)."""
    access = await require_staff(db, event, user)
    slots = list(await db.scalars(select(Slot).where(Slot.event_id == event.id).order_by(Slot.index)))
    views = await list_meetings(db, event, user, statuses=LIVE_STATUSES)
    top = max([event.tables, *(v.table or 0 for v in views)])
    grid = Grid(slots=slots, tables=list(range(1, top + 1)))
    by_index = {s.index: s.id for s in slots}
    for view in views:
        slot_id = by_index.get(view.slot_index) if view.slot_index is not None else None
        if slot_id is None:
            continue
        if view.table is None:
            grid.untabled.setdefault(slot_id, []).append(view)
        else:
            grid.cells[(slot_id, view.table)] = view
    # Show only the tables in use (the rest are noise on a 40-table grid), at least one column.
    used = sorted({t for _, t in grid.cells})
    grid.tables = used or grid.tables[:1]
    return access, grid


def safe_cell(value: object) -> str:
    """A CSV cell a spreadsheet will not run as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


async def export_csv(db: AsyncSession, event: Event, user: User | None) -> str:
    """Every meeting of the event as CSV (cluster partners: those touching their cluster).

    One query with the names joined in, and each slot's local times computed once, so a
    10,000-meeting export stays well under a second.
    """
    access = await require_staff(db, event, user)
    pa, pb = aliased(Participant), aliased(Participant)
    ua, ub = aliased(User), aliased(User)
    oa, ob = aliased(Organisation), aliased(Organisation)
    ca, cb = aliased(Cluster), aliased(Cluster)
    query = (
        select(
            Meeting.id,
            Meeting.uid,
            Meeting.status,
            Meeting.slot_id,
            Meeting.table,
            Meeting.sequence,
            Meeting.a_id,
            Meeting.b_id,
            ua.name,
            oa.name,
            ca.name,
            ub.name,
            ob.name,
            cb.name,
            MeetingRequest.message,
            pa.cluster_id,
            pb.cluster_id,
        )
        .join(pa, pa.id == Meeting.a_id)
        .join(pb, pb.id == Meeting.b_id)
        .join(oa, oa.id == pa.organisation_id)
        .join(ob, ob.id == pb.organisation_id)
        .outerjoin(ua, ua.id == pa.user_id)
        .outerjoin(ub, ub.id == pb.user_id)
        .outerjoin(ca, ca.id == pa.cluster_id)
        .outerjoin(cb, cb.id == pb.cluster_id)
        .outerjoin(MeetingRequest, MeetingRequest.id == Meeting.request_id)
        .outerjoin(Slot, Slot.id == Meeting.slot_id)
        .where(Meeting.event_id == event.id)
        .order_by(Slot.index, Meeting.table, Meeting.id)
    )
    if not access.is_organiser:
        query = query.where((pa.cluster_id == access.cluster_id) | (pb.cluster_id == access.cluster_id))
    slots = await db.execute(select(Slot.id, Slot.starts_at, Slot.ends_at).where(Slot.event_id == event.id))
    zone = zone_of(event.timezone)
    times: dict[int, tuple[str, str, str, str]] = {}
    for slot_id, starts_at, ends_at in slots.all():
        start, end = starts_at.astimezone(zone), ends_at.astimezone(zone)
        utc = _utc(starts_at)
        times[slot_id] = (start.date().isoformat(), start.strftime("%H:%M"), end.strftime("%H:%M"), utc)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    blank = ("", "", "", "")
    for row in (await db.execute(query)).all():
        (mid, uid, status, slot_id, table, sequence, a_id, b_id) = row[:8]
        a_name, a_org, a_cluster, b_name, b_org, b_cluster, message = row[8:15]
        day, start, end, utc = times.get(slot_id, blank) if slot_id is not None else blank
        writer.writerow(
            [
                mid,
                safe_cell(uid),
                status,
                day,
                start,
                end,
                utc,
                "" if table is None else table,
                safe_cell(a_name or f"Participant {a_id}"),
                safe_cell(a_org),
                safe_cell(a_cluster),
                safe_cell(b_name or f"Participant {b_id}"),
                safe_cell(b_org),
                safe_cell(b_cluster),
                safe_cell(message),
                sequence,
            ]
        )
    return out.getvalue()


def _utc(value: datetime) -> str:
    return value.astimezone(zone_of("UTC")).strftime("%Y-%m-%dT%H:%M:%SZ")
