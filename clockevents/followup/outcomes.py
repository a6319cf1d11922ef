"""Each party's report on a meeting once its slot is over, and what the two reports agree on.

A party reads and writes their own report (private notes included) and reads the other side's
shared answers, never its private notes. Organisers covering either side read both shared
answers. Whether the meeting took place is suggested from the room's attendance: both parties
came in -> yes, only one -> no, nobody used the room (an in-person meeting) -> no suggestion.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from clockevents.accounts.models import User
from clockevents.agenda.changes import MeetingContext, load_meeting
from clockevents.agenda.models import Meeting
from clockevents.agenda.problem import load_people
from clockevents.db import utcnow
from clockevents.errors import Conflict, NotAuthenticated, NotFound, PermissionDenied, ValidationFailed
from clockevents.events.models import Event, Slot
from clockevents.followup.models import OUTCOME_KINDS, MeetingOutcome
from clockevents.live.attendance import summaries
from clockevents.matchmaking.parties import own_participant

OUTCOME_FIELDS = ("took_place", "rating", "wants_to_continue", "outcome", "private_notes")
NOTES_MAX = 5000
TRUE_WORDS = ("true", "yes", "on", "1")
FALSE_WORDS = ("false", "no", "off", "0")
MAX_ID = 2**31  # ids are 32-bit integers: anything larger names nothing


@dataclass(frozen=True)
class OutcomeReport:
    """One party's answers; ``private_notes`` is None when the reader may not see it."""

    participant_id: int
    took_place: bool
    rating: int | None
    wants_to_continue: bool
    outcome: str
    private_notes: str | None
    updated_at: datetime


@dataclass(frozen=True)
class MeetingOutcomes:
    """A meeting's two reports as one reader may see them."""

    meeting_id: int
    event_id: int
    reader_participant_id: int | None  # the caller's side; None for an organiser
    other_participant_id: int | None
    a_id: int
    b_id: int
    took_place_suggested: bool | None  # from attendance
    reports: dict[int, OutcomeReport]  # participant id -> report (only those given)
    names: dict[int, str] = field(default_factory=dict)  # participant id -> "Name (Organisation)"
    starts_at: datetime | None = None
    ends_at: datetime | None = None

    @property
    def mine(self) -> OutcomeReport | None:
        return self.reports.get(self.reader_participant_id) if self.reader_participant_id else None

    @property
    def theirs(self) -> OutcomeReport | None:
        return self.reports.get(self.other_participant_id) if self.other_participant_id else None

    @property
    def confirmed_outcome(self) -> str | None:
        """The outcome both parties report, when they agree on one other than "none"."""
        a, b = self.reports.get(self.a_id), self.reports.get(self.b_id)
        if a is None or b is None or a.outcome != b.outcome or a.outcome == "none":
            return None
        return a.outcome

    @property
    def confirmed(self) -> bool:
        return self.confirmed_outcome is not None


async def meeting_context(db: AsyncSession, meeting_id: int, user: User | None) -> MeetingContext:
    """The meeting for one of its parties or staff covering it: 401 / 404 / 403 for anyone else."""
    if user is None:
        raise NotAuthenticated()
    if not 0 < meeting_id < MAX_ID:
        raise NotFound("No such meeting.")
    return await load_meeting(db, meeting_id, user)


def party_of(context: MeetingContext, user: User) -> int | None:
    """The caller's participant id in the meeting, if they are one of its parties."""
    if context.a.user_id == user.id:
        return context.a.id
    if context.b.user_id == user.id:
        return context.b.id
    return None


async def require_over(db: AsyncSession, context: MeetingContext, now: datetime) -> Slot:
    """The meeting's slot, once the meeting was scheduled and its slot has ended; else 409."""
    meeting = context.meeting
    if meeting.status == "cancelled":
        raise Conflict("This meeting was cancelled: there is nothing to report.")
    slot = await db.get(Slot, meeting.slot_id) if meeting.slot_id is not None else None
    if meeting.status != "scheduled" or slot is None:
        raise Conflict("This meeting is not in the agenda: there is nothing to report yet.")
    if slot.ends_at > now:
        raise Conflict("You can report on this meeting once it has ended.")
    return slot


