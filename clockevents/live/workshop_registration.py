"""Workshop registration: approved participants register and unregister, within capacity.

Refused when the workshop is full, when the caller presents it, and when the caller already has a
one-to-one meeting or another workshop in one of its slots. The workshops themselves (what they
are, who manages them, which slots they block) are in :mod:`clockevents.live.workshops`.
"""

from __future__ import annotations

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from clockevents.accounts.models import User
from clockevents.agenda.models import MeetingSeat
from clockevents.errors import Conflict, NotAuthenticated, PermissionDenied
from clockevents.events.models import Event, Slot
from clockevents.live.models import Workshop, WorkshopRegistration, WorkshopSlot
from clockevents.live.workshops import WorkshopView, attendee_counts, get_workshop, slots_of, views_of
from clockevents.matchmaking.parties import lock_participants, own_participant
from clockevents.registration.models import Participant


async def _lock_workshop(db: AsyncSession, workshop: Workshop) -> None:
    """Serialise registrations of one workshop so the capacity holds under concurrent clicks."""
    if db.get_bind().dialect.name == "sqlite":
        # No row locks: a no-op write takes the database's write lock now, before the count.
        await db.execute(
            update(Workshop)
            .where(Workshop.id == workshop.id)
            .values(capacity=Workshop.capacity)
            .execution_options(synchronize_session=False)
        )
        return
    await db.execute(select(Workshop.id).where(Workshop.id == workshop.id).with_for_update())


async def _attendee(db: AsyncSession, workshop: Workshop, user: User | None) -> tuple[Event, Participant]:
    if user is None:
        raise NotAuthenticated()
    event = await db.get(Event, workshop.event_id)
    assert event is not None
    me = await own_participant(db, event, user)
    if me is None or me.status != "approved":
        raise PermissionDenied("Only the event's approved participants may register for its workshops.")
    return event, me


async def register(db: AsyncSession, workshop_id: int, user: User | None) -> WorkshopView:
    """Register the caller for the workshop (again: nothing changes).

    Refused when the workshop is full, when the caller presents it, and when the caller already
    has a one-to-one meeting (held or scheduled) or another workshop in one of its slots.
    """
    workshop = await get_workshop(db, workshop_id)
    event, me = await _attendee(db, workshop, user)
    if workshop.presenter_id == me.id:
        raise Conflict("You present this workshop: you need no registration.")
    await lock_participants(db, me.id)  # the same lock self-booking takes before it checks seats
    await _lock_workshop(db, workshop)
    already = await db.scalar(
        select(WorkshopRegistration.id).where(
            WorkshopRegistration.workshop_id == workshop.id, WorkshopRegistration.participant_id == me.id
        )
    )
    if already is None:
        slots = (await slots_of(db, [workshop.id]))[workshop.id]
        await _check_free_for(db, event, me, workshop, slots)
        taken = (await attendee_counts(db, [workshop.id])).get(workshop.id, 0)
        if workshop.capacity is not None and taken >= workshop.capacity:
            raise Conflict("This workshop is full.", {"workshop": "This workshop is full."})
        try:
            async with db.begin_nested():
                db.add(WorkshopRegistration(workshop_id=workshop.id, participant_id=me.id))
                await db.flush()
        except IntegrityError:  # the same person's second click won the race: registered either way
            pass
    return (await views_of(db, [workshop], me))[0]


async def _check_free_for(
    db: AsyncSession, event: Event, me: Participant, workshop: Workshop, slots: list[Slot]
) -> None:
    from clockevents.agenda.meetings import zone_of

    zone = zone_of(event.timezone)
    by_id = {s.id: s for s in slots}
    seat = await db.scalar(
        select(MeetingSeat.slot_id)
        .where(MeetingSeat.participant_id == me.id, MeetingSeat.slot_id.in_(list(by_id)))
        .limit(1)
    )
    if seat is not None:
        when = by_id[seat].starts_at.astimezone(zone).strftime("%a %d %b, %H:%M")
        message = (
            f"You already have a meeting in this workshop's slot ({when}). "
            "Cancel or move that meeting first, or choose another workshop."
        )
        raise Conflict(message, {"workshop": message})
    clash = await db.scalar(
        select(Workshop.title)
        .join(WorkshopSlot, WorkshopSlot.workshop_id == Workshop.id)
        .outerjoin(
            WorkshopRegistration,
            (WorkshopRegistration.workshop_id == Workshop.id)
            & (WorkshopRegistration.participant_id == me.id),
        )
        .where(
            Workshop.id != workshop.id,
            WorkshopSlot.slot_id.in_(list(by_id)),
            (WorkshopRegistration.id.is_not(None)) | (Workshop.presenter_id == me.id),
        )
        .limit(1)
    )
    if clash is not None:
        message = f"You are already in the workshop “{clash}” at the same time."
        raise Conflict(message, {"workshop": message})


async def unregister(db: AsyncSession, workshop_id: int, user: User | None) -> WorkshopView:
    """Withdraw the caller's registration (when there is none: nothing changes)."""
    workshop = await get_workshop(db, workshop_id)
    _event, me = await _attendee(db, workshop, user)
    await db.execute(
        delete(WorkshopRegistration).where(
            WorkshopRegistration.workshop_id == workshop.id, WorkshopRegistration.participant_id == me.id
        )
    )
    await db.flush()
    return (await views_of(db, [workshop], me))[0]
