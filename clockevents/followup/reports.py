"""The impact report of an event: what its requests, meetings and follow-up came to.

What is counted, and how:

- Scope. Organisers see the whole event, or one cluster when they ask for it. A cluster
  partner always sees their own cluster, whatever they ask for. A request, meeting, outcome,
  task or survey answer is in a cluster's scope when either party of its meeting (or request)
  belongs to that cluster.
- Requests: every request in scope, then those accepted, declined, expired, pending and
  cancelled (``MeetingRequest.status``; a pending request past its expiry counts as expired,
  as the matchmaking service will mark it on its next look).
- Meetings: ``scheduled`` counts the meetings with status "scheduled" (a self-booking still
  waiting for an answer and a cancelled meeting are not; cancelled ones are counted apart).
  A scheduled meeting is **held** when the room's attendance says so (both parties together
  for five minutes, ``clockevents.live.attendance``) *or* when both parties reported that it
  took place. Either is enough: in-person and hybrid events have no room presence, a call
  can move to another tool, and two matching reports are as strong a sign as any; one party's
  word alone is not. A meeting not held whose slot is over is a **no-show**; one whose slot
  is still to come is **upcoming**.
- Ratings: the mean of every rating given (each party rates on its own), two decimals.
- Outcomes by kind: each party's report counts once under the kind it chose.
- Confirmed agreements: meetings whose two parties reported the same outcome, other than
  "none"; counted once per meeting, under that kind (the two reports are what confirms it,
  whether or not the meeting counts as held).
- Surveys: invitations sent, answered (used), and the answers per stage.
- Follow-up tasks: created, and of those done.

Breakdowns by cluster, participant type and country: a meeting-level figure (requests,
meetings, agreements, tasks) counts once in each group its parties belong to, so a meeting
between two clusters appears in both rows and the rows do not add up to the total. A
party-level figure (ratings, outcome reports, survey answers) counts in the reporting party's
group. The cluster-by-cluster matrices count each held meeting (and each confirmed agreement)
once, in the cell of its two parties' clusters, mirrored across the diagonal.

The report is built in a handful of queries whatever the event's size: participants,
requests, meetings, attendance, outcomes, surveys and tasks are each read once.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from clockevents.accounts.models import User
from clockevents.agenda.models import Meeting
from clockevents.db import utcnow
from clockevents.errors import PermissionDenied, ValidationFailed
from clockevents.events.models import PARTICIPANT_TYPES, Cluster, Event, Slot
from clockevents.events.permissions import require_staff
from clockevents.followup.models import (
    FollowUpTask,
    MeetingOutcome,
    SurveyInvitation,
)
from clockevents.followup.report_types import (
    DIMENSIONS,
    NO_CLUSTER,
    TYPE_LABELS,
    Group,
    Report,
    Tally,
)
from clockevents.live.attendance import summarise
from clockevents.live.models import Attendance
from clockevents.matchmaking.models import MeetingRequest
from clockevents.registration.models import Organisation, Participant


@dataclass(frozen=True)
class _Parties:
    """What ``summarise`` reads of a meeting."""

    id: int
    a_id: int
    b_id: int


@dataclass(frozen=True)
class _Person:
    cluster: str  # cluster id as text, "" for none
    type: str
    country: str

    def key(self, dimension: str) -> str:
        return {"cluster": self.cluster, "type": self.type, "country": self.country}[dimension]


class _Builder:
    """Adds each fact to the total and to the groups of the parties it belongs to."""

    def __init__(self, people: dict[int, _Person]) -> None:
        self.people = people
        self.total = Tally()
        self.groups: dict[str, dict[str, Tally]] = {d: {} for d in DIMENSIONS}
        self._pairs: dict[tuple[int, int], list[Tally]] = {}  # a pair meets and asks more than once

    def _tally(self, dimension: str, key: str) -> Tally:
        groups = self.groups[dimension]
        found = groups.get(key)
        if found is None:  # not setdefault: a Tally is too dear to build on every call
            found = groups[key] = Tally()
        return found

    def tallies_of_pair(self, a: int, b: int) -> list[Tally]:
        """The total, then each distinct group of either party (a meeting-level figure)."""
        pair = (a, b) if a < b else (b, a)
        cached = self._pairs.get(pair)
        if cached is not None:
            return cached
        found = [self.total]
        for dim in DIMENSIONS:
            keys = {self.people[p].key(dim) for p in (a, b) if p in self.people}
            found += [self._tally(dim, k) for k in sorted(keys)]
        self._pairs[pair] = found
        return found

    def tallies_of_party(self, p: int) -> list[Tally]:
        """The total, then the party's own groups (a party-level figure)."""
        person = self.people.get(p)
        if person is None:
            return [self.total]
        return [self.total] + [self._tally(d, person.key(d)) for d in DIMENSIONS]


