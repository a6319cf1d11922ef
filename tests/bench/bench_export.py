"""Benchmark the organiser's CSV export of every meeting: 3,000 participants, 10,000 meetings.

Run: python tests/bench/bench_export.py [--participants 3000] [--meetings 10000] [--repeat 5]
The rows are bulk-inserted (as a published agenda leaves them: meetings, seats, table bookings,
the accepted requests behind them), then ``GET /api/v1/events/{slug}/meetings.csv`` is timed
through Litestar's AsyncTestClient. A temporary SQLite database is always measured; PostgreSQL too
when DATABASE_URL points at one. The bar: the median export under 1 s.
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
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from litestar.testing import AsyncTestClient  # noqa: E402
from sqlalchemy import insert, text  # noqa: E402

from clockevents.accounts.models import User  # noqa: E402
from clockevents.accounts.services import issue_token  # noqa: E402
from clockevents.agenda.models import Meeting, MeetingSeat, TableBooking  # noqa: E402
from clockevents.db import create_engine, create_session_factory  # noqa: E402
from clockevents.events.models import Cluster, Event, EventRole, EventSession, Slot  # noqa: E402
from clockevents.matchmaking.models import MeetingRequest  # noqa: E402
from clockevents.registration.models import Organisation, Participant  # noqa: E402
from clockevents.settings import Settings  # noqa: E402
from tests.bench.common import bench_database_urls, scratch_database  # noqa: E402
from web.app import create_app  # noqa: E402

BAR_S = 1.0
SLUG = "bench-export"
CHUNK = 2000


async def _bulk(db: Any, model: Any, rows: list[dict[str, Any]]) -> None:
    for i in range(0, len(rows), CHUNK):
        await db.execute(insert(model), rows[i : i + CHUNK])


async def seed(factory: Any, participants: int, meetings: int, seed_value: int) -> str:
    """Write the event, people and a published agenda; return the owner's API token."""
    rng = random.Random(seed_value)
    now = datetime.now(UTC)
    tables = 250
    slots_needed = -(-meetings // tables)
    async with factory() as db:
        owner = User(email="owner@bench.local", name="Bench Owner", password_hash="x")
        db.add(owner)
        day = date(2026, 10, 24)
        event = Event(
            slug=SLUG,
            title="Export benchmark",
            timezone="Europe/Rome",
            starts_on=day,
            ends_on=day + timedelta(days=1),
            status="live",
            tables=tables,
            format="hybrid",
        )
        db.add(event)
        await db.flush()
        db.add(EventRole(event_id=event.id, user_id=owner.id, role="owner"))
        clusters = [Cluster(event_id=event.id, name=f"Cluster {i}", position=i) for i in range(7)]
        db.add_all(clusters)
        session = EventSession(event_id=event.id, day=day, name="all day", starts_at=datetime.min.time())
        session.ends_at = datetime.max.time().replace(microsecond=0)
        db.add(session)
        await db.flush()
        start = datetime(2026, 10, 24, 7, 0, tzinfo=UTC)
        slot_rows = [
            {
                "id": 1_000_000 + i,
                "event_id": event.id,
                "session_id": session.id,
                "index": i,
                "starts_at": start + timedelta(minutes=25 * i),
                "ends_at": start + timedelta(minutes=25 * i + 20),
            }
            for i in range(slots_needed)
        ]
        await _bulk(db, Slot, slot_rows)
        base = 1_000_000
        await _bulk(
            db,
            User,
            [
                {"id": base + i, "email": f"p{i}@bench.local", "name": f"Person {i}", "password_hash": "x"}
                for i in range(participants)
            ],
        )
        await _bulk(
            db,
            Organisation,
            [
                {"id": base + i, "name": f"=Org {i} Srl", "kind": "business", "country": "IT"}
                for i in range(participants)
            ],
        )
        await _bulk(
            db,
            Participant,
            [
                {
                    "id": base + i,
                    "event_id": event.id,
                    "user_id": base + i,
                    "organisation_id": base + i,
                    "cluster_id": clusters[i % 7].id,
                    "participant_type": "business",
                    "status": "approved",
                }
                for i in range(participants)
            ],
        )
        requests, meeting_rows, seats, bookings = [], [], [], []
        people = [base + i for i in range(participants)]
        for slot in slot_rows:
            rng.shuffle(people)
            for t in range(min(tables, meetings - len(meeting_rows), participants // 2)):
                a, b = people[2 * t], people[2 * t + 1]
                mid = base + len(meeting_rows)
                requests.append(
                    {
                        "id": mid,
                        "event_id": event.id,
                        "sender_id": a,
                        "receiver_id": b,
                        "message": f"Let us talk about project {mid}, please.",
                        "status": "accepted",
                    }
                )
                meeting_rows.append(
                    {
                        "id": mid,
                        "event_id": event.id,
                        "request_id": mid,
                        "a_id": a,
                        "b_id": b,
                        "slot_id": slot["id"],
                        "table": t + 1,
                        "status": "scheduled",
                        "uid": f"meeting-{mid}@bench",
                        "published_at": now,
                    }
                )
                seats += [
                    {"meeting_id": mid, "participant_id": a, "slot_id": slot["id"]},
                    {"meeting_id": mid, "participant_id": b, "slot_id": slot["id"]},
                ]
                bookings.append({"meeting_id": mid, "slot_id": slot["id"], "table": t + 1})
        await _bulk(db, MeetingRequest, requests)
        await _bulk(db, Meeting, meeting_rows)
        await _bulk(db, MeetingSeat, seats)
        await _bulk(db, TableBooking, bookings)
        token = await issue_token(db, owner, kind="api", name="bench")
        await db.commit()
        return token


async def run_one(url: str | None, participants: int, meetings: int, repeat: int, seed_value: int) -> bool:
    async with scratch_database(url, "bench_export") as (label, db_url):
        engine = create_engine(db_url)
        factory = create_session_factory(engine)
        began = time.perf_counter()
        token = await seed(factory, participants, meetings, seed_value)
        async with engine.connect() as conn:
            await conn.execute(text("ANALYZE"))  # as autovacuum or maintenance would leave them
            await conn.commit()
        await engine.dispose()
        print(
            f"{label}: {participants} participants, {meetings} meetings seeded in {time.perf_counter() - began:.1f}s"
        )
        with tempfile.TemporaryDirectory() as data_dir:
            settings = Settings(database_url=db_url, secret_key="bench-secret", data_dir=Path(data_dir))
            async with AsyncTestClient(app=create_app(settings), base_url="http://bench.local") as client:
                logging.getLogger("httpx").setLevel(logging.WARNING)
                headers = {"Authorization": f"Bearer {token}"}
                timings, rows = [], 0
                for _ in range(repeat + 1):  # the first run warms imports and caches
                    start = time.perf_counter()
                    response = await client.get(f"/api/v1/events/{SLUG}/meetings.csv", headers=headers)
                    timings.append(time.perf_counter() - start)
                    if response.status_code != 200:
                        raise RuntimeError(f"export: {response.status_code} {response.text[:300]}")
                    rows = response.text.count("\r\n") - 1
        median = statistics.median(timings[1:])
        ok = median < BAR_S and rows == meetings
        print(
            f"  GET .../meetings.csv: median {median * 1000:.0f} ms, best {min(timings[1:]) * 1000:.0f} ms, "
            f"first {timings[0] * 1000:.0f} ms ({rows} rows, {len(response.content) / 1e6:.1f} MB)"
        )
        print(f"  bar: median under {BAR_S:.0f} s -> {'met' if ok else 'NOT met'}")
        return ok


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark on SQLite (and PostgreSQL when DATABASE_URL says so); 0 when the bar is met."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--participants", type=int, default=3000)
    parser.add_argument("--meetings", type=int, default=10000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args(argv)
    urls = bench_database_urls()
    results = [
        asyncio.run(run_one(url, args.participants, args.meetings, args.repeat, args.seed)) for url in urls
    ]
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