async def suggested_took_place(db: AsyncSession, context: MeetingContext, now: datetime) -> bool | None:
    """True when both parties joined the room, False when only one did, None when nobody did."""
    summary = (await summaries(db, [context.meeting.id], now)).get(context.meeting.id)
    if summary is None or not summary.first_join:
        return None
    return summary.joined(context.a.id) and summary.joined(context.b.id)


def _report(row: MeetingOutcome, show_private: bool) -> OutcomeReport:
    return OutcomeReport(
        participant_id=row.participant_id,
        took_place=row.took_place,
        rating=row.rating,
        wants_to_continue=row.wants_to_continue,
        outcome=row.outcome,
        private_notes=row.private_notes if show_private else None,
        updated_at=row.updated_at,
    )


async def _view(
    db: AsyncSession, context: MeetingContext, reader: int | None, now: datetime
) -> MeetingOutcomes:
    slot = await db.get(Slot, context.meeting.slot_id) if context.meeting.slot_id is not None else None
    people = await load_people(db, [context.a.id, context.b.id])
    rows = await db.scalars(select(MeetingOutcome).where(MeetingOutcome.meeting_id == context.meeting.id))
    reports = {row.participant_id: _report(row, row.participant_id == reader) for row in rows}
    other = None
    if reader is not None:
        other = context.b.id if reader == context.a.id else context.a.id
    return MeetingOutcomes(
        meeting_id=context.meeting.id,
        event_id=context.event.id,
        reader_participant_id=reader,
        other_participant_id=other,
        a_id=context.a.id,
        b_id=context.b.id,
        took_place_suggested=await suggested_took_place(db, context, now),
        reports=reports,
        names={pid: person.label for pid, person in people.items()},
        starts_at=slot.starts_at if slot else None,
        ends_at=slot.ends_at if slot else None,
    )


async def read_outcomes(
    db: AsyncSession, meeting_id: int, user: User | None, now: datetime | None = None
) -> MeetingOutcomes:
    """Both reports of a finished meeting for one of its parties or an organiser covering it."""
    now = now or utcnow()
    context = await meeting_context(db, meeting_id, user)
    assert user is not None
    await require_over(db, context, now)
    return await _view(db, context, party_of(context, user), now)


# -- validation -------------------------------------------------------------------------------


