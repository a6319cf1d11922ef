from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from clockevents.accounts.models import User
from clockevents.agenda.changes import cancel_meeting, move_meeting
from clockevents.agenda.models import Meeting, MeetingSeat, TableBooking
from clockevents.errors import Conflict, NotAuthenticated, NotFound, PermissionDenied, ValidationFailed
from clockevents.events.models import Event, Slot
from clockevents.notify.mail_models import OutboundMail
from clockevents.notify.models import Notification
from clockevents.registration.models import Participant
from tests.factories.accounts import make_user
from tests.factories.agenda import make_meeting, make_request, slot_at
from tests.factories.events import add_role, make_event
from tests.factories.registration import make_organisation, make_participant

# Saturday 24 and Sunday 25 October 2026: Europe/Rome goes from UTC+2 to UTC+1 at 03:00 on the
# 25th; Lisbon from UTC+1 to UTC+0; New York stays on UTC-4 until 1 November.
DAY = date(2026, 10, 24)
SESSIONS = ((time(9, 0), time(10, 0)),)  # two slots a day: 09:00-09:20, 09:25-09:45


@dataclass
class Seed:
    owner: User
    event: Event
    ada: Participant  # Lisbon, Nautical cluster
    bruno: Participant  # New York
    carla: Participant
    dario: Participant
    first: Meeting  # Ada & Bruno, slot 0 (Sat 09:00 Rome), table 1
    second: Meeting  # Ada & Bruno, slot 2 (Sun 09:00 Rome), table 2
    other: Meeting  # Carla & Dario, slot 2, table 1

    async def user_of(self, db: AsyncSession, participant: Participant) -> User:
        user = await db.get(User, participant.user_id)
        assert user is not None
        return user


async def seed(db: AsyncSession) -> Seed:
    """An event across the end of summer time, three published meetings."""
    owner = await make_user(db, name="Olga Owner")
    event = await make_event(db, owner, starts_on=DAY, days=2, session_times=SESSIONS)
    event.tables = 3
    await db.commit()

    async def person(name: str, org: str, zone: str, cluster: int | None = None) -> Participant:
        participant = await make_participant(
            db,
            event,
            user=await make_user(db, name=name),
            organisation=await make_organisation(db, name=org),
            cluster=event.clusters[cluster] if cluster is not None else None,
        )
        participant.timezone = zone
        await db.commit()
        return participant

    ada = await person("Ada Rossi", "Acme Srl", "Europe/Lisbon", cluster=2)
    bruno = await person("Bruno Neri", "=HYPERLINK(1)", "America/New_York")
    carla = await person("Carla Bianchi", "Marmi Spa", "Europe/Rome", cluster=1)
    dario = await person("Dario Verdi", "Vele Srl", "Europe/Rome")
    first = await make_meeting(db, await make_request(db, ada, bruno), await slot_at(db, event, 0), table=1)
    second = await make_meeting(db, await make_request(db, bruno, ada), await slot_at(db, event, 2), table=2)
    other = await make_meeting(db, await make_request(db, carla, dario), await slot_at(db, event, 2), table=1)
    return Seed(owner, event, ada, bruno, carla, dario, first, second, other)


async def _fresh(db: AsyncSession, meeting: Meeting) -> Meeting:
    row = await db.scalar(
        select(Meeting).where(Meeting.id == meeting.id).execution_options(populate_existing=True)
    )
    assert row is not None
    return row


async def _seats(db: AsyncSession, meeting: Meeting) -> list[tuple[int, int]]:
    rows = await db.execute(
        select(MeetingSeat.participant_id, Slot.index)
        .join(Slot, Slot.id == MeetingSeat.slot_id)
        .where(MeetingSeat.meeting_id == meeting.id)
        .order_by(MeetingSeat.participant_id)
    )
    return [tuple(r) for r in rows.all()]  # type: ignore[misc]


async def _booking(db: AsyncSession, meeting: Meeting) -> list[tuple[int, int]]:
    rows = await db.execute(
        select(Slot.index, TableBooking.table)
        .join(Slot, Slot.id == TableBooking.slot_id)
        .where(TableBooking.meeting_id == meeting.id)
    )
    return [tuple(r) for r in rows.all()]  # type: ignore[misc]


async def _notes(db: AsyncSession) -> list[tuple[int, str, str]]:
    rows = await db.scalars(select(Notification).order_by(Notification.user_id, Notification.id))
    return [(n.user_id, n.kind, n.text) for n in rows]


