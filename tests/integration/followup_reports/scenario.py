"""A small event whose every report figure is known by hand.

Three clusters: A ("Advanced Materials": a1, a2), B ("ICT & Railway": b1, b2) and C (c1),
whose name starts with "=" and holds markup, to check the CSV defusing and the escaping.
The first day was yesterday (its slots are over), the third is tomorrow.

Meetings (slot index: 0-11 yesterday, 24+ tomorrow):
  M1 a1-b1 slot 0   both in the room 10 min (held); both report commercial_agreement (5, 4)
  M2 a2-b2 slot 1   no presence; both say it took place (held): research_coop 3 / technical 4
  M3 a1-c1 slot 2   only a1 came; both report it did not take place, outcome none (no-show)
  M4 b1-c1 slot 3   together 3 min only; both say it took place (held): further_contact 5 / 2
  M5 a1-b2 slot 24  tomorrow (upcoming)
  M6 a2-a1 slot 4   together 15 min (held); both report technical_cooperation (4, 5)
  M7 b2-c1 slot 5   cancelled
Requests: one accepted per M1-M6, M7's cancelled, c1->a2 declined, b1->a2 expired, c1->b2 pending.
Surveys: a1 on M1 answered agreement_signed, b1 on M1 sent and unanswered, a2 on M6 answered
joint_project. Tasks: one done on M1, one open on M2.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from clockevents.accounts.models import User
from clockevents.agenda.models import Meeting
from clockevents.events.models import Cluster, Event, Slot
from clockevents.followup.models import FollowUpTask, MeetingOutcome, SurveyInvitation
from clockevents.live.models import Attendance
from clockevents.registration.models import Participant
from tests.factories.accounts import make_user
from tests.factories.agenda import make_meeting, make_request, slot_at
from tests.factories.events import add_role, make_event
from tests.factories.registration import make_participant

C_NAME = "=Nautical <Sea>"


@dataclass
class Scenario:
    event: Event
    owner: User
    partner_b: User
    outsider: User
    clusters: list[Cluster]
    people: dict[str, Participant]
    meetings: dict[str, Meeting]


async def _attend(db: AsyncSession, meeting: Meeting, who: Participant, start_min: int, end_min: int) -> None:
    slot = await db.get(Slot, meeting.slot_id)
    assert slot is not None
    db.add(
        Attendance(
            meeting_id=meeting.id,
            participant_id=who.id,
            user_id=who.user_id,
            joined_at=slot.starts_at + timedelta(minutes=start_min),
            left_at=slot.starts_at + timedelta(minutes=end_min),
        )
    )


def _outcome(
    meeting: Meeting, who: Participant, took_place: bool, rating: int | None, outcome: str
) -> MeetingOutcome:
    return MeetingOutcome(
        meeting_id=meeting.id,
        participant_id=who.id,
        took_place=took_place,
        rating=rating,
        wants_to_continue=took_place,
        outcome=outcome,
        private_notes="never in a report",
    )


async def seed(db: AsyncSession) -> Scenario:
    owner = await make_user(db, name="Olga Owner")
    yesterday = datetime.now(UTC).date() - timedelta(days=1)
    event = await make_event(
        db, owner, clusters=("Advanced Materials", "ICT & Railway", C_NAME), starts_on=yesterday, days=3
    )
    a, b, c = event.clusters
    people = {
        "a1": await make_participant(db, event, cluster=a, participant_type="business", country="IT"),
        "a2": await make_participant(db, event, cluster=a, participant_type="research", country="FR"),
        "b1": await make_participant(db, event, cluster=b, participant_type="finance", country="IT"),
        "b2": await make_participant(db, event, cluster=b, participant_type="business", country="DE"),
        "c1": await make_participant(db, event, cluster=c, participant_type="public_body", country="ES"),
    }
    partner_b = await make_user(db, name="Paolo Partner")
    await add_role(db, event, partner_b, "cluster_partner", b)
    outsider = await make_user(db, name="Otto Outsider")

    plan: list[tuple[str, str, str, int, str]] = [
        ("M1", "a1", "b1", 0, "scheduled"),
        ("M2", "a2", "b2", 1, "scheduled"),
        ("M3", "a1", "c1", 2, "scheduled"),
        ("M4", "b1", "c1", 3, "scheduled"),
        ("M5", "a1", "b2", 24, "scheduled"),
        ("M6", "a2", "a1", 4, "scheduled"),
        ("M7", "b2", "c1", 5, "cancelled"),
    ]
    meetings: dict[str, Meeting] = {}
    for name, sender, receiver, slot_index, status in plan:
        request = await make_request(
            db, people[sender], people[receiver], status="accepted" if status == "scheduled" else "cancelled"
        )
        slot = await slot_at(db, event, slot_index)
        meetings[name] = await make_meeting(db, request, slot, table=None, status=status)
    await make_request(db, people["c1"], people["a2"], status="declined")
    await make_request(db, people["b1"], people["a2"], status="expired")
    await make_request(db, people["c1"], people["b2"], status="pending")

    m = meetings
    p = people
    await _attend(db, m["M1"], p["a1"], 0, 10)
    await _attend(db, m["M1"], p["b1"], 0, 10)
    await _attend(db, m["M3"], p["a1"], 0, 12)
    await _attend(db, m["M4"], p["b1"], 0, 5)
    await _attend(db, m["M4"], p["c1"], 2, 10)
    await _attend(db, m["M6"], p["a2"], 1, 18)
    await _attend(db, m["M6"], p["a1"], 2, 17)
    db.add_all(
        [
            _outcome(m["M1"], p["a1"], True, 5, "commercial_agreement"),
            _outcome(m["M1"], p["b1"], True, 4, "commercial_agreement"),
            _outcome(m["M2"], p["a2"], True, 3, "research_cooperation"),
            _outcome(m["M2"], p["b2"], True, 4, "technical_cooperation"),
            _outcome(m["M3"], p["a1"], False, None, "none"),
            _outcome(m["M3"], p["c1"], False, None, "none"),
            _outcome(m["M4"], p["b1"], True, 5, "further_contact"),
            _outcome(m["M4"], p["c1"], True, 2, "further_contact"),
            _outcome(m["M6"], p["a2"], True, 4, "technical_cooperation"),
            _outcome(m["M6"], p["a1"], True, 5, "technical_cooperation"),
        ]
    )
    later = datetime.now(UTC) + timedelta(days=60)
    db.add_all(
        [
            SurveyInvitation(
                meeting_id=m["M1"].id,
                participant_id=p["a1"].id,
                expires_at=later,
                used_at=datetime.now(UTC),
                stage="agreement_signed",
                agreement_kind="commercial_agreement",
            ),
            SurveyInvitation(meeting_id=m["M1"].id, participant_id=p["b1"].id, expires_at=later),
            SurveyInvitation(
                meeting_id=m["M6"].id,
                participant_id=p["a2"].id,
                expires_at=later,
                used_at=datetime.now(UTC),
                stage="joint_project",
            ),
            FollowUpTask(
                event_id=event.id,
                meeting_id=m["M1"].id,
                owner_id=p["a1"].id,
                created_by_id=p["a1"].id,
                title="Send the draft contract",
                done_at=datetime.now(UTC),
            ),
            FollowUpTask(
                event_id=event.id,
                meeting_id=m["M2"].id,
                owner_id=p["b2"].id,
                created_by_id=p["a2"].id,
                title="Share the test results",
            ),
        ]
    )
    await db.commit()
    return Scenario(event, owner, partner_b, outsider, [a, b, c], people, meetings)


def figures(**values: Any) -> dict[str, Any]:
    """A report's flat figures: zero everywhere except ``values``."""
    row: dict[str, Any] = {
        f"requests_{k}": 0 for k in ("sent", "accepted", "declined", "expired", "pending", "cancelled")
    }
    row.update(
        meetings_scheduled=0,
        meetings_held=0,
        meetings_no_show=0,
        meetings_upcoming=0,
        meetings_cancelled=0,
        ratings=0,
        average_rating=None,
    )
    row.update(
        {
            f"outcome_{k}": 0
            for k in (
                "none",
                "further_contact",
                "technical_cooperation",
                "commercial_agreement",
                "research_cooperation",
                "investment",
                "licence",
            )
        }
    )
    row["confirmed_agreements"] = 0
    row.update(surveys_sent=0, surveys_answered=0)
    row.update({f"survey_{s}": 0 for s in ("no_contact", "negotiation", "agreement_signed", "joint_project")})
    row.update(tasks=0, tasks_done=0)
    unknown = set(values) - set(row)
    assert not unknown, unknown
    row.update(values)
    return row
