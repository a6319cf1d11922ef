"""A workshop takes its slots from one-to-one scheduling for its attendees and its presenter:
in the agenda builder's problem, in self-booking and when organisers move a meeting."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from clockevents.accounts.models import User
from clockevents.agenda.changes import move_meeting
from clockevents.agenda.problem import build_problem
from clockevents.errors import Conflict, ValidationFailed
from clockevents.events.models import Event, Slot
from clockevents.live import workshop_registration, workshops
from clockevents.matchmaking import services
from clockevents.matchmaking.booking import free_slots
from clockevents.registration.models import Participant
from clockevents.settings import Settings
from tests.factories.accounts import make_user
from tests.factories.agenda import make_meeting, make_request, slot_at
from tests.factories.events import make_event
from tests.factories.matchmaking import set_matchmaking
from tests.factories.registration import make_participant


@dataclass
class Scene:
    owner: User
    event: Event
    presenter: Participant
    attendee: Participant
    other: Participant
    attendee_user: User
    other_user: User
    workshop_id: int


@pytest.fixture
async def scene(db: AsyncSession) -> Scene:
    """Slots 0..5 in the morning; a workshop in slots 1 and 2 with one attendee."""
    owner = await make_user(db, name="Olga Owner")
    event = await make_event(db, owner)
    presenter_user = await make_user(db, name="Pia Presenter")
    attendee_user = await make_user(db, name="Ada Attendee")
    other_user = await make_user(db, name="Bo Other")
    presenter = await make_participant(db, event, user=presenter_user)
    attendee = await make_participant(db, event, user=attendee_user)
    other = await make_participant(db, event, user=other_user)
    workshop = await workshops.create_workshop(
        db, event, owner, {"title": "Graphene coatings", "presenter_id": presenter.id, "slots": [1, 2]}
    )
    await workshop_registration.register(db, workshop.id, attendee_user)
    await db.commit()
    return Scene(owner, event, presenter, attendee, other, attendee_user, other_user, workshop.id)


async def test_builder_marks_workshop_slots_unavailable_for_attendee_and_presenter(
    db: AsyncSession, scene: Scene
) -> None:
    built = await build_problem(db, scene.event)
    unavailable = {p.id: set(p.unavailable) for p in built.problem.participants}
    assert unavailable == {
        f"p{scene.presenter.id}": {1, 2},
        f"p{scene.attendee.id}": {1, 2},
        f"p{scene.other.id}": set(),
    }


async def test_builder_frees_the_slots_once_the_attendee_unregisters(db: AsyncSession, scene: Scene) -> None:
    await workshop_registration.unregister(db, scene.workshop_id, scene.attendee_user)
    await db.commit()
    built = await build_problem(db, scene.event)
    unavailable = {p.id: set(p.unavailable) for p in built.problem.participants}
    assert unavailable[f"p{scene.attendee.id}"] == set()
    assert unavailable[f"p{scene.presenter.id}"] == {1, 2}


async def test_self_booking_refuses_a_workshop_slot_of_either_side(db: AsyncSession, scene: Scene) -> None:
    await set_matchmaking(db, scene.event, scheduling_mode="self_booking")
    with pytest.raises(Conflict) as caught:
        await services.send_request(db, scene.event, scene.other_user, {"to": scene.attendee.id, "slot": 1})
    assert caught.value.fields == {"slot": "They are in a workshop in that slot."}
    with pytest.raises(Conflict) as caught:
        await services.send_request(db, scene.event, scene.attendee_user, {"to": scene.other.id, "slot": 2})
    assert caught.value.fields == {"slot": "You are in a workshop in that slot."}
    request = await services.send_request(
        db, scene.event, scene.attendee_user, {"to": scene.other.id, "slot": 3}
    )
    assert request.held_slot_id == (await slot_at(db, scene.event, 3)).id


async def test_free_slots_leave_out_workshop_slots(db: AsyncSession, scene: Scene) -> None:
    every = list(
        await db.scalars(select(Slot.index).where(Slot.event_id == scene.event.id).order_by(Slot.index))
    )
    outside = [i for i in every if i not in (1, 2)]
    assert [s.index for s in await free_slots(db, scene.event, scene.attendee, scene.other)] == outside
    assert [s.index for s in await free_slots(db, scene.event, scene.other, scene.presenter)] == outside
    assert [s.index for s in await free_slots(db, scene.event, scene.other, scene.other)] == every


async def test_move_refuses_a_workshop_slot(db: AsyncSession, scene: Scene) -> None:
    request = await make_request(db, scene.attendee, scene.other)
    meeting = await make_meeting(db, request, await slot_at(db, scene.event, 0))
    with pytest.raises(ValidationFailed) as caught:
        await move_meeting(db, meeting.id, scene.owner, slot=2)
    assert caught.value.fields == {"slot": "Ada Attendee is in a workshop in slot 2."}
    moved = await move_meeting(db, meeting.id, scene.owner, slot=3)
    assert moved.slot_id == (await slot_at(db, scene.event, 3)).id


async def test_registration_refused_with_a_meeting_in_a_workshop_slot(db: AsyncSession, scene: Scene) -> None:
    third = await make_participant(db, scene.event)
    request = await make_request(db, scene.other, third)
    await make_meeting(db, request, await slot_at(db, scene.event, 2))
    with pytest.raises(Conflict) as caught:
        await workshop_registration.register(db, scene.workshop_id, scene.other_user)
    assert caught.value.fields["workshop"].startswith("You already have a meeting in this workshop's slot (")
    view = await workshops.workshop_view(
        db, await workshops.get_workshop(db, scene.workshop_id), scene.other_user
    )
    assert (view.registered, view.is_registered) == (1, False)


async def test_publish_refuses_a_build_that_predates_a_workshop_registration(
    db: AsyncSession, scene: Scene, settings: Settings
) -> None:
    """Built while the other participant was free in slot 3, published after they joined a workshop there."""
    from clockevents.agenda import runs
    from clockevents.agenda.models import Meeting, ScheduleRun
    from clockevents.agenda.publish import publish_run
    from clockevents.db import create_engine, create_session_factory

    await make_request(db, scene.other, scene.attendee)
    for participant in (scene.other, scene.attendee):
        participant.unavailable_slots = [i for i in range(12) if i != 3]
    await db.commit()
    engine = create_engine(settings.database_url)
    factory = create_session_factory(engine)
    try:
        run = await runs.start_run(factory, scene.event, scene.owner, time_limit=2, spawn=False)
        await runs.execute_run(factory, run.id)
        async with factory() as session:
            done = await session.get(ScheduleRun, run.id)
            assert done is not None and done.status == "done"
            assert len(done.solution["assignments"]) == 1
        late = await workshops.create_workshop(
            db,
            scene.event,
            scene.owner,
            {"title": "Late talk", "presenter_id": scene.presenter.id, "slots": [3]},
        )
        await workshop_registration.register(db, late.id, scene.other_user)
        await db.commit()
        async with factory() as session:
            with pytest.raises(Conflict) as refused:
                await publish_run(session, run.id, scene.owner)
            await session.rollback()
        assert "registered for a workshop at that time" in str(refused.value)
        slot = await slot_at(db, scene.event, 3)
        assert await db.scalar(select(Meeting.id).where(Meeting.slot_id == slot.id)) is None
    finally:
        await engine.dispose()
