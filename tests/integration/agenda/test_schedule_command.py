from __future__ import annotations

import asyncio
from pathlib import Path

from click.testing import CliRunner, Result
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from clockevents.agenda.models import Meeting, ScheduleRun
from clockevents.cli import main
from clockevents.settings import Settings
from tests.integration.agenda.helpers import seed_pair


async def _invoke(settings: Settings, tmp_path: Path, *args: str) -> Result:
    """Run the command as a shell would, off the test's event loop (it starts its own)."""
    env = {
        "DATABASE_URL": settings.database_url,
        "SECRET_KEY": "cli-test",
        "CLOCKEVENTS_DATA_DIR": str(tmp_path),
    }
    return await asyncio.to_thread(CliRunner().invoke, main, list(args), env=env)


async def test_schedule_command_publish_writes_the_agenda(
    db: AsyncSession, settings: Settings, tmp_path: Path
) -> None:
    _, event, ada, bruno = await seed_pair(db)

    result = await _invoke(settings, tmp_path, "schedule", event.slug, "--time-limit", "2", "--publish")

    assert result.exit_code == 0, result.output + result.stderr
    assert "placed 1 of 1 meetings (weight 2 of 2), 0 breaks" in result.stdout
    assert "published build" in result.stdout
    assert "started (time limit 2 s)" in result.stderr
    rows = (await db.execute(select(Meeting.a_id, Meeting.b_id, Meeting.status, Meeting.table))).all()
    assert [tuple(r) for r in rows] == [(ada.id, bruno.id, "scheduled", 1)]
    assert list(await db.scalars(select(ScheduleRun.status))) == ["published"]


async def test_schedule_command_without_publish_leaves_a_draft(
    db: AsyncSession, settings: Settings, tmp_path: Path
) -> None:
    _, event, _, _ = await seed_pair(db)

    result = await _invoke(settings, tmp_path, "schedule", event.slug, "--time-limit", "2")

    assert result.exit_code == 0, result.output + result.stderr
    assert list(await db.scalars(select(ScheduleRun.status))) == ["done"]
    assert list(await db.scalars(select(Meeting))) == []


async def test_schedule_command_unknown_event_is_one_line_and_exit_2(
    settings: Settings, tmp_path: Path
) -> None:
    result = await _invoke(settings, tmp_path, "schedule", "no-such-event")

    assert result.exit_code == 2
    assert result.stderr == "error: No event 'no-such-event'.\n"
    assert result.stdout == ""
