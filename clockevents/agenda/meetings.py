"""Meetings as people see them: who, where, and when in the event's zone, their own zone and UTC."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from clockevents.accounts.models import User
from clockevents.agenda.models import Meeting
from clockevents.agenda.problem import Person, load_people
from clockevents.errors import NotAuthenticated, PermissionDenied
from clockevents.events.models import Event, Slot
from clockevents.events.permissions import access_for
from clockevents.registration.models import Participant


@dataclass
class MeetingView:
    """One meeting with both sides and its times; ``partner`` is set when the caller is in it."""

    id: int
    uid: str
    status: str
    table: int | None
    sequence: int
    a: Person
    b: Person
    partner: Person | None
    slot_index: int | None
    starts_at: datetime | None  # UTC
    ends_at: datetime | None
    zone: str  # the event's IANA zone
    cancel_reason: str = ""
    cancelled_at: datetime | None = None
    request_id: int | None = None

    def local(self, value: datetime | None, zone: str | None = None) -> datetime | None:
        return value.astimezone(_zone(zone or self.zone)) if value is not None else None

    @property
    def day(self) -> date | None:
        start = self.local(self.starts_at)
        return start.date() if start else None


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


zone_of = _zone  # public name: the IANA zone, UTC when the name is unknown


async def participant_of(db: AsyncSession, event: Event, user: User) -> Participant | None:
    return await db.scalar(
        select(Participant).where(Participant.event_id == event.id, Participant.user_id == user.id)
    )


async def list_meetings(
    db: AsyncSession, event: Event, user: User | None, *, statuses: tuple[str, ...] | None = None
) -> list[MeetingView]:
    """Meetings with a slot the caller may see, in time order.

    Organisers see every meeting, cluster partners those of their cluster's participants,
    participants their own; anyone else gets PermissionDenied.
    """
    if user is None:
        raise NotAuthenticated()
    access = await access_for(db, event, user)
    me = await participant_of(db, event, user)
    query = (
        select(Meeting, Slot)
        .join(Slot, Slot.id == Meeting.slot_id)
        .where(Meeting.event_id == event.id)
        .order_by(Slot.index, Meeting.table, Meeting.id)
    )
    if statuses:
        query = query.where(Meeting.status.in_(statuses))
    if not access.is_organiser:
        visible = []
        if me is not None:
            visible += [Meeting.a_id == me.id, Meeting.b_id == me.id]
        if access.role == "cluster_partner" and access.cluster_id is not None:
            members = select(Participant.id).where(
                Participant.event_id == event.id, Participant.cluster_id == access.cluster_id
            )
            visible += [Meeting.a_id.in_(members), Meeting.b_id.in_(members)]
        if not visible:
            raise PermissionDenied("You are not registered for this event.")
        query = query.where(or_(*visible))
    rows = (await db.execute(query)).all()
    people = await load_people(db, {p for m, _ in rows for p in (m.a_id, m.b_id)})
    views = []
    for meeting, slot in rows:
        a = people.get(meeting.a_id) or Person(meeting.a_id, f"Participant {meeting.a_id}", "", None)
        b = people.get(meeting.b_id) or Person(meeting.b_id, f"Participant {meeting.b_id}", "", None)
        partner = None
        if me is not None and me.id in (a.id, b.id):
            partner = b if me.id == a.id else a
        views.append(
            MeetingView(
                id=meeting.id,
                uid=meeting.uid,
                status=meeting.status,
                table=meeting.table,
                sequence=meeting.sequence,
                a=a,
                b=b,
                partner=partner,
                slot_index=slot.index,
                starts_at=slot.starts_at,
                ends_at=slot.ends_at,
                zone=event.timezone,
                cancel_reason=meeting.cancel_reason,
                cancelled_at=meeting.cancelled_at,
                request_id=meeting.request_id,
            )
        )
    return views


async def own_zone(db: AsyncSession, event: Event, user: User) -> str:
    """The zone a person reads their agenda in: their account's, else their registration's."""
    if user.timezone:
        return user.timezone
    me = await participant_of(db, event, user)
    return me.timezone if me is not None and me.timezone else event.timezone
