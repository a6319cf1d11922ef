"""Attendance from room presence: who came, when, for how long, and whether the meeting was held.

A meeting counts as held when both parties were in the room together for at least five minutes.
A connection still open counts until ``now`` (or the end of the slot, when that is earlier and
the slot is over).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from clockevents.agenda.models import Meeting
from clockevents.db import utcnow
from clockevents.events.models import Slot
from clockevents.live.models import Attendance

HELD_AFTER = timedelta(minutes=5)

Interval = tuple[datetime, datetime]


@dataclass(frozen=True)
class AttendanceSummary:
    meeting_id: int
    first_join: dict[int, datetime] = field(default_factory=dict)  # participant id -> first arrival
    present_seconds: dict[int, float] = field(default_factory=dict)  # participant id -> time in room
    together_seconds: float = 0.0

    @property
    def held(self) -> bool:
        return self.together_seconds >= HELD_AFTER.total_seconds()

    def joined(self, participant_id: int) -> bool:
        return participant_id in self.first_join


def merge(intervals: Iterable[Interval]) -> list[Interval]:
    """Union of intervals, sorted, overlapping ones joined."""
    merged: list[Interval] = []
    for start, end in sorted(i for i in intervals if i[1] > i[0]):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def overlap_seconds(a: list[Interval], b: list[Interval]) -> float:
    """Total length of the intersection of two merged interval lists."""
    i = j = 0
    total = 0.0
    while i < len(a) and j < len(b):
        start = max(a[i][0], b[j][0])
        end = min(a[i][1], b[j][1])
        if end > start:
            total += (end - start).total_seconds()
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return total


def summarise(
    meeting: Meeting, rows: Iterable[Attendance], now: datetime, slot_end: datetime | None
) -> AttendanceSummary:
    by_party: dict[int, list[Interval]] = defaultdict(list)
    first: dict[int, datetime] = {}
    for row in rows:
        if row.participant_id not in (meeting.a_id, meeting.b_id):
            continue
        end = row.left_at
        if end is None:
            end = min(now, slot_end) if slot_end is not None and slot_end < now else now
        by_party[row.participant_id].append((row.joined_at, end))
        if row.participant_id not in first or row.joined_at < first[row.participant_id]:
            first[row.participant_id] = row.joined_at
    merged = {pid: merge(spans) for pid, spans in by_party.items()}
    present = {pid: sum((e - s).total_seconds() for s, e in spans) for pid, spans in merged.items()}
    together = overlap_seconds(merged.get(meeting.a_id, []), merged.get(meeting.b_id, []))
    return AttendanceSummary(meeting.id, first, present, together)


async def summaries(
    db: AsyncSession, meeting_ids: Iterable[int], now: datetime | None = None
) -> dict[int, AttendanceSummary]:
    """Attendance of each meeting in ``meeting_ids`` (meetings nobody entered included)."""
    ids = sorted(set(meeting_ids))
    if not ids:
        return {}
    now = now or utcnow()
    result: dict[int, AttendanceSummary] = {}
    rows_by_meeting: dict[int, list[Attendance]] = defaultdict(list)
    for chunk_start in range(0, len(ids), 500):
        chunk = ids[chunk_start : chunk_start + 500]
        meetings = (
            await db.execute(
                select(Meeting, Slot.ends_at)
                .outerjoin(Slot, Slot.id == Meeting.slot_id)
                .where(Meeting.id.in_(chunk))
            )
        ).all()
        for row in (await db.scalars(select(Attendance).where(Attendance.meeting_id.in_(chunk)))).all():
            rows_by_meeting[row.meeting_id].append(row)
        for meeting, slot_end in meetings:
            result[meeting.id] = summarise(meeting, rows_by_meeting.get(meeting.id, []), now, slot_end)
    return result


async def summary(db: AsyncSession, meeting_id: int, now: datetime | None = None) -> AttendanceSummary | None:
    return (await summaries(db, [meeting_id], now)).get(meeting_id)
