from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from clockevents.agenda.models import Meeting, MeetingSeat
from clockevents.db import create_engine, create_session_factory
from clockevents.errors import Conflict, ValidationFailed
from clockevents.events.models import Slot
from clockevents.matchmaking import services
from clockevents.notify.mail_models import OutboundMail
from clockevents.settings import Settings
from tests.factories.accounts import make_user
from tests.factories.matchmaking import make_request, set_matchmaking
from tests.factories.registration import make_participant
from tests.unit.matchmaking.conftest import World


async def _seats(db: AsyncSession, slot_index: int) -> list[int]:
    rows = await db.scalars(
        select(MeetingSeat.participant_id)
        .join(Slot, Slot.id == MeetingSeat.slot_id)
        .where(Slot.index == slot_index)
        .order_by(MeetingSeat.participant_id)
    )
    return list(rows)


async def test_self_booking_requires_a_slot(db: AsyncSession, world: World) -> None:
    await set_matchmaking(db, world.event, scheduling_mode="self_booking")
    with pytest.raises(ValidationFailed) as caught:
        await services.send_request(db, world.event, world.alice_user, {"to": world.bob.id})
    assert caught.value.fields == {"slot": "Choose a time slot for the meeting."}
    with pytest.raises(ValidationFailed) as caught:
        await services.send_request(db, world.event, world.alice_user, {"to": world.bob.id, "slot": 999})
    assert caught.value.fields == {"slot": "No such slot in this event."}


async def test_self_booking_holds_slot_then_accept_schedules(db: AsyncSession, world: World) -> None:
    await set_matchmaking(db, world.event, scheduling_mode="self_booking")
    request = await services.send_request(db, world.event, world.alice_user, {"to": world.bob.id, "slot": 2})
    await db.commit()
    meeting = await db.scalar(select(Meeting).where(Meeting.request_id == request.id))
    assert meeting is not None
    assert (meeting.status, meeting.a_id, meeting.b_id) == ("held", world.alice.id, world.bob.id)
    assert meeting.uid.startswith("meeting-") and meeting.uid.endswith("@clockevents")
    assert await _seats(db, 2) == sorted([world.alice.id, world.bob.id])
    await services.accept_request(db, world.bob_user, request.id)
    await db.commit()
    await db.refresh(meeting)
    assert (meeting.status, meeting.sequence) == ("scheduled", 1)
    assert meeting.published_at is not None  # on both agendas: in the calendar feeds too
    invites = (await db.scalars(select(OutboundMail).where(OutboundMail.ics_method == "REQUEST"))).all()
    assert len(invites) == 2
    assert all(f"UID:{meeting.uid}" in mail.ics for mail in invites)
    with pytest.raises(Conflict):  # on the agenda now: cancel through the organisers
        await services.cancel_request(db, world.alice_user, request.id)


@pytest.mark.parametrize("how", ["decline", "cancel"])
async def test_self_booking_decline_or_cancel_releases_slot(db: AsyncSession, world: World, how: str) -> None:
    await set_matchmaking(db, world.event, scheduling_mode="self_booking")
    request = await services.send_request(db, world.event, world.alice_user, {"to": world.bob.id, "slot": 0})
    await db.commit()
    if how == "decline":
        await services.decline_request(db, world.bob_user, request.id, {})
    else:
        await services.cancel_request(db, world.alice_user, request.id)
    await db.commit()
    meeting = await db.scalar(select(Meeting).where(Meeting.request_id == request.id))
    assert meeting is not None
    assert (meeting.status, await _seats(db, 0), request.held_slot_id) == ("cancelled", [], None)
    again = await services.send_request(db, world.event, world.carol_user, {"to": world.bob.id, "slot": 0})
    assert again.held_slot_id is not None


async def test_self_booking_expiry_releases_slot(db: AsyncSession, world: World) -> None:
    await set_matchmaking(db, world.event, scheduling_mode="self_booking", expiry_hours=1)
    request = await services.send_request(db, world.event, world.alice_user, {"to": world.bob.id, "slot": 1})
    await db.commit()
    assert request.expires_at is not None
    assert await services.expire_pending(db, request.expires_at) == 1
    await db.commit()
    assert (request.status, await _seats(db, 1)) == ("expired", [])


