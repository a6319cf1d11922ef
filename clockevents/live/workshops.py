"""Workshops: one-to-many sessions (technology dissemination talks) with a presenter, chat and
questions with upvotes.

Organisers create, edit and delete them; approved participants register for them. A workshop
takes its slots away from one-to-one scheduling for its registered attendees and its presenter
(:func:`blocked_slots` is what the agenda builder, self-booking and moving a meeting ask).

Registering for them is in :mod:`clockevents.live.workshop_registration`; the room itself (access,
snapshot, chat, questions, votes) is in :mod:`clockevents.live.workshop_room`.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from clockevents.accounts.models import User
from clockevents.agenda.models import MeetingSeat
from clockevents.errors import NotAuthenticated, NotFound, ValidationFailed
from clockevents.events.models import Event, Slot
from clockevents.events.permissions import require_organiser
from clockevents.live.models import (
    Workshop,
    WorkshopRegistration,
    WorkshopSlot,
)
from clockevents.matchmaking.parties import Party, load_parties, own_participant
from clockevents.registration.models import Participant

TITLE_MAX = 200
DESCRIPTION_MAX = 5000
CAPACITY_MAX = 100_000
QUESTION_MAX = 500
CHAT_HISTORY = 200
_WHOLE_MAX = 10**9


# ---------------------------------------------------------------------------------------------
# Blocking: which slots a workshop takes from one-to-one scheduling


async def _blocked(
    db: AsyncSession, *, event_id: int | None, wanted: list[int] | None
) -> dict[int, set[int]]:
    attending = select(WorkshopRegistration.participant_id, WorkshopSlot.slot_id).join(
        WorkshopSlot, WorkshopSlot.workshop_id == WorkshopRegistration.workshop_id
    )
    presenting = select(Workshop.presenter_id, WorkshopSlot.slot_id).join(
        WorkshopSlot, WorkshopSlot.workshop_id == Workshop.id
    )
    if event_id is not None:
        attending = attending.join(Workshop, Workshop.id == WorkshopRegistration.workshop_id).where(
            Workshop.event_id == event_id
        )
        presenting = presenting.where(Workshop.event_id == event_id, Workshop.presenter_id.is_not(None))
    if wanted is not None:
        attending = attending.where(WorkshopRegistration.participant_id.in_(wanted))
        presenting = presenting.where(Workshop.presenter_id.in_(wanted))
    blocked: dict[int, set[int]] = {}
    for query in (attending, presenting):
        for participant_id, slot_id in (await db.execute(query)).all():
            blocked.setdefault(participant_id, set()).add(slot_id)
    return blocked


async def blocked_slots(db: AsyncSession, participant_ids: Collection[int]) -> dict[int, set[int]]:
    """Slot ids each participant spends in workshops (registered for, or presenting)."""
    wanted = sorted(set(participant_ids))
    if not wanted:
        return {}
    return await _blocked(db, event_id=None, wanted=wanted)


async def event_blocked_slots(db: AsyncSession, event_id: int) -> dict[int, set[int]]:
    """The same for everyone in the event's workshops, in two queries whatever the event's size."""
    return await _blocked(db, event_id=event_id, wanted=None)


async def in_workshop(db: AsyncSession, participant_id: int, slot_id: int) -> bool:
    """Whether the participant attends or presents a workshop in ``slot_id``."""
    return slot_id in (await blocked_slots(db, [participant_id])).get(participant_id, set())


# ---------------------------------------------------------------------------------------------
# Reading


@dataclass
class WorkshopView:
    """A workshop with what lists and pages show of it."""

    workshop: Workshop
    slots: list[Slot]
    presenter: Party | None
    registered: int
    is_registered: bool = False
    is_presenter: bool = False

    @property
    def places_left(self) -> int | None:
        if self.workshop.capacity is None:
            return None
        return max(0, self.workshop.capacity - self.registered)

    @property
    def full(self) -> bool:
        return self.places_left == 0

    @property
    def room_url(self) -> str:
        return f"/workshops/{self.workshop.id}/room"


async def get_workshop(db: AsyncSession, workshop_id: int) -> Workshop:
    workshop = await db.get(Workshop, workshop_id) if 0 < workshop_id <= 2**31 - 1 else None
    if workshop is None:
        raise NotFound("No such workshop.")
    return workshop


async def event_of(db: AsyncSession, workshop: Workshop) -> Event:
    event = await db.get(Event, workshop.event_id)
    assert event is not None
    return event


async def slot_choices(db: AsyncSession, event: Event) -> list[Slot]:
    """The event's slots in order (what the organisers' form offers)."""
    return list(await db.scalars(select(Slot).where(Slot.event_id == event.id).order_by(Slot.index)))


async def slots_of(db: AsyncSession, workshop_ids: Collection[int]) -> dict[int, list[Slot]]:
    found: dict[int, list[Slot]] = {wid: [] for wid in workshop_ids}
    if not workshop_ids:
        return found
    rows = await db.execute(
        select(WorkshopSlot.workshop_id, Slot)
        .join(Slot, Slot.id == WorkshopSlot.slot_id)
        .where(WorkshopSlot.workshop_id.in_(list(workshop_ids)))
        .order_by(Slot.index)
    )
    for workshop_id, slot in rows.all():
        found[workshop_id].append(slot)
    return found


async def attendee_counts(db: AsyncSession, workshop_ids: Collection[int]) -> dict[int, int]:
    if not workshop_ids:
        return {}
    rows = await db.execute(
        select(WorkshopRegistration.workshop_id, func.count())
        .where(WorkshopRegistration.workshop_id.in_(list(workshop_ids)))
        .group_by(WorkshopRegistration.workshop_id)
    )
    return {wid: n for wid, n in rows.all()}


async def views_of(db: AsyncSession, workshops: list[Workshop], me: Participant | None) -> list[WorkshopView]:
    ids = [w.id for w in workshops]
    slots = await slots_of(db, ids)
    counts = await attendee_counts(db, ids)
    presenters = await load_parties(db, [w.presenter_id for w in workshops if w.presenter_id is not None])
    mine: set[int] = set()
    if me is not None and ids:
        mine = set(
            await db.scalars(
                select(WorkshopRegistration.workshop_id).where(
                    WorkshopRegistration.participant_id == me.id, WorkshopRegistration.workshop_id.in_(ids)
                )
            )
        )
    return [
        WorkshopView(
            workshop=w,
            slots=slots.get(w.id, []),
            presenter=presenters.get(w.presenter_id) if w.presenter_id is not None else None,
            registered=counts.get(w.id, 0),
            is_registered=w.id in mine,
            is_presenter=me is not None and w.presenter_id == me.id,
        )
        for w in workshops
    ]


async def list_workshops(db: AsyncSession, event: Event, user: User | None = None) -> list[WorkshopView]:
    """The event's workshops by their first slot, with the caller's registration marked."""
    workshops = list(await db.scalars(select(Workshop).where(Workshop.event_id == event.id)))
    me = await own_participant(db, event, user)
    views = await views_of(db, workshops, me)
    views.sort(key=lambda v: (v.slots[0].index if v.slots else 10**9, v.workshop.id))
    return views


async def workshop_view(db: AsyncSession, workshop: Workshop, user: User | None = None) -> WorkshopView:
    event = await db.get(Event, workshop.event_id)
    assert event is not None
    me = await own_participant(db, event, user)
    return (await views_of(db, [workshop], me))[0]


# ---------------------------------------------------------------------------------------------
# Organisers: create, edit, delete


def whole_number(value: Any) -> int | None:
    """A whole number from JSON (3) or a form ("3"); None when it is not one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        value = value.strip()
        return int(value) if value.isdigit() and len(value) <= 9 else None
    if isinstance(value, int) and 0 <= value < _WHOLE_MAX:
        return value
    return None


