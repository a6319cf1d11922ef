"""Build the scheduler's Problem from the database, and turn its ids back into people.

Ids in the problem carry their origin so a solution maps back without guesswork:
``p<participant id>``, ``m<meeting id>`` for a meeting already in the agenda (fixed unless
freed), ``r<request id>`` for an accepted request that has no live meeting yet.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

import scheduler
from clockevents.accounts.models import User
from clockevents.agenda.models import Meeting
from clockevents.events.models import Event, Slot
from clockevents.live.workshops import event_blocked_slots
from clockevents.matchmaking.models import MeetingRequest
from clockevents.registration.models import Organisation, Participant

LIVE_STATUSES = ("held", "scheduled")
_ID = re.compile(r"\b([prm])(\d+)\b")


def pid(participant_id: int) -> str:
    return f"p{participant_id}"


def parse_id(problem_id: str) -> tuple[str, int]:
    """Split ``"m12"`` into ``("m", 12)``."""
    return problem_id[0], int(problem_id[1:])


@dataclass
class Person:
    """What the organiser sees of a participant in statistics and change lists."""

    id: int
    name: str
    organisation: str
    user_id: int | None

    @property
    def label(self) -> str:
        return f"{self.name} ({self.organisation})" if self.organisation else self.name


@dataclass
class Built:
    """A Problem plus the maps from its positions and ids back to database rows."""

    problem: scheduler.Problem
    slot_ids: list[int]  # problem slot position -> Slot.id
    people: dict[str, Person] = field(default_factory=dict)  # "p12" -> Person
    pairs: dict[str, tuple[int, int]] = field(default_factory=dict)  # "m3"/"r5" -> (a_id, b_id)

    @property
    def slot_position(self) -> dict[int, int]:
        return {slot_id: i for i, slot_id in enumerate(self.slot_ids)}

    def person(self, participant_id: int) -> Person:
        """The participant's name and organisation (a placeholder once they are gone)."""
        return self.people.get(pid(participant_id)) or Person(
            participant_id, f"Participant {participant_id}", "", None
        )

    def meeting_label(self, meeting_id: str) -> str:
        a, b = self.pairs[meeting_id]
        return f"the meeting of {self.person(a).name} and {self.person(b).name}"

    def humanise(self, text: str) -> str:
        """Replace the problem's ids in a solver message with names."""

        def name(match: re.Match[str]) -> str:
            token = match.group(0)
            if token in self.people:
                return self.people[token].label
            if token in self.pairs:
                return self.meeting_label(token)
            return token

        return _ID.sub(name, text)


def sessions_of(slots: Iterable[Slot]) -> tuple[tuple[int, int], ...]:
    """Inclusive [first, last] positions of each run of consecutive slots in one session."""
    runs: list[tuple[int, int]] = []
    previous: int | None = None
    for position, slot in enumerate(slots):
        if runs and slot.session_id == previous:
            runs[-1] = (runs[-1][0], position)
        else:
            runs.append((position, position))
        previous = slot.session_id
    return tuple(runs)


async def load_people(db: AsyncSession, participant_ids: Collection[int]) -> dict[int, Person]:
    """Name and organisation of each participant (the user's name; a placeholder if deleted)."""
    if not participant_ids:
        return {}
    rows = await db.execute(
        select(Participant.id, Participant.user_id, User.name, Organisation.name)
        .join(Organisation, Organisation.id == Participant.organisation_id)
        .outerjoin(User, User.id == Participant.user_id)
        .where(Participant.id.in_(list(participant_ids)))
    )
    return {
        p_id: Person(p_id, name or f"Participant {p_id}", org or "", user_id)
        for p_id, user_id, name, org in rows.all()
    }