async def _scope_cluster(
    db: AsyncSession, event: Event, user: User | None, cluster_id: int | None
) -> tuple[int | None, str | None, list[Cluster]]:
    access = await require_staff(db, event, user)
    clusters = list(
        await db.scalars(select(Cluster).where(Cluster.event_id == event.id).order_by(Cluster.position))
    )
    names = {c.id: c.name for c in clusters}
    if not access.is_organiser:
        cluster_id = access.cluster_id  # a partner cannot widen (or move) their view
        if cluster_id is None:
            raise PermissionDenied(
                "Cluster partners see their own cluster's report, and you have no cluster."
            )
    elif cluster_id is not None and cluster_id not in names:
        raise ValidationFailed({"cluster": "No such cluster in this event."})
    return cluster_id, names.get(cluster_id) if cluster_id is not None else None, clusters


class _Counting:
    """One report in the making: each source is read once and counted as it streams by."""

    def __init__(
        self, db: AsyncSession, event: Event, scope: int | None, clusters: list[Cluster], now: datetime
    ) -> None:
        self.db, self.event, self.scope, self.now = db, event, scope, now
        self.people: dict[int, _Person] = {}
        self.build = _Builder(self.people)
        self.meetings: dict[int, tuple[int, int, datetime | None]] = {}  # scheduled, in scope
        self.reports: dict[int, dict[int, tuple[bool, str]]] = {}  # meeting -> party -> (took place, kind)
        self.presence: dict[int, list[Any]] = defaultdict(list)
        self.labels = [c.name for c in clusters]
        self.index = {str(c.id): i for i, c in enumerate(clusters)}
        size = len(clusters) + 1  # a last row and column for participants without a cluster
        self.held_matrix = [[0] * size for _ in range(size)]
        self.agreement_matrix = [[0] * size for _ in range(size)]

    def in_scope(self, a: int, b: int) -> bool:
        if self.scope is None:
            return True
        mine = str(self.scope)
        return any(p in self.people and self.people[p].cluster == mine for p in (a, b))

    async def read_people(self) -> None:
        rows = await self.db.execute(
            select(Participant.id, Participant.cluster_id, Participant.participant_type, Organisation.country)
            .join(Organisation, Organisation.id == Participant.organisation_id)
            .where(Participant.event_id == self.event.id)
        )
        for pid, cid, ptype, country in rows:
            self.people[pid] = _Person("" if cid is None else str(cid), ptype, country)

    async def count_requests(self) -> None:
        rows = await self.db.execute(
            select(
                MeetingRequest.sender_id,
                MeetingRequest.receiver_id,
                MeetingRequest.status,
                MeetingRequest.expires_at,
            ).where(MeetingRequest.event_id == self.event.id)
        )
        for sender, receiver, status, expires_at in rows:
            if not self.in_scope(sender, receiver):
                continue
            if status == "pending" and expires_at is not None and expires_at <= self.now:
                status = "expired"  # the matchmaking service marks them lazily; a report only reads
            for t in self.build.tallies_of_pair(sender, receiver):
                t.requests["sent"] += 1
                t.requests[status] += 1

    async def read_meetings(self) -> None:
        rows = await self.db.execute(
            select(Meeting.id, Meeting.a_id, Meeting.b_id, Meeting.status, Slot.ends_at)
            .outerjoin(Slot, Slot.id == Meeting.slot_id)
            .where(Meeting.event_id == self.event.id, Meeting.status.in_(("scheduled", "cancelled")))
        )
        for mid, a, b, status, ends_at in rows:
            if not self.in_scope(a, b):
                continue
            if status == "cancelled":
                for t in self.build.tallies_of_pair(a, b):
                    t.cancelled += 1
            else:
                self.meetings[mid] = (a, b, ends_at)

    async def count_outcomes(self) -> None:
        rows = await self.db.execute(
            select(
                MeetingOutcome.meeting_id,
                MeetingOutcome.participant_id,
                MeetingOutcome.took_place,
                MeetingOutcome.rating,
                MeetingOutcome.outcome,
            )
            .join(Meeting, Meeting.id == MeetingOutcome.meeting_id)
            .where(Meeting.event_id == self.event.id)
        )
        for mid, pid, took_place, rating, kind in rows:
            if mid not in self.meetings:
                continue
            self.reports.setdefault(mid, {})[pid] = (took_place, kind)
            for t in self.build.tallies_of_party(pid):
                t.outcomes[kind] += 1
                if rating is not None:
                    t.ratings += 1
                    t.rating_sum += rating

    async def read_attendance(self) -> None:
        """Plain rows of the whole event in one query, judged below by the room's own rule
        (``clockevents.live.attendance.summarise``): thousands of ORM objects cost too much."""
        rows = await self.db.execute(
            select(Attendance.meeting_id, Attendance.participant_id, Attendance.joined_at, Attendance.left_at)
            .join(Meeting, Meeting.id == Attendance.meeting_id)
            .where(Meeting.event_id == self.event.id, Meeting.status == "scheduled")
        )
        for row in rows:
            if row.meeting_id in self.meetings:
                self.presence[row.meeting_id].append(row)

    def _bump(self, matrix: list[list[int]], a: int, b: int) -> None:
        last = len(matrix) - 1
        i = self.index.get(self.people[a].cluster if a in self.people else "", last)
        j = self.index.get(self.people[b].cluster if b in self.people else "", last)
        matrix[i][j] += 1
        if i != j:
            matrix[j][i] += 1

    def count_meetings(self) -> None:
        """Held, no-show or upcoming, and agreed or not, for each scheduled meeting."""
        for mid, (a, b, ends_at) in self.meetings.items():
            reports = self.reports.get(mid, {})
            held = (len(reports) == 2 and all(took for took, _ in reports.values())) or (
                mid in self.presence
                and summarise(_Parties(mid, a, b), self.presence[mid], self.now, ends_at).held  # type: ignore[arg-type]
            )
            kinds = {kind for _, kind in reports.values()}
            agreed = next(iter(kinds)) if len(reports) == 2 and len(kinds) == 1 else None
            if agreed == "none":
                agreed = None
            for t in self.build.tallies_of_pair(a, b):
                t.scheduled += 1
                if held:
                    t.held += 1
                elif ends_at is not None and ends_at <= self.now:
                    t.no_show += 1
                else:
                    t.upcoming += 1
                if agreed is not None:
                    t.agreements[agreed] += 1
            if held:
                self._bump(self.held_matrix, a, b)
            if agreed is not None:
                self._bump(self.agreement_matrix, a, b)

    async def count_surveys(self) -> None:
        rows = await self.db.execute(
            select(
                SurveyInvitation.meeting_id,
                SurveyInvitation.participant_id,
                SurveyInvitation.used_at,
                SurveyInvitation.stage,
            )
            .join(Meeting, Meeting.id == SurveyInvitation.meeting_id)
            .where(Meeting.event_id == self.event.id)
        )
        for mid, pid, used_at, stage in rows:
            if mid not in self.meetings:
                continue
            for t in self.build.tallies_of_party(pid):
                t.surveys_sent += 1
                if used_at is not None:
                    t.surveys_answered += 1
                    if stage is not None:
                        t.stages[stage] += 1

    async def count_tasks(self) -> None:
        rows = await self.db.execute(
            select(FollowUpTask.meeting_id, FollowUpTask.done_at).where(
                FollowUpTask.event_id == self.event.id
            )
        )
        for mid, done_at in rows:
            if mid not in self.meetings:
                continue
            a, b, _ = self.meetings[mid]
            for t in self.build.tallies_of_pair(a, b):
                t.tasks += 1
                if done_at is not None:
                    t.tasks_done += 1

    def matrices(self) -> tuple[list[str], list[list[int]], list[list[int]]]:
        """Labels and both matrices, with the "No cluster" row only when someone is in it."""
        held, agreements = self.held_matrix, self.agreement_matrix
        if any(held[-1]) or any(agreements[-1]):
            return [*self.labels, NO_CLUSTER], held, agreements
        return list(self.labels), [r[:-1] for r in held[:-1]], [r[:-1] for r in agreements[:-1]]