async def test_self_booking_taken_or_unavailable_slot_is_refused(db: AsyncSession, world: World) -> None:
    await set_matchmaking(db, world.event, scheduling_mode="self_booking")
    await services.send_request(db, world.event, world.alice_user, {"to": world.bob.id, "slot": 0})
    await db.commit()
    with pytest.raises(Conflict) as caught:
        await services.send_request(db, world.event, world.carol_user, {"to": world.bob.id, "slot": 0})
    assert caught.value.fields == {"slot": "They already have a meeting in that slot."}
    world.carol.unavailable_slots = [1]
    await db.commit()
    with pytest.raises(Conflict) as caught:
        await services.send_request(db, world.event, world.carol_user, {"to": world.bob.id, "slot": 1})
    assert caught.value.fields == {"slot": "You marked yourself unavailable in that slot."}


async def test_self_booking_auto_mode_schedules_at_once(db: AsyncSession, world: World) -> None:
    await set_matchmaking(db, world.event, scheduling_mode="self_booking", request_mode="auto")
    request = await services.send_request(
        db, world.event, world.alice_user, {"to": world.bob.id, "slot": "3"}
    )
    await db.commit()
    meeting = await db.scalar(select(Meeting).where(Meeting.request_id == request.id))
    assert (request.status, meeting.status if meeting else None) == ("accepted", "scheduled")


async def test_free_slots_excludes_seats_and_unavailable(db: AsyncSession, world: World) -> None:
    await set_matchmaking(db, world.event, scheduling_mode="self_booking")
    all_indexes = list(
        await db.scalars(select(Slot.index).where(Slot.event_id == world.event.id).order_by(Slot.index))
    )
    await services.send_request(db, world.event, world.carol_user, {"to": world.bob.id, "slot": 0})
    world.alice.unavailable_slots = [1, 2]
    await db.commit()
    free = await services.free_slots(db, world.event, world.alice, world.bob)
    assert [s.index for s in free] == [i for i in all_indexes if i not in (0, 1, 2)]
    via_user = await services.free_slots_for(db, world.event, world.alice_user, world.bob.id)
    assert [s.index for s in via_user] == [s.index for s in free]


async def test_free_slots_for_checks_other_party(db: AsyncSession, world: World) -> None:
    with pytest.raises(ValidationFailed):
        await services.free_slots_for(db, world.event, world.alice_user, world.alice.id)
    with pytest.raises(ValidationFailed):
        await services.free_slots_for(db, world.event, world.alice_user, None)


async def test_set_priority_updates_meeting_weight(db: AsyncSession, world: World) -> None:
    await set_matchmaking(db, world.event, scheduling_mode="self_booking")
    request = await services.send_request(db, world.event, world.alice_user, {"to": world.bob.id, "slot": 0})
    await db.commit()
    await services.set_priority(db, world.owner, request.id, {"priority": 3})
    await db.commit()
    assert await db.scalar(select(Meeting.weight).where(Meeting.request_id == request.id)) == 3


async def test_concurrent_self_bookings_for_one_slot_exactly_one_wins(
    db: AsyncSession, world: World, settings: Settings
) -> None:
    """50 requesters race for the same receiver and slot, each in its own session: one wins."""
    await set_matchmaking(db, world.event, scheduling_mode="self_booking")
    requesters = []
    for _ in range(50):
        user = await make_user(db)
        requesters.append((user, await make_participant(db, world.event, user=user)))
    engine = create_engine(settings.database_url)
    factory = create_session_factory(engine)

    async def attempt(user_index: int) -> str:
        user, _ = requesters[user_index]
        async with factory() as session:
            event = await session.get(type(world.event), world.event.id)
            assert event is not None
            try:
                await services.send_request(session, event, user, {"to": world.bob.id, "slot": 4})
                await session.commit()
            except Conflict:
                await session.rollback()
                return "conflict"
            return "ok"

    try:
        outcomes = await asyncio.gather(*(attempt(i) for i in range(50)))
    finally:
        await engine.dispose()
    assert (outcomes.count("ok"), outcomes.count("conflict")) == (1, 49)
    slot_id = await db.scalar(select(Slot.id).where(Slot.event_id == world.event.id, Slot.index == 4))
    live = await db.scalar(
        select(func.count())
        .select_from(Meeting)
        .where(Meeting.slot_id == slot_id, Meeting.status != "cancelled")
    )
    winner = next(p.id for (u, p), o in zip(requesters, outcomes, strict=True) if o == "ok")
    assert (live, await _seats(db, 4)) == (1, sorted([winner, world.bob.id]))
    pending = await services.list_requests(db, world.event, world.bob_user, direction="received")
    assert [r.request.sender_id for r in pending] == [winner]


async def test_make_request_factory_leaves_no_meeting(db: AsyncSession, world: World) -> None:
    await make_request(db, world.alice, world.bob)
    assert await db.scalar(select(func.count()).select_from(Meeting)) == 0
