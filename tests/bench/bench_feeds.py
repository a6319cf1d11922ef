"""Benchmark a participant's calendar feed on an event of 3,000 participants and 10,000 meetings.

Run: python tests/bench/bench_feeds.py [--participants 3000] [--meetings 10000] [--requests 240]
A temporary SQLite database is always measured; PostgreSQL too when DATABASE_URL points at one
(a scratch database is created beside it and dropped afterwards). Each request goes through
Litestar (routing, token lookup, query, iCalendar build) with AsyncTestClient. The bar: p50 under 20 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from litestar.testing import AsyncTestClient  # noqa: E402
from sqlalchemy import insert, select, text  # noqa: E402

from clockevents.accounts.models import User  # noqa: E402
from clockevents.agenda import feeds  # noqa: E402
from clockevents.agenda.models import Meeting  # noqa: E402
from clockevents.db import create_engine, create_session_factory  # noqa: E402
from clockevents.demo import PARTICIPANT_EMAIL, DemoOptions, seed_demo  # noqa: E402
from clockevents.demo_data import DEMO_SLUG  # noqa: E402
from clockevents.events.models import Slot  # noqa: E402
from clockevents.events.services import get_event  # noqa: E402
from clockevents.registration.models import Participant  # noqa: E402
from clockevents.settings import Settings  # noqa: E402
from tests.bench.common import bench_database_urls, scratch_database  # noqa: E402
from web.app import create_app  # noqa: E402

BAR_MS = 20.0


def meeting_rows(
    event_id: int, participant_ids: list[int], slot_ids: list[int], count: int, seed: int
) -> list[dict[str, object]]:
    """Published meetings with nobody twice in a slot; one in twenty cancelled after publication."""
    rng = random.Random(seed)
    busy: set[tuple[int, int]] = set()
    used_tables: dict[int, int] = {}
    rows: list[dict[str, object]] = []
    now = datetime.now(UTC)
    while len(rows) < count:
        a, b = rng.sample(participant_ids, 2)
        slot = rng.choice(slot_ids)
        if (a, slot) in busy or (b, slot) in busy:
            continue
        busy |= {(a, slot), (b, slot)}
        used_tables[slot] = used_tables.get(slot, 0) + 1
        cancelled = len(rows) % 20 == 0
        rows.append(
            {
                "event_id": event_id,
                "a_id": a,
                "b_id": b,
                "slot_id": slot,
                "table": used_tables[slot],
                "status": "cancelled" if cancelled else "scheduled",
                "uid": f"meeting-{uuid.UUID(int=rng.getrandbits(128))}@clockevents",
                "sequence": 1 if cancelled else 0,
                "published_at": now,
                "cancelled_at": now if cancelled else None,
            }
        )
    return rows


def summary(label: str, timings: list[float]) -> tuple[float, str]:
    ordered = sorted(timings)
    median = statistics.median(ordered)
    p95 = ordered[max(0, round(0.95 * len(ordered)) - 1)]
    line = f"  {label:<28} n={len(ordered):<4} p50 {median:7.2f} ms   p95 {p95:7.2f} ms   max {ordered[-1]:7.2f} ms"
    return median, line


async def time_feed(db_url: str, tokens: list[str], requests: int) -> tuple[list[float], list[float], int]:
    """GET /calendar/{token}.ics for a rotation of participants, each through the whole app.

    GET /health is timed alongside as the floor: what the test client and Litestar cost alone.
    """
    with tempfile.TemporaryDirectory() as data_dir:
        settings = Settings(database_url=db_url, secret_key="bench-secret", data_dir=Path(data_dir))
        app = create_app(settings)
        timings: list[float] = []
        floor: list[float] = []
        vevents = 0
        async with AsyncTestClient(app=app, base_url="http://bench.local") as client:
            logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request drowns the result
            for token in tokens[:10]:  # warm-up: imports, caches, plans
                await client.get(f"/calendar/{token}.ics")
            for i in range(requests):
                token = tokens[i % len(tokens)]
                start = time.perf_counter()
                response = await client.get(f"/calendar/{token}.ics")
                timings.append((time.perf_counter() - start) * 1000)
                if response.status_code != 200:
                    raise RuntimeError(f"{token}: {response.status_code} {response.text}")
                vevents += response.text.count("BEGIN:VEVENT")
                start = time.perf_counter()
                await client.get("/health")
                floor.append((time.perf_counter() - start) * 1000)
        return timings, floor, vevents


async def run_one(url: str | None, participants: int, meetings: int, requests: int, seed: int) -> bool:
    async with scratch_database(url, "bench_feeds") as (label, db_url):
        engine = create_engine(db_url)
        factory = create_session_factory(engine)
        start = time.perf_counter()
        async with factory() as db:
            report = await seed_demo(db, DemoOptions(participants=participants, seed=seed))
            await db.commit()
            event = await get_event(db, DEMO_SLUG)
            ids = list(await db.scalars(select(Participant.id).where(Participant.event_id == event.id)))
            slots = list(await db.scalars(select(Slot.id).where(Slot.event_id == event.id)))
            await db.execute(insert(Meeting), meeting_rows(event.id, ids, slots, meetings, seed))
            await db.commit()
        async with engine.connect() as conn:
            # Fresh statistics, as autovacuum or a maintenance run would leave them.
            await conn.execute(text("ANALYZE"))
            await conn.commit()
        seeded_s = time.perf_counter() - start
        async with factory() as db:
            # The demo's own logins first, then a spread of others: 40 different feeds.
            emails = [PARTICIPANT_EMAIL.format(n=n) for n in range(1, 41)]
            chosen = list(
                await db.scalars(
                    select(Participant.id)
                    .join(User, User.id == Participant.user_id)
                    .where(Participant.event_id == event.id, User.email.in_(emails))
                )
            )
            tokens = [(await feeds.token_for(db, pid)).token for pid in chosen]
            await db.commit()
        print(
            f"{label}: {report.participants} participants and {meetings} meetings seeded in {seeded_s:.1f}s; "
            f"{requests} feed requests over {len(tokens)} participants"
        )
        timings, floor, vevents = await time_feed(db_url, tokens, requests)
        await engine.dispose()
        median, line = summary("GET /calendar/{token}.ics", timings)
        print(line)
        print(summary("GET /health (floor)", floor)[1])
        ok = median < BAR_MS
        print(
            f"  bar: p50 under {BAR_MS:.0f} ms -> {'met' if ok else 'NOT met'} "
            f"({vevents / max(1, len(timings)):.1f} meetings per feed)"
        )
        return ok


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark on SQLite (and PostgreSQL when DATABASE_URL says so); 0 when the bar is met."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--participants", type=int, default=3000)
    parser.add_argument("--meetings", type=int, default=10000)
    parser.add_argument("--requests", type=int, default=240)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args(argv)
    urls = bench_database_urls()
    results = [
        asyncio.run(run_one(url, args.participants, args.meetings, args.requests, args.seed)) for url in urls
    ]
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
