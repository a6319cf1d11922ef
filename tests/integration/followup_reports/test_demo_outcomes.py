"""``clockevents demo --with-outcomes`` gives the impact report something to show."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

from click.testing import CliRunner, Result
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from clockevents.accounts.models import User
from clockevents.agenda.models import Meeting
from clockevents.cli import main
from clockevents.events.models import Event
from clockevents.followup.models import MeetingOutcome
from clockevents.followup.reports import build_report
from clockevents.settings import Settings


async def _invoke(settings: Settings, tmp_path: Path, *args: str) -> Result:
    """Run the command as a shell would, off the test's event loop (it starts its own)."""
    env = {
        "DATABASE_URL": settings.database_url,
        "SECRET_KEY": "cli-test",
        "CLOCKEVENTS_DATA_DIR": str(tmp_path),
    }
    return await asyncio.to_thread(CliRunner().invoke, main, list(args), env=env)


async def test_demo_with_outcomes_fills_the_report(
    db: AsyncSession, settings: Settings, tmp_path: Path
) -> None:
    args = ("demo", "--participants", "21", "--seed", "5", "--with-outcomes")

    first = await _invoke(settings, tmp_path, *args)

    assert first.exit_code == 0, first.output + first.stderr
    assert "agenda built and published:" in first.stdout
    event = await db.scalar(select(Event).where(Event.slug == "clock-demo"))
    organiser = await db.scalar(select(User).where(User.email == "organiser@clock-demo.example"))
    assert event is not None and organiser is not None
    report = await build_report(db, event, organiser)
    meetings = await db.scalar(select(func.count()).select_from(Meeting).where(Meeting.status == "scheduled"))
    total = report.total
    assert meetings and total.scheduled == meetings
    assert 0 < total.held < total.scheduled
    assert total.confirmed > 0
    assert total.ratings > 0 and total.average_rating is not None
    assert sum(total.outcomes.values()) >= total.confirmed * 2
    assert total.tasks > 0 and total.surveys_answered > 0
    assert len(report.matrix_labels) == 7
    assert sum(map(sum, report.matrix_held)) == 2 * total.held - sum(
        report.matrix_held[i][i] for i in range(7)
    )
    assert sum(1 for row in report.matrix_held for v in row if v) >= 7  # many cluster pairs met
    assert sum(map(sum, report.matrix_agreements)) > 0
    said = re.search(
        r"outcomes: (\d+) of (\d+) meetings held, (\d+) reports, (\d+) confirmed agreements, "
        r"(\d+) follow-up tasks, (\d+) surveys",
        first.stdout,
    )
    assert said is not None, first.stdout
    assert [int(g) for g in said.groups()] == [
        total.held,
        total.scheduled,
        sum(total.outcomes.values()),
        total.confirmed,
        total.tasks,
        total.surveys_sent,
    ]

    again = await _invoke(settings, tmp_path, *args)

    assert again.exit_code == 0, again.output + again.stderr
    assert "outcomes already present" in again.stdout
    reports = await db.scalar(select(func.count()).select_from(MeetingOutcome))
    assert reports == sum(total.outcomes.values())
