from __future__ import annotations

from datetime import time

from sqlalchemy.ext.asyncio import AsyncSession

import scheduler
from clockevents.agenda.problem import build_problem, sessions_of
from clockevents.events.models import Slot
from tests.factories.accounts import make_user
from tests.factories.agenda import make_meeting, make_request, slot_at
from tests.factories.events import make_event
from tests.factories.registration import make_participant

# Two sessions: 09:00-10:00 holds two 25-minute slots, 14:00-15:00 two more.
SESSIONS = ((time(9, 0), time(10, 0)), (time(14, 0), time(15, 0)))


async def test_build_problem_seeded_event_gives_exact_problem(db: AsyncSession) -> None:
    owner = await make_user(db)
    event = await make_event(db, owner, session_times=SESSIONS)
    event.tables = 3
    a = await make_participant(db, event)
    b = await make_participant(db, event)
    c = await make_participant(db, event)
    d = await make_participant(db, event)
    pending = await make_participant(db, event, status="pending")
    a.unavailable_slots = [1, 99]  # 99 is no slot of this event
    await db.commit()
    ab = await make_request(db, a, b, priority=3)
    ac = await make_request(db, a, c)
    await make_request(db, b, d, status="pending")
    await make_request(db, c, pending)
    dc = await make_request(db, d, c, priority=2)
    published = await make_meeting(db, dc, await slot_at(db, event, 2))
    bc = await make_request(db, b, c, status="pending")
    await make_meeting(db, bc, await slot_at(db, event, 3), status="held", table=None, published=False)

    built = await build_problem(db, event)

    assert built.problem == scheduler.Problem(
        slots=4,
        participants=(
            scheduler.Participant(f"p{a.id}", frozenset({1})),
            scheduler.Participant(f"p{b.id}", frozenset({3})),
            scheduler.Participant(f"p{c.id}", frozenset({3})),
            scheduler.Participant(f"p{d.id}", frozenset()),
        ),
        meetings=(
            scheduler.Meeting(f"m{published.id}", f"p{d.id}", f"p{c.id}", fixed_slot=2, weight=2),
            scheduler.Meeting(f"r{ab.id}", f"p{a.id}", f"p{b.id}", weight=3),
            scheduler.Meeting(f"r{ac.id}", f"p{a.id}", f"p{c.id}", weight=1),
        ),
        sessions=((0, 1), (2, 3)),
        capacity=3,
        rules=scheduler.Rules(schedule_all=False, break_spread=None),
        name=event.slug,
    )


async def test_build_problem_freed_published_meeting_has_no_fixed_slot(db: AsyncSession) -> None:
    owner = await make_user(db)
    event = await make_event(db, owner, session_times=SESSIONS)
    event.tables = 0
    a = await make_participant(db, event)
    b = await make_participant(db, event)
    meeting = await make_meeting(db, await make_request(db, a, b), await slot_at(db, event, 1))

    built = await build_problem(db, event, free=[meeting.id], break_spread=1)

    assert built.problem.meetings == (scheduler.Meeting(f"m{meeting.id}", f"p{a.id}", f"p{b.id}"),)
    assert built.problem.capacity is None
    assert built.problem.rules == scheduler.Rules(schedule_all=False, break_spread=1)


async def test_build_problem_self_booked_meeting_stays_fixed_when_freed(db: AsyncSession) -> None:
    owner = await make_user(db)
    event = await make_event(db, owner, session_times=SESSIONS)
    a = await make_participant(db, event)
    b = await make_participant(db, event)
    booked = await make_meeting(
        db, await make_request(db, a, b), await slot_at(db, event, 3), table=None, published=False
    )

    built = await build_problem(db, event, free=[booked.id])

    assert [m.fixed_slot for m in built.problem.meetings] == [3]


async def test_build_problem_humanise_names_people_and_meetings(db: AsyncSession) -> None:
    owner = await make_user(db)
    event = await make_event(db, owner, session_times=SESSIONS)
    a = await make_participant(db, event, user=await make_user(db, name="Ada Rossi"))
    b = await make_participant(db, event, user=await make_user(db, name="Bruno Neri"))
    request = await make_request(db, a, b)
    await db.refresh(a, attribute_names=["organisation"])
    await db.refresh(b, attribute_names=["organisation"])

    built = await build_problem(db, event)

    assert built.humanise(f"p{a.id} and p{b.id} share no free slot") == (
        f"Ada Rossi ({a.organisation.name}) and Bruno Neri ({b.organisation.name}) share no free slot"
    )
    assert built.humanise(f"it must follow meeting r{request.id}, which is not scheduled") == (
        "it must follow meeting the meeting of Ada Rossi and Bruno Neri, which is not scheduled"
    )


def test_sessions_of_splits_runs_of_one_session() -> None:
    slots = [Slot(session_id=s, index=i) for i, s in enumerate([7, 7, 8, 8, 8, 7])]

    assert sessions_of(slots) == ((0, 1), (2, 4), (5, 5))


async def test_build_problem_fixed_meeting_slot_is_not_unavailable(db: AsyncSession) -> None:
    owner = await make_user(db)
    event = await make_event(db, owner, session_times=SESSIONS)
    a = await make_participant(db, event)
    b = await make_participant(db, event)
    a.unavailable_slots = [0, 2]  # ticked after the meeting in slot 2 was agreed
    await db.commit()
    await make_meeting(db, await make_request(db, a, b), await slot_at(db, event, 2))

    built = await build_problem(db, event)

    assert built.problem.participants[0] == scheduler.Participant(f"p{a.id}", frozenset({0}))
    assert built.problem.meetings[0].fixed_slot == 2
