"""Changes after publication: cancel a meeting, move it to another slot or table.

Both keep the calendar contract: the UID never changes and ``sequence`` grows on every
material change (time, place, status), so calendar apps update the entry instead of
duplicating it. The unique seats and table bookings make concurrent changes harmless: a
lost race surfaces as an IntegrityError and is reported as a 409.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from clockevents.accounts.models import User
from clockevents.agenda.meetings import zone_of
from clockevents.agenda.models import Meeting, MeetingSeat, TableBooking
from clockevents.agenda.problem import LIVE_STATUSES, load_people
from clockevents.db import utcnow
from clockevents.errors import Conflict, NotAuthenticated, NotFound, PermissionDenied, ValidationFailed
from clockevents.events.models import Event, Slot
from clockevents.events.permissions import Access, access_for
from clockevents.live.workshops import blocked_slots
from clockevents.notify.mail import send_meeting_mail
from clockevents.notify.services import notify
from clockevents.registration.models import Participant

REASON_MAX = 500
TIME_FORMAT = "%a %d %b %Y, %H:%M"


@dataclass
class MeetingContext:
    """A meeting with what the rules need: its event, both participants and the caller's power."""

    meeting: Meeting
    event: Event
    a: Participant
    b: Participant
    access: Access

    @property
    def staff_covers(self) -> bool:
        """The caller organises the event or a cluster that one side belongs to."""
        return self.access.covers_cluster(self.a.cluster_id) or self.access.covers_cluster(self.b.cluster_id)


async def load_meeting(
    db: AsyncSession, meeting_id: int, user: User | None, *, lock: bool = False
) -> MeetingContext:
    """Return the meeting and its parties, or raise 401 / 404 / 403 (nobody else learns it exists)."""
    if user is None:
        raise NotAuthenticated()
    query = select(Meeting).where(Meeting.id == meeting_id)
    if lock:
        # PostgreSQL: serialise two changes of the same meeting (SQLite serialises writers anyway).
        query = query.with_for_update()
    meeting = await db.scalar(query)
    if meeting is None:
        raise NotFound("No such meeting.")
    event = await db.get(Event, meeting.event_id)
    a = await db.get(Participant, meeting.a_id)
    b = await db.get(Participant, meeting.b_id)
    if event is None or a is None or b is None:
        raise NotFound("No such meeting.")
    context = MeetingContext(meeting, event, a, b, await access_for(db, event, user))
    if user.id not in (a.user_id, b.user_id) and not context.staff_covers:
        raise PermissionDenied("Only the two participants and the organisers may change this meeting.")
    return context


def _when(slot: Slot | None, event: Event) -> str:
    if slot is None:
        return "an unscheduled time"
    return slot.starts_at.astimezone(zone_of(event.timezone)).strftime(TIME_FORMAT)


def _place(event: Event, table: int | None) -> str:
    if table is None:
        return ""
    return f", {'room' if event.format == 'virtual' else 'table'} {table}"


async def cancel_meeting(db: AsyncSession, meeting_id: int, user: User | None, reason: Any = None) -> Meeting:
    """Cancel a live meeting: free its seats and table, raise its sequence, tell the other side.

    Either participant or staff covering either side may cancel; a second cancel is a 409.
    """
    if reason is not None and not isinstance(reason, str):
        raise ValidationFailed({"reason": "Give the reason as text."})
    reason = (reason or "").strip()
    if len(reason) > REASON_MAX:
        raise ValidationFailed({"reason": f"Keep the reason under {REASON_MAX} characters."})
    if "\x00" in reason:
        raise ValidationFailed({"reason": "The reason contains a character that is not allowed."})
    context = await load_meeting(db, meeting_id, user, lock=True)
    meeting, event = context.meeting, context.event
    if meeting.status == "cancelled":
        raise Conflict("This meeting is already cancelled.")
    if meeting.status not in LIVE_STATUSES:
        raise Conflict("Only a scheduled meeting can be cancelled.")
    slot = await db.get(Slot, meeting.slot_id) if meeting.slot_id is not None else None
    await db.execute(delete(MeetingSeat).where(MeetingSeat.meeting_id == meeting.id))
    await db.execute(delete(TableBooking).where(TableBooking.meeting_id == meeting.id))
    meeting.status = "cancelled"
    meeting.cancelled_at = utcnow()
    meeting.cancel_reason = reason
    meeting.sequence += 1
    await db.flush()

    people = await load_people(db, [meeting.a_id, meeting.b_id])
    a, b = people.get(meeting.a_id), people.get(meeting.b_id)
    assert user is not None  # load_meeting refused anonymous callers
    recipients = [p for p in (a, b) if p is not None and p.user_id != user.id]
    url = f"/events/{event.slug}/agenda"
    for person in recipients:
        other = b if person is a else a
        text = f"Your meeting with {other.name if other else 'your partner'} on {_when(slot, event)} was cancelled."
        if reason:
            text += f" Reason: {reason}"
        await notify(db, person.user_id, event.id, "meeting_cancelled", text, url)
    # Both sides get the iTIP CANCEL (the canceller's calendar app holds the meeting too).
    await send_meeting_mail(db, meeting, "cancelled", [meeting.a_id, meeting.b_id])
    return meeting