async def _mails(db: AsyncSession) -> list[tuple[str, str, str]]:
    rows = await db.scalars(select(OutboundMail).order_by(OutboundMail.to))
    return [(m.to, m.subject, m.ics_method) for m in rows]


async def test_cancel_by_participant_frees_seats_and_tells_partner(db: AsyncSession) -> None:
    s = await seed(db)
    ada = await s.user_of(db, s.ada)

    await cancel_meeting(db, s.first.id, ada, "  Flight cancelled  ")
    await db.commit()

    meeting = await _fresh(db, s.first)
    assert (meeting.status, meeting.sequence, meeting.cancel_reason) == ("cancelled", 1, "Flight cancelled")
    assert meeting.cancelled_at is not None
    assert await _seats(db, meeting) == []
    assert await _booking(db, meeting) == []
    assert await _notes(db) == [
        (
            s.bruno.user_id,
            "meeting_cancelled",
            "Your meeting with Ada Rossi on Sat 24 Oct 2026, 09:00 was cancelled. Reason: Flight cancelled",
        )
    ]
    ada_mail, bruno_mail = ada.email, (await s.user_of(db, s.bruno)).email
    assert sorted(await _mails(db)) == sorted(
        [
            (
                ada_mail,
                "Cancelled: meeting with Bruno Neri (=HYPERLINK(1)) on Sat 24 Oct 2026, 08:00 WEST",
                "CANCEL",
            ),
            (
                bruno_mail,
                "Cancelled: meeting with Ada Rossi (Acme Srl) on Sat 24 Oct 2026, 03:00 EDT",
                "CANCEL",
            ),
        ]
    )


async def test_cancel_twice_conflicts(db: AsyncSession) -> None:
    s = await seed(db)
    await cancel_meeting(db, s.first.id, s.owner)
    await db.commit()

    with pytest.raises(Conflict) as caught:
        await cancel_meeting(db, s.first.id, s.owner)

    assert caught.value.message == "This meeting is already cancelled."
    assert (await _fresh(db, s.first)).sequence == 1


async def test_cancel_by_organiser_tells_both_sides(db: AsyncSession) -> None:
    s = await seed(db)

    await cancel_meeting(db, s.second.id, s.owner)
    await db.commit()

    text_for_ada = "Your meeting with Bruno Neri on Sun 25 Oct 2026, 09:00 was cancelled."
    text_for_bruno = "Your meeting with Ada Rossi on Sun 25 Oct 2026, 09:00 was cancelled."
    assert await _notes(db) == [
        (s.ada.user_id, "meeting_cancelled", text_for_ada),
        (s.bruno.user_id, "meeting_cancelled", text_for_bruno),
    ]


async def test_cancel_permissions_stranger_partner_and_anonymous(db: AsyncSession) -> None:
    s = await seed(db)
    carla = await s.user_of(db, s.carla)
    nautical = await make_user(db)
    await add_role(db, s.event, nautical, "cluster_partner", s.event.clusters[2])
    stone = await make_user(db)
    await add_role(db, s.event, stone, "cluster_partner", s.event.clusters[1])

    with pytest.raises(PermissionDenied):
        await cancel_meeting(db, s.first.id, carla)
    with pytest.raises(PermissionDenied):
        await cancel_meeting(db, s.first.id, stone)
    with pytest.raises(NotAuthenticated):
        await cancel_meeting(db, s.first.id, None)
    with pytest.raises(NotFound):
        await cancel_meeting(db, 999999, s.owner)
    cancelled = await cancel_meeting(db, s.first.id, nautical)  # Ada is in the Nautical cluster
    assert cancelled.status == "cancelled"


async def test_cancel_reason_too_long_or_not_text_refused(db: AsyncSession) -> None:
    s = await seed(db)

    with pytest.raises(ValidationFailed) as long:
        await cancel_meeting(db, s.first.id, s.owner, "x" * 501)
    with pytest.raises(ValidationFailed) as typed:
        await cancel_meeting(db, s.first.id, s.owner, 42)

    assert long.value.fields == {"reason": "Keep the reason under 500 characters."}
    assert typed.value.fields == {"reason": "Give the reason as text."}
    assert (await _fresh(db, s.first)).status == "scheduled"


