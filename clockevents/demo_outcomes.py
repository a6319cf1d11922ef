"""``clockevents demo --with-outcomes``: what came of the demo event's meetings.

Publishes an agenda for clock-demo when none is published (the organisers' build and publish,
with a short time limit), then writes, from one seeded generator, the room attendance of each
meeting, both parties' outcomes (most agreeing, some not), ratings, follow-up tasks and survey
answers, so the impact report has a full matrix and charts to show. Nothing moves in time: the
attendance rows sit in the meetings' own (future) slots. Idempotent: a demo that already has
outcomes is left as it is.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta
from typing import TypeVar

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from clockevents import demo_data as data
from clockevents.agenda.models import Meeting, ScheduleRun
from clockevents.db import create_session_factory, utcnow
from clockevents.errors import DomainError, NotFound
from clockevents.events.models import Event, Slot
from clockevents.followup.models import FollowUpTask, MeetingOutcome, SurveyInvitation
from clockevents.live.models import Attendance
from clockevents.registration.models import Participant

HELD_SHARE = 0.78  # meetings both parties attend
REPORT_SHARE = 0.85  # parties who report on a held meeting
AGREE_SHARE = 0.6  # held meetings whose two reports name the same outcome
SURVEY_ANSWER_SHARE = 0.6

T = TypeVar("T")


@dataclass
class OutcomesReport:
    published: bool  # an agenda was built and published by this run
    meetings: int = 0
    held: int = 0
    outcomes: int = 0
    confirmed: int = 0
    tasks: int = 0
    surveys: int = 0
    already: bool = False

    def describe(self, base_url: str = "http://127.0.0.1:8000") -> str:
        if self.already:
            return f"outcomes already present; report: {base_url}/events/{data.DEMO_SLUG}/admin/report"
        lines = []
        if self.published:
            lines.append(f"agenda built and published: {self.meetings} meetings")
        lines.append(
            f"outcomes: {self.held} of {self.meetings} meetings held, {self.outcomes} reports, "
            f"{self.confirmed} confirmed agreements, {self.tasks} follow-up tasks, {self.surveys} surveys"
        )
        lines.append(f"report: {base_url}/events/{data.DEMO_SLUG}/admin/report")
        return "\n".join(lines)


def _weighted(rng: random.Random, pairs: list[tuple[T, int]]) -> T:
    return rng.choices([p for p, _ in pairs], weights=[w for _, w in pairs])[0]


async def _publish_agenda(db: AsyncSession, event: Event, time_limit: float) -> None:
    """Build and publish the agenda as the organisers' button does (trusted caller)."""
    from clockevents.agenda import runs
    from clockevents.agenda.publish import publish_run

    await db.commit()  # end this session's read so the build's own sessions never wait on it
    factory = create_session_factory(db.bind)  # type: ignore[arg-type]
    run = await runs.start_run(factory, event, None, time_limit, check_access=False, spawn=False)
    await runs.execute_run(factory, run.id)
    done = await db.get(ScheduleRun, run.id, populate_existing=True)
    if done is None or done.status != "done":
        status = done.status if done else "gone"
        raise DomainError(f"agenda build {run.id} ended {status}: {done.error if done else ''}")
    await publish_run(db, run.id, None, check_access=False)
    await db.commit()


async def seed_outcomes(db: AsyncSession, seed: int = 2026, time_limit: float = 10.0) -> OutcomesReport:
    """Fill attendance, outcomes, tasks and surveys for clock-demo's meetings (see module doc)."""
    event = await db.scalar(select(Event).where(Event.slug == data.DEMO_SLUG))
    if event is None:
        raise NotFound("The demo event clock-demo does not exist.")
    scheduled = select(Meeting.id).where(Meeting.event_id == event.id, Meeting.status == "scheduled")
    published = False
    if await db.scalar(scheduled.limit(1)) is None:
        await _publish_agenda(db, event, time_limit)
        published = True
    existing = await db.scalar(
        select(func.count())
        .select_from(MeetingOutcome)
        .join(Meeting, Meeting.id == MeetingOutcome.meeting_id)
        .where(Meeting.event_id == event.id)
    )
    if existing:
        return OutcomesReport(published=published, already=True)

    users = dict(
        (
            await db.execute(
                select(Participant.id, Participant.user_id).where(Participant.event_id == event.id)
            )
        ).all()
    )
    rows = (
        await db.execute(
            select(Meeting.id, Meeting.a_id, Meeting.b_id, Slot.starts_at, Slot.ends_at)
            .join(Slot, Slot.id == Meeting.slot_id)
            .where(Meeting.event_id == event.id, Meeting.status == "scheduled")
            .order_by(Meeting.id)
        )
    ).all()
    rng = random.Random(seed)
    report = OutcomesReport(published=published, meetings=len(rows))
    now = utcnow()
    for meeting_id, a, b, starts, ends in rows:
        held = rng.random() < HELD_SHARE
        if held:
            report.held += 1
            for pid in (a, b):
                come = rng.randint(0, 3)
                db.add(
                    Attendance(
                        meeting_id=meeting_id,
                        participant_id=pid,
                        user_id=users.get(pid),
                        joined_at=starts + timedelta(minutes=come),
                        left_at=ends - timedelta(minutes=rng.randint(0, 2)),
                    )
                )
        elif rng.random() < 0.5:  # one side waited in vain
            pid = rng.choice((a, b))
            db.add(
                Attendance(
                    meeting_id=meeting_id,
                    participant_id=pid,
                    user_id=users.get(pid),
                    joined_at=starts,
                    left_at=starts + timedelta(minutes=rng.randint(3, 10)),
                )
            )
        first = _weighted(rng, data.OUTCOME_KIND_WEIGHTS)
        agreed = rng.random() < AGREE_SHARE
        kinds: dict[int, str] = {}
        for pid in (a, b):
            if held:
                if rng.random() >= REPORT_SHARE:
                    continue
                kind = first if agreed or not kinds else _weighted(rng, data.OUTCOME_KIND_WEIGHTS)
                rating: int | None = _weighted(rng, data.RATING_WEIGHTS)
            else:
                if rng.random() >= 0.5:
                    continue
                kind, rating = "none", None
            kinds[pid] = kind
            db.add(
                MeetingOutcome(
                    meeting_id=meeting_id,
                    participant_id=pid,
                    took_place=held,
                    rating=rating,
                    wants_to_continue=kind != "none",
                    outcome=kind,
                )
            )
            report.outcomes += 1
        if len(kinds) == 2 and set(kinds.values()) == {first} and first != "none":
            report.confirmed += 1
        if not held or all(k == "none" for k in kinds.values()) or not kinds:
            continue
        owner = rng.choice(list(kinds))
        db.add(
            FollowUpTask(
                event_id=event.id,
                meeting_id=meeting_id,
                owner_id=owner,
                created_by_id=owner,
                title=rng.choice(data.FOLLOW_UP_TASKS),
                due_on=event.ends_on + timedelta(days=rng.randint(7, 45)),
                done_at=now if rng.random() < 0.4 else None,
            )
        )
        report.tasks += 1
        for pid, kind in kinds.items():
            answered = rng.random() < SURVEY_ANSWER_SHARE
            db.add(
                SurveyInvitation(
                    meeting_id=meeting_id,
                    participant_id=pid,
                    sent_at=now,
                    expires_at=ends + timedelta(days=120),
                    used_at=now if answered else None,
                    stage=_weighted(rng, data.SURVEY_STAGE_WEIGHTS) if answered else None,
                    agreement_kind=kind if answered and kind != "none" else None,
                )
            )
            report.surveys += 1
    await db.flush()
    return report