def _whole(value: Any, field: str, errors: dict[str, str], message: str) -> int | None:
    """A whole number from JSON or a form (``"3"``), or record ``message`` for ``field``."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        errors[field] = message
        return None
    if isinstance(value, str):
        value = value.strip()
        if not value.isdigit() or len(value) > 9:
            errors[field] = message
            return None
        return int(value)
    if isinstance(value, int) and 0 <= value < 10**9:
        return value
    errors[field] = message
    return None


async def move_meeting(
    db: AsyncSession, meeting_id: int, user: User | None, *, slot: Any = None, table: Any = None
) -> Meeting:
    """Move a live meeting to another slot and/or table, checked against every hard rule.

    Staff only (cluster partners for meetings of their cluster). Both participants must be free
    and available in the new slot, the table within the event's tables and free there. Seats
    and booking are replaced in one transaction; a race lost to another change is a 409.
    """
    context = await load_meeting(db, meeting_id, user, lock=True)
    meeting, event = context.meeting, context.event
    if not context.staff_covers:
        raise PermissionDenied("Only the organisers may move a meeting.")
    if meeting.status not in LIVE_STATUSES:
        raise Conflict("A cancelled meeting cannot be moved.")

    errors: dict[str, str] = {}
    slot_index = _whole(slot, "slot", errors, "Give the slot as a whole number.")
    table_no = _whole(table, "table", errors, f"Give a table number from 1 to {event.tables}.")
    if "slot" not in errors and "table" not in errors and slot_index is None and table_no is None:
        errors["slot"] = "Choose a slot or a table to move the meeting to."
    target: Slot | None = None
    if slot_index is not None:
        target = await db.scalar(select(Slot).where(Slot.event_id == event.id, Slot.index == slot_index))
        if target is None:
            errors["slot"] = f"This event has no slot {slot_index}."
    elif "slot" not in errors:
        target = await db.get(Slot, meeting.slot_id) if meeting.slot_id is not None else None
        if target is None:
            errors["slot"] = "This meeting has no slot yet: choose one."
    if table_no is not None and not 1 <= table_no <= event.tables:
        errors["table"] = f"Give a table number from 1 to {event.tables}."
    new_table = table_no if table_no is not None else meeting.table
    if target is not None and not errors:
        await _check_rules(db, context, target, new_table, errors)
    if errors:
        raise ValidationFailed(errors)
    assert target is not None
    if target.id == meeting.slot_id and new_table == meeting.table:
        return meeting  # nothing material changed: calendars keep their copy

    old_slot = await db.get(Slot, meeting.slot_id) if meeting.slot_id is not None else None
    old_table = meeting.table
    try:
        async with db.begin_nested():
            await db.execute(delete(MeetingSeat).where(MeetingSeat.meeting_id == meeting.id))
            await db.execute(delete(TableBooking).where(TableBooking.meeting_id == meeting.id))
            db.add_all(
                [
                    MeetingSeat(meeting_id=meeting.id, participant_id=meeting.a_id, slot_id=target.id),
                    MeetingSeat(meeting_id=meeting.id, participant_id=meeting.b_id, slot_id=target.id),
                ]
            )
            if new_table is not None:
                db.add(TableBooking(meeting_id=meeting.id, slot_id=target.id, table=new_table))
            meeting.slot_id = target.id
            meeting.table = new_table
            meeting.sequence += 1
            await db.flush()
    except IntegrityError as exc:
        raise Conflict("That slot or table was taken meanwhile; nothing was changed. Try again.") from exc

    people = await load_people(db, [meeting.a_id, meeting.b_id])
    a, b = people.get(meeting.a_id), people.get(meeting.b_id)
    url = f"/events/{event.slug}/agenda"
    before = _when(old_slot, event) + _place(event, old_table)
    after = _when(target, event) + _place(event, new_table)
    recipients = [p for p in (a, b) if p is not None]
    for person in recipients:
        other = b if person is a else a
        text = f"Your meeting with {other.name if other else 'your partner'} moved from {before} to {after}."
        await notify(db, person.user_id, event.id, "meeting_moved", text, url)
    await send_meeting_mail(db, meeting, "moved", [meeting.a_id, meeting.b_id])
    return meeting


async def _check_rules(
    db: AsyncSession, context: MeetingContext, target: Slot, table: int | None, errors: dict[str, str]
) -> None:
    """Record a message for every hard rule the new place breaks (the scheduler's rules)."""
    meeting = context.meeting
    people = await load_people(db, [meeting.a_id, meeting.b_id])
    problems: list[str] = []
    in_workshops = await blocked_slots(db, [context.a.id, context.b.id])
    for participant in (context.a, context.b):
        name = people[participant.id].name if participant.id in people else f"Participant {participant.id}"
        busy = await db.scalar(
            select(MeetingSeat.id).where(
                MeetingSeat.participant_id == participant.id,
                MeetingSeat.slot_id == target.id,
                MeetingSeat.meeting_id != meeting.id,
            )
        )
        if busy is not None:
            problems.append(f"{name} already has another meeting in slot {target.index}.")
        elif target.index in (participant.unavailable_slots or []):
            problems.append(f"{name} is not available in slot {target.index}.")
        elif target.id in in_workshops.get(participant.id, ()):
            problems.append(f"{name} is in a workshop in slot {target.index}.")
    if problems:
        errors["slot"] = " ".join(problems)
    if table is not None:
        taken = await db.scalar(
            select(TableBooking.id).where(
                TableBooking.slot_id == target.id,
                TableBooking.table == table,
                TableBooking.meeting_id != meeting.id,
            )
        )
        if taken is not None:
            errors["table"] = f"Table {table} is already taken in slot {target.index}."