def _flag(value: Any) -> bool | None:
    """A yes/no from JSON (true/false) or a form ("on", "yes", "1", ...); None if neither."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in TRUE_WORDS:
        return True
    if isinstance(value, str) and value.strip().lower() in FALSE_WORDS:
        return False
    return None


def clean_outcome(data: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """The fields given in ``data``, checked: (clean values, errors per field)."""
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for key in data:
        if key not in OUTCOME_FIELDS:
            errors[str(key)] = "Unknown field."
    for name in ("took_place", "wants_to_continue"):
        if name in data:
            flag = _flag(data[name])
            if flag is None:
                errors[name] = "Answer yes or no."
            else:
                values[name] = flag
    if "rating" in data:
        raw = data["rating"]
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            values["rating"] = None
        else:
            number: int | None = None
            if isinstance(raw, int) and not isinstance(raw, bool):
                number = raw
            elif isinstance(raw, str) and raw.strip().isdigit() and len(raw.strip()) < 3:
                number = int(raw.strip())
            if number is None or not 1 <= number <= 5:
                errors["rating"] = "Rate from 1 to 5, or leave the rating empty."
            else:
                values["rating"] = number
    if "outcome" in data:
        outcome = data["outcome"]
        if not isinstance(outcome, str) or outcome not in OUTCOME_KINDS:
            errors["outcome"] = "Choose one of: " + ", ".join(OUTCOME_KINDS) + "."
        else:
            values["outcome"] = outcome
    if "private_notes" in data:
        notes = data["private_notes"]
        if notes is None:
            values["private_notes"] = ""
        elif not isinstance(notes, str):
            errors["private_notes"] = "Write the notes as text."
        elif len(notes) > NOTES_MAX:
            errors["private_notes"] = f"Keep the notes under {NOTES_MAX} characters."
        elif "\x00" in notes:
            errors["private_notes"] = "The notes contain a character that is not allowed."
        else:
            values["private_notes"] = notes.strip()
    return values, errors


async def record_outcome(
    db: AsyncSession,
    meeting_id: int,
    user: User | None,
    data: Mapping[str, Any],
    now: datetime | None = None,
) -> MeetingOutcomes:
    """Create or update the caller's report on a finished meeting; fields left out keep their value.

    A first report without ``took_place`` takes the attendance suggestion (yes when unknown).
    A meeting that did not take place has no outcome but "none".
    """
    now = now or utcnow()
    context = await meeting_context(db, meeting_id, user)
    assert user is not None
    me = party_of(context, user)
    if me is None:
        raise PermissionDenied("Only the meeting's two participants report its outcome.")
    await require_over(db, context, now)
    values, errors = clean_outcome(data)
    if errors:
        raise ValidationFailed(errors)
    row = await db.scalar(
        select(MeetingOutcome).where(
            MeetingOutcome.meeting_id == meeting_id, MeetingOutcome.participant_id == me
        )
    )
    if row is None:
        suggestion = await suggested_took_place(db, context, now)
        row = MeetingOutcome(
            meeting_id=meeting_id,
            participant_id=me,
            took_place=True if suggestion is None else suggestion,
            rating=None,
            wants_to_continue=False,
            outcome="none",
            private_notes="",
        )
        fresh = True
    else:
        fresh = False
    for name, value in values.items():
        setattr(row, name, value)
    if not row.took_place and row.outcome != "none":
        raise ValidationFailed({"outcome": 'A meeting that did not take place has no outcome but "none".'})
    if fresh:
        try:
            async with db.begin_nested():
                db.add(row)
                await db.flush()
        except IntegrityError:  # the same party saved from another window meanwhile: theirs stands
            raise Conflict(
                "Your report was saved meanwhile in another window; reload and try again."
            ) from None
    row.updated_at = now
    await db.flush()
    return await _view(db, context, me, now)


# -- the caller's meetings --------------------------------------------------------------------


@dataclass(frozen=True)
class MyMeeting:
    """One of the caller's scheduled meetings with where its reports stand."""

    id: int
    participant_id: int  # the caller's side
    other_id: int
    other: str
    starts_at: datetime
    ends_at: datetime
    over: bool
    reported: bool  # the caller has reported
    other_reported: bool
    confirmed_outcome: str | None


async def my_meetings(
    db: AsyncSession, event: Event, user: User | None, now: datetime | None = None
) -> list[MyMeeting]:
    """The caller's scheduled meetings in ``event`` by time (none if not registered)."""
    if user is None:
        raise NotAuthenticated()
    now = now or utcnow()
    me = await own_participant(db, event, user)
    if me is None:
        return []
    rows = (
        await db.execute(
            select(Meeting, Slot)
            .join(Slot, Slot.id == Meeting.slot_id)
            .where(
                Meeting.event_id == event.id,
                Meeting.status == "scheduled",
                or_(Meeting.a_id == me.id, Meeting.b_id == me.id),
            )
            .order_by(Slot.starts_at, Meeting.id)
        )
    ).all()
    ids = [m.id for m, _ in rows]
    reports: dict[tuple[int, int], str] = {
        (o.meeting_id, o.participant_id): o.outcome
        for o in await db.scalars(select(MeetingOutcome).where(MeetingOutcome.meeting_id.in_(ids)))
    }
    people = await load_people(db, {m.b_id if m.a_id == me.id else m.a_id for m, _ in rows})
    result = []
    for meeting, slot in rows:
        other = meeting.b_id if meeting.a_id == me.id else meeting.a_id
        mine, theirs = reports.get((meeting.id, me.id)), reports.get((meeting.id, other))
        result.append(
            MyMeeting(
                id=meeting.id,
                participant_id=me.id,
                other_id=other,
                other=people[other].label if other in people else "",
                starts_at=slot.starts_at,
                ends_at=slot.ends_at,
                over=slot.ends_at <= now,
                reported=mine is not None,
                other_reported=theirs is not None,
                confirmed_outcome=mine if mine is not None and mine == theirs and mine != "none" else None,
            )
        )
    return result