async def _clean(
    db: AsyncSession, event: Event, data: Mapping[str, Any], workshop: Workshop | None
) -> tuple[dict[str, Any], list[Slot]]:
    """Check every field at once; return the cleaned values and the chosen slots."""
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}

    title = data.get("title")
    if not isinstance(title, str) or not title.strip():
        errors["title"] = "Give the workshop a title."
    elif len(title.strip()) > TITLE_MAX:
        errors["title"] = f"Keep the title under {TITLE_MAX} characters."
    else:
        values["title"] = " ".join(title.split())

    description = data.get("description") if data.get("description") is not None else ""
    if not isinstance(description, str):
        errors["description"] = "Give the description as text."
    elif len(description) > DESCRIPTION_MAX:
        errors["description"] = f"Keep the description under {DESCRIPTION_MAX} characters."
    elif "\x00" in description:
        errors["description"] = "The description contains a character that is not allowed."
    else:
        values["description"] = description.strip()

    presenter_id = whole_number(data.get("presenter_id"))
    presenter: Participant | None = None
    if data.get("presenter_id") in (None, ""):
        errors["presenter_id"] = "Choose the presenter (a participant of this event)."
    elif presenter_id is None or not 0 < presenter_id <= 2**31 - 1:
        errors["presenter_id"] = "Give the presenter as a participant id."
    else:
        presenter = await db.scalar(
            select(Participant).where(Participant.id == presenter_id, Participant.event_id == event.id)
        )
        if presenter is None:
            errors["presenter_id"] = "The presenter must be a participant of this event."
        elif presenter.status != "approved":
            errors["presenter_id"] = "The presenter must be an approved participant of this event."
        else:
            values["presenter_id"] = presenter.id

    raw_slots = data.get("slots")
    if isinstance(raw_slots, str | int) and not isinstance(raw_slots, bool):
        raw_slots = [raw_slots]
    slots: list[Slot] = []
    if not isinstance(raw_slots, list | tuple) or not raw_slots:
        errors["slots"] = "Choose one or more slots of the event."
    else:
        indices = [whole_number(v) for v in raw_slots]
        if any(i is None for i in indices) or len(indices) > 1000:
            errors["slots"] = "Give the slots as slot numbers of the event's grid."
        else:
            wanted = sorted({i for i in indices if i is not None})
            slots = list(
                await db.scalars(
                    select(Slot).where(Slot.event_id == event.id, Slot.index.in_(wanted)).order_by(Slot.index)
                )
            )
            missing = sorted(set(wanted) - {s.index for s in slots})
            if missing:
                errors["slots"] = "This event has no slot " + ", ".join(str(i) for i in missing) + "."

    capacity = data.get("capacity")
    if capacity is None or capacity == "":
        values["capacity"] = None
    else:
        number = whole_number(capacity)
        if number is None or not 1 <= number <= CAPACITY_MAX:
            errors["capacity"] = f"Give the capacity as a number from 1 to {CAPACITY_MAX}, or leave it empty."
        else:
            values["capacity"] = number
            if workshop is not None:
                taken = (await attendee_counts(db, [workshop.id])).get(workshop.id, 0)
                if number < taken:
                    errors["capacity"] = (
                        f"{taken} people are already registered: the capacity cannot be lower."
                    )

    if presenter is not None and slots and "slots" not in errors:
        await _check_presenter_free(db, presenter, slots, workshop, errors)
    if workshop is not None and slots and "slots" not in errors:
        await _check_attendees_free(db, workshop, slots, errors)
    if errors:
        raise ValidationFailed(errors)
    return values, slots