async def build_problem(
    db: AsyncSession,
    event: Event,
    *,
    free: Collection[int] = (),
    break_spread: int | None = None,
) -> Built:
    """Read slots, approved participants, live meetings and accepted requests into a Problem.

    Meetings already in the agenda keep their slot (``fixed_slot``) unless their id is in
    ``free``. Slots taken by live meetings that cannot enter the problem (held self-bookings,
    meetings with a participant no longer approved) become unavailable for the people in
    them, so a published result never collides with a seat that exists. So do the slots of
    the workshops a participant attends or presents.
    """
    slots = list(await db.scalars(select(Slot).where(Slot.event_id == event.id).order_by(Slot.index)))
    position = {slot.id: i for i, slot in enumerate(slots)}
    by_index = {slot.index: i for i, slot in enumerate(slots)}
    participants = list(
        await db.scalars(
            select(Participant)
            .where(Participant.event_id == event.id, Participant.status == "approved")
            .order_by(Participant.id)
        )
    )
    approved = {p.id for p in participants}
    unavailable: dict[int, set[int]] = {
        p.id: {by_index[i] for i in (p.unavailable_slots or []) if isinstance(i, int) and i in by_index}
        for p in participants
    }
    meetings: list[scheduler.Meeting] = []
    pairs: dict[str, tuple[int, int]] = {}
    live = await db.scalars(
        select(Meeting)
        .where(Meeting.event_id == event.id, Meeting.status.in_(LIVE_STATUSES))
        .order_by(Meeting.id)
    )
    live_requests: set[int] = set()
    agreed: list[tuple[int, int, int]] = []
    for meeting in live:
        if meeting.request_id is not None:
            live_requests.add(meeting.request_id)
        placed = meeting.slot_id in position
        if meeting.status == "scheduled" and meeting.a_id in approved and meeting.b_id in approved:
            mid = f"m{meeting.id}"
            # Self-booked meetings (never published by a run) stay put even when listed in ``free``.
            freed = meeting.id in free and meeting.published_at is not None
            fixed = position[meeting.slot_id] if placed and not freed else None  # type: ignore[index]
            meetings.append(
                scheduler.Meeting(
                    mid, pid(meeting.a_id), pid(meeting.b_id), fixed_slot=fixed, weight=max(1, meeting.weight)
                )
            )
            if fixed is not None:
                # An agreed meeting outranks a later "unavailable" tick in its own slot: the
                # builder never cancels it for that, and nothing else can take the slot anyway.
                agreed.append((meeting.a_id, meeting.b_id, fixed))
            pairs[mid] = (meeting.a_id, meeting.b_id)
        elif placed:
            for who in (meeting.a_id, meeting.b_id):
                if who in unavailable:
                    unavailable[who].add(position[meeting.slot_id])  # type: ignore[index]
    # A workshop's slots belong to its attendees and presenter: no one-to-one meeting then.
    for who, slot_ids in (await event_blocked_slots(db, event.id)).items():
        if who in unavailable:
            unavailable[who].update(position[s] for s in slot_ids if s in position)
    for a_id, b_id, slot_position in agreed:
        unavailable[a_id].discard(slot_position)
        unavailable[b_id].discard(slot_position)
    requests = await db.scalars(
        select(MeetingRequest)
        .where(MeetingRequest.event_id == event.id, MeetingRequest.status == "accepted")
        .order_by(MeetingRequest.id)
    )
    for request in requests:
        if request.id in live_requests or request.sender_id == request.receiver_id:
            continue
        if request.sender_id not in approved or request.receiver_id not in approved:
            continue
        rid = f"r{request.id}"
        meetings.append(
            scheduler.Meeting(
                rid, pid(request.sender_id), pid(request.receiver_id), weight=max(1, request.priority)
            )
        )
        pairs[rid] = (request.sender_id, request.receiver_id)
    problem = scheduler.Problem(
        slots=len(slots),
        participants=tuple(
            scheduler.Participant(pid(p.id), frozenset(unavailable[p.id])) for p in participants
        ),
        meetings=tuple(meetings),
        sessions=sessions_of(slots),
        capacity=event.tables or None,
        rules=scheduler.Rules(schedule_all=False, break_spread=break_spread),
        name=event.slug,
    )
    people = await load_people(db, approved)
    return Built(
        problem=problem,
        slot_ids=[slot.id for slot in slots],
        people={pid(k): v for k, v in people.items()},
        pairs=pairs,
    )


def run_extras(built: Built) -> dict[str, object]:
    """What a stored run needs besides the problem to map its solution back to rows."""
    return {"slot_ids": built.slot_ids, "pairs": {k: list(v) for k, v in built.pairs.items()}}


async def built_from_stored(db: AsyncSession, stored: dict[str, object]) -> Built:
    """Rebuild ``Built`` from a run's stored problem (names are read afresh)."""
    from scheduler.io import problem_from_dict

    extras = stored.get("clockevents") or {}
    assert isinstance(extras, dict)
    problem = problem_from_dict({k: v for k, v in stored.items() if k != "clockevents"})
    pairs = {k: (int(v[0]), int(v[1])) for k, v in dict(extras.get("pairs") or {}).items()}
    ids = {int(p.id[1:]) for p in problem.participants}
    people = await load_people(db, ids)
    return Built(
        problem=problem,
        slot_ids=[int(s) for s in extras.get("slot_ids") or []],
        people={pid(k): v for k, v in people.items()},
        pairs=pairs,
    )