async def build_report(
    db: AsyncSession,
    event: Event,
    user: User | None,
    cluster_id: int | None = None,
    now: datetime | None = None,
) -> Report:
    """The event's impact report as ``user`` may see it (staff only; partners: their cluster)."""
    now = now or utcnow()
    scope, scope_name, clusters = await _scope_cluster(db, event, user, cluster_id)
    counting = _Counting(db, event, scope, clusters, now)
    await counting.read_people()
    await counting.count_requests()
    await counting.read_meetings()
    await counting.count_outcomes()
    await counting.read_attendance()
    counting.count_meetings()
    await counting.count_surveys()
    await counting.count_tasks()
    labels, held, agreements = counting.matrices()
    return Report(
        event_slug=event.slug,
        event_title=event.title,
        generated_at=now,
        cluster_id=scope,
        cluster_name=scope_name,
        total=counting.build.total,
        breakdowns=_breakdowns(event, clusters, counting.build),
        matrix_labels=labels,
        matrix_held=held,
        matrix_agreements=agreements,
    )


def _breakdowns(event: Event, clusters: list[Cluster], build: _Builder) -> dict[str, list[Group]]:
    by_cluster = build.groups["cluster"]
    cluster_rows = [Group(str(c.id), c.name, by_cluster.get(str(c.id), Tally())) for c in clusters]
    if "" in by_cluster:
        cluster_rows.append(Group("", NO_CLUSTER, by_cluster[""]))
    by_type = build.groups["type"]
    type_keys = [t for t in PARTICIPANT_TYPES if t in event.participant_types or t in by_type]
    type_keys += sorted(k for k in by_type if k not in type_keys)
    type_rows = [Group(k, TYPE_LABELS.get(k, k), by_type.get(k, Tally())) for k in type_keys]
    by_country = build.groups["country"]
    country_rows = [Group(k, k, by_country[k]) for k in sorted(by_country)]
    return {"cluster": cluster_rows, "type": type_rows, "country": country_rows}


def parse_cluster(raw: str | None) -> int | None:
    """The ``cluster`` filter as typed in a query string: empty for the whole event, else an id."""
    value = (raw or "").strip()
    if not value:
        return None
    if not value.isdigit() or len(value) > 10:
        raise ValidationFailed({"cluster": "Choose a cluster by its number."})
    return int(value)
