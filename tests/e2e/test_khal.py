"""A real calendar client, Debian's khal, reads our feed: local times, moves and cancellations."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession

from clockevents.agenda import feeds
from tests.factories.agenda import slot_at
from tests.integration.agenda import calendar_scenario

KHAL = "/usr/bin/khal"
LINE = "{cancelled}{start-date} {start-time}-{end-time} {title}"


class Khal:
    """khal with its config, calendar folder and database in one temporary folder."""

    def __init__(self, root: Path, zone: str) -> None:
        self.root = root
        (root / "calendar").mkdir()
        self.config = root / "khal.conf"
        self.config.write_text(
            "[calendars]\n[[test]]\n"
            f"path = {root / 'calendar'}\ntype = calendar\n"
            "[locale]\n"
            f"default_timezone = {zone}\nlocal_timezone = {zone}\n"
            # khal's default formats are locale-dependent; fix them so DATE arguments parse.
            "timeformat = %H:%M\ndateformat = %Y-%m-%d\nlongdateformat = %Y-%m-%d\n"
            "datetimeformat = %Y-%m-%d %H:%M\nlongdatetimeformat = %Y-%m-%d %H:%M\n"
            "[default]\ndefault_calendar = test\n"
        )
        self.env = {
            **os.environ,
            "HOME": str(root),
            "XDG_CONFIG_HOME": str(root / "config"),
            "XDG_DATA_HOME": str(root / "data"),
            "TZ": "UTC",
        }

    def run(self, *args: str) -> str:
        done = subprocess.run(
            [KHAL, "-c", str(self.config), *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    def import_feed(self, body: bytes) -> None:
        path = self.root / "feed.ics"
        path.write_bytes(body)
        self.run("import", "--batch", "-a", "test", str(path))

    def list(self, start: str) -> list[str]:
        out = self.run("list", "--format", LINE, "--day-format", "", start, "3d")
        return [line for line in out.splitlines() if line.strip()]


async def _feed(client: AsyncTestClient[Any], token: str) -> bytes:
    response = await client.get(f"/calendar/{token}.ics")
    assert response.status_code == 200
    return response.content


async def test_khal_new_york_sees_local_times_moves_and_cancellations(
    client: AsyncTestClient[Any], db: AsyncSession, tmp_path: Path
) -> None:
    s = await calendar_scenario.build(db)
    token = (await feeds.token_for(db, s.bob.id)).token
    await db.commit()
    khal = Khal(tmp_path, "America/New_York")

    khal.import_feed(await _feed(client, token))
    published = khal.list("2026-10-24")

    # The other engineer's move service writes exactly this: a new slot, a higher sequence.
    s.bob_carla.slot_id = (await slot_at(db, s.event, 9)).id
    s.bob_carla.sequence += 1
    await db.commit()
    khal.import_feed(await _feed(client, token))
    moved = khal.list("2026-10-24")

    s.bob_anna.status = "cancelled"
    s.bob_anna.sequence += 1
    await db.commit()
    khal.import_feed(await _feed(client, token))
    cancelled = khal.list("2026-10-24")

    assert published == [
        "2026-10-24 04:00-04:30 Meeting with Anna Rossi (Grafene Verdi Srl)",  # 10:00 CEST
        "2026-10-25 05:00-05:30 Meeting with Carla Sousa (Lisboa Bio Lda)",  # 10:00 CET
    ]
    assert moved == [
        "2026-10-24 04:00-04:30 Meeting with Anna Rossi (Grafene Verdi Srl)",
        "2026-10-25 05:30-06:00 Meeting with Carla Sousa (Lisboa Bio Lda)",
    ]
    assert cancelled == [
        "CANCELLED 2026-10-24 04:00-04:30 Meeting with Anna Rossi (Grafene Verdi Srl)",
        "2026-10-25 05:30-06:00 Meeting with Carla Sousa (Lisboa Bio Lda)",
    ]
    assert sorted(p.name for p in (tmp_path / "calendar").iterdir()) == sorted(
        [f"{s.bob_anna.uid}.ics", f"{s.bob_carla.uid}.ics"]
    )


async def test_khal_lisbon_reads_the_same_feed_in_its_zone(
    client: AsyncTestClient[Any], db: AsyncSession, tmp_path: Path
) -> None:
    s = await calendar_scenario.build(db)
    token = (await feeds.token_for(db, s.carla.id)).token
    await db.commit()
    khal = Khal(tmp_path, "Europe/Lisbon")

    khal.import_feed(await _feed(client, token))

    assert (
        khal.list("2026-10-24")
        == [
            "2026-10-25 09:00-09:30 Meeting with Bob Smith (Hudson Robotics Inc)",  # 10:00 Rome, both on winter time
            "2026-10-25 10:00-10:30 Meeting with Anna Rossi (Grafene Verdi Srl)",
        ]
    )
