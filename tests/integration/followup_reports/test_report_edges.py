"""Report corners: participants without a cluster, requests past their expiry, partners without a cluster."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from clockevents.errors import PermissionDenied
from clockevents.followup.models import MeetingOutcome
from clockevents.followup.reports import build_report
from clockevents.matchmaking.models import MeetingRequest
from tests.factories.accounts import make_user
from tests.factories.agenda import make_meeting, make_request, slot_at
from tests.factories.events import add_role, make_event
from tests.factories.registration import make_participant
from tests.integration.followup_reports.scenario import figures


async def test_report_counts_no_cluster_and_lazily_expired_requests(db: AsyncSession) -> None:
    owner = await make_user(db)
    yesterday = datetime.now(UTC).date() - timedelta(days=1)
    event = await make_event(db, owner, clusters=("Stone", "Fashion"), starts_on=yesterday)
    stone, fashion = event.clusters
    x = await make_participant(db, event, cluster=stone)
    y = await make_participant(db, event, cluster=None, participant_type="finance", country="CH")
    z = await make_participant(db, event, cluster=fashion)
    meeting = await make_meeting(db, await make_request(db, x, y), await slot_at(db, event, 0), table=None)
    for party in (x, y):
        db.add(MeetingOutcome(meeting_id=meeting.id, participant_id=party.id, rating=4, outcome="licence"))
    db.add(
        MeetingRequest(
            event_id=event.id,
            sender_id=z.id,
            receiver_id=x.id,
            status="pending",
            expires_at=datetime.now(UTC) - timedelta(hours=1),
        )
    )
    await db.commit()

    report = await build_report(db, event, owner)

    assert report.total.figures() == figures(
        requests_sent=2,
        requests_accepted=1,
        requests_expired=1,
        meetings_scheduled=1,
        meetings_held=1,
        ratings=2,
        average_rating=4.0,
        outcome_licence=2,
        confirmed_agreements=1,
    )
    assert report.matrix_labels == ["Stone", "Fashion", "No cluster"]
    assert report.matrix_held == [[0, 0, 1], [0, 0, 0], [1, 0, 0]]
    assert report.matrix_agreements == [[0, 0, 1], [0, 0, 0], [1, 0, 0]]
    assert [(g.key, g.label, g.tally.held) for g in report.breakdowns["cluster"]] == [
        (str(stone.id), "Stone", 1),
        (str(fashion.id), "Fashion", 0),
        ("", "No cluster", 1),
    ]
    assert [(g.key, g.tally.requests["expired"]) for g in report.breakdowns["country"]] == [
        ("CH", 0),
        ("IT", 1),
    ]


async def test_report_partner_without_a_cluster_is_refused(db: AsyncSession) -> None:
    owner = await make_user(db)
    event = await make_event(db, owner)
    partner = await make_user(db)
    await add_role(db, event, partner, "cluster_partner", None)

    with pytest.raises(PermissionDenied):
        await build_report(db, event, partner)