async def test_move_to_free_slot_and_table_replaces_seats_and_notifies(db: AsyncSession) -> None:
    s = await seed(db)

    moved = await move_meeting(db, s.first.id, s.owner, slot=3, table=3)
    await db.commit()

    assert (moved.sequence, moved.table) == (1, 3)
    assert await _seats(db, moved) == [(s.ada.id, 3), (s.bruno.id, 3)]
    assert await _booking(db, moved) == [(3, 3)]
    # Each in their own zone: Lisbon is on winter time (WET) by Sunday, New York not yet.
    assert sorted((subject, method) for _, subject, method in await _mails(db)) == [
        ("Meeting with Ada Rossi (Acme Srl) moved to Sun 25 Oct 2026, 04:25 EDT", "REQUEST"),
        ("Meeting with Bruno Neri (=HYPERLINK(1)) moved to Sun 25 Oct 2026, 08:25 WET", "REQUEST"),
    ]
    assert await _notes(db) == [
        (
            s.ada.user_id,
            "meeting_moved",
            "Your meeting with Bruno Neri moved from Sat 24 Oct 2026, 09:00, room 1 to Sun 25 Oct 2026, 09:25, room 3.",
        ),
        (
            s.bruno.user_id,
            "meeting_moved",
            "Your meeting with Ada Rossi moved from Sat 24 Oct 2026, 09:00, room 1 to Sun 25 Oct 2026, 09:25, room 3.",
        ),
    ]


async def test_move_table_only_keeps_slot_and_raises_sequence(db: AsyncSession) -> None:
    s = await seed(db)

    moved = await move_meeting(db, s.second.id, s.owner, table="3")
    await db.commit()

    assert (moved.sequence, moved.table) == (1, 3)
    assert await _seats(db, moved) == [(s.ada.id, 2), (s.bruno.id, 2)]
    assert await _booking(db, moved) == [(2, 3)]


async def test_move_to_same_place_changes_nothing(db: AsyncSession) -> None:
    s = await seed(db)

    moved = await move_meeting(db, s.first.id, s.owner, slot=0, table=1)
    await db.commit()

    assert moved.sequence == 0
    assert await _notes(db) == []


async def test_move_participant_busy_refused(db: AsyncSession) -> None:
    s = await seed(db)

    with pytest.raises(ValidationFailed) as caught:
        await move_meeting(db, s.first.id, s.owner, slot=2, table=3)

    assert caught.value.fields == {
        "slot": "Ada Rossi already has another meeting in slot 2. Bruno Neri already has another meeting in slot 2."
    }


async def test_move_participant_unavailable_refused(db: AsyncSession) -> None:
    s = await seed(db)
    s.bruno.unavailable_slots = [1]
    await db.commit()

    with pytest.raises(ValidationFailed) as caught:
        await move_meeting(db, s.first.id, s.owner, slot=1)

    assert caught.value.fields == {"slot": "Bruno Neri is not available in slot 1."}
    assert await _seats(db, s.first) == [(s.ada.id, 0), (s.bruno.id, 0)]


async def test_move_table_taken_refused(db: AsyncSession) -> None:
    s = await seed(db)
    await cancel_meeting(db, s.second.id, s.owner)  # Ada and Bruno are free in slot 2 now
    await db.commit()

    with pytest.raises(ValidationFailed) as caught:
        await move_meeting(db, s.first.id, s.owner, slot=2, table=1)

    assert caught.value.fields == {"table": "Table 1 is already taken in slot 2."}


async def test_move_bad_values_each_reported(db: AsyncSession) -> None:
    s = await seed(db)

    with pytest.raises(ValidationFailed) as bad:
        await move_meeting(db, s.first.id, s.owner, slot="soon", table=4)
    with pytest.raises(ValidationFailed) as unknown:
        await move_meeting(db, s.first.id, s.owner, slot=99, table=0)
    with pytest.raises(ValidationFailed) as empty:
        await move_meeting(db, s.first.id, s.owner)

    assert bad.value.fields == {
        "slot": "Give the slot as a whole number.",
        "table": "Give a table number from 1 to 3.",
    }
    assert unknown.value.fields == {
        "slot": "This event has no slot 99.",
        "table": "Give a table number from 1 to 3.",
    }
    assert empty.value.fields == {"slot": "Choose a slot or a table to move the meeting to."}


async def test_move_by_participant_or_of_cancelled_meeting_refused(db: AsyncSession) -> None:
    s = await seed(db)
    ada = await s.user_of(db, s.ada)

    with pytest.raises(PermissionDenied):
        await move_meeting(db, s.first.id, ada, slot=1)
    await cancel_meeting(db, s.first.id, ada)
    await db.commit()
    with pytest.raises(Conflict):
        await move_meeting(db, s.first.id, s.owner, slot=1)