async def _check_presenter_free(
    db: AsyncSession,
    presenter: Participant,
    slots: list[Slot],
    workshop: Workshop | None,
    errors: dict[str, str],
) -> None:
    """The presenter holds no one-to-one meeting, nor gives or attends another workshop, in the slots."""
    slot_ids = [s.id for s in slots]
    index = {s.id: s.index for s in slots}
    busy = sorted(
        index[sid]
        for sid in await db.scalars(
            select(MeetingSeat.slot_id).where(
                MeetingSeat.participant_id == presenter.id, MeetingSeat.slot_id.in_(slot_ids)
            )
        )
    )
    if busy:
        errors["presenter_id"] = "The presenter has a meeting in slot " + ", ".join(map(str, busy)) + "."
        return
    query = (
        select(WorkshopSlot.slot_id)
        .join(Workshop, Workshop.id == WorkshopSlot.workshop_id)
        .where(Workshop.presenter_id == presenter.id, WorkshopSlot.slot_id.in_(slot_ids))
    )
    if workshop is not None:
        query = query.where(Workshop.id != workshop.id)
    other = sorted({index[sid] for sid in await db.scalars(query)})
    if other:
        errors["presenter_id"] = (
            "The presenter gives another workshop in slot " + ", ".join(map(str, other)) + "."
        )
        return
    query = (
        select(WorkshopSlot.slot_id)
        .join(WorkshopRegistration, WorkshopRegistration.workshop_id == WorkshopSlot.workshop_id)
        .where(WorkshopRegistration.participant_id == presenter.id, WorkshopSlot.slot_id.in_(slot_ids))
    )
    if workshop is not None:  # their seat in this very workshop goes when they become its presenter
        query = query.where(WorkshopSlot.workshop_id != workshop.id)
    attending = sorted({index[sid] for sid in await db.scalars(query)})
    if attending:
        errors["presenter_id"] = (
            "The presenter attends another workshop in slot " + ", ".join(map(str, attending)) + "."
        )


async def _check_attendees_free(
    db: AsyncSession, workshop: Workshop, slots: list[Slot], errors: dict[str, str]
) -> None:
    """Slots added to a workshop must be free for the people already registered."""
    slot_ids = [s.id for s in slots]
    registered = select(WorkshopRegistration.participant_id).where(
        WorkshopRegistration.workshop_id == workshop.id
    )
    taken = set(
        await db.scalars(
            select(MeetingSeat.slot_id).where(
                MeetingSeat.participant_id.in_(registered), MeetingSeat.slot_id.in_(slot_ids)
            )
        )
    )
    busy = sorted(s.index for s in slots if s.id in taken)
    if busy:
        errors["slots"] = (
            "Registered attendees have meetings in slot "
            + ", ".join(map(str, busy))
            + ": keep the slots as they were."
        )


async def _set_slots(db: AsyncSession, workshop: Workshop, slots: list[Slot]) -> None:
    await db.execute(delete(WorkshopSlot).where(WorkshopSlot.workshop_id == workshop.id))
    db.add_all([WorkshopSlot(workshop_id=workshop.id, slot_id=s.id) for s in slots])
    await db.flush()


async def create_workshop(
    db: AsyncSession, event: Event, user: User | None, data: Mapping[str, Any]
) -> Workshop:
    """Create a workshop (owner and organisers) after checking every field."""
    await require_organiser(db, event, user)
    values, slots = await _clean(db, event, data, None)
    workshop = Workshop(event_id=event.id, **values)
    db.add(workshop)
    await db.flush()
    await _set_slots(db, workshop, slots)
    return workshop


async def _managed(db: AsyncSession, workshop_id: int, user: User | None) -> tuple[Workshop, Event]:
    if user is None:
        raise NotAuthenticated()
    workshop = await get_workshop(db, workshop_id)
    event = await db.get(Event, workshop.event_id)
    assert event is not None
    await require_organiser(db, event, user)
    return workshop, event


async def update_workshop(
    db: AsyncSession, workshop_id: int, user: User | None, data: Mapping[str, Any]
) -> Workshop:
    """Change a workshop (owner and organisers). Every field is given again, as on create."""
    workshop, event = await _managed(db, workshop_id, user)
    values, slots = await _clean(db, event, data, workshop)
    for key, value in values.items():
        setattr(workshop, key, value)
    if values.get("presenter_id") is not None:
        # The presenter does not also sit among the attendees.
        await db.execute(
            delete(WorkshopRegistration).where(
                WorkshopRegistration.workshop_id == workshop.id,
                WorkshopRegistration.participant_id == values["presenter_id"],
            )
        )
    await _set_slots(db, workshop, slots)
    return workshop


async def delete_workshop(db: AsyncSession, workshop_id: int, user: User | None) -> Event:
    """Delete a workshop with its registrations and questions (owner and organisers)."""
    workshop, event = await _managed(db, workshop_id, user)
    await db.delete(workshop)
    await db.flush()
    return event
