"""Benchmark the directory search on a 3,000-participant event: the service and the API.

Run: python tests/bench/bench_directory.py [--participants 3000] [--requests 240]
A temporary SQLite database is always measured; PostgreSQL too when DATABASE_URL points at one
(a scratch database is created beside it and dropped afterwards). The bar: median under 50 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import random
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from litestar.testing import AsyncTestClient  # noqa: E402
from sqlalchemy import select, text  # noqa: E402
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker  # noqa: E402

from clockevents.accounts.models import User  # noqa: E402
from clockevents.accounts.services import issue_token  # noqa: E402
from clockevents.db import create_engine, create_session_factory  # noqa: E402
from clockevents.demo import PARTICIPANT_EMAIL, DemoOptions, seed_demo  # noqa: E402
from clockevents.demo_data import DEMO_SLUG  # noqa: E402
from clockevents.events.services import get_event  # noqa: E402
from clockevents.registration import directory  # noqa: E402
from clockevents.registration.models import Participant  # noqa: E402
from clockevents.settings import Settings  # noqa: E402
from tests.bench.common import bench_database_urls, scratch_database  # noqa: E402
from web.app import create_app  # noqa: E402

BAR_MS = 50.0
Query = dict[str, str]


def realistic_queries(samples: list[Participant], clusters: list[int], count: int, seed: int) -> list[Query]:
    """Queries people type: a keyword, two words from one profile, filters, page 2, nothing at all."""
    rng = random.Random(seed)
    words = sorted({w for p in samples for w in re.findall(r"[a-z]{4,}", p.search_text)})
    shapes: list[Query] = []
    while len(shapes) < count:
        p = rng.choice(samples)
        profile_words = re.findall(r"[a-z]{4,}", p.search_text) or ["tech"]
        shape = len(shapes) % 8
        if shape == 0:
            shapes.append({})
        elif shape == 1:
            shapes.append({"q": rng.choice(words)})
        elif shape == 2:
            shapes.append({"q": " ".join(rng.sample(profile_words, min(2, len(profile_words))))})
        elif shape == 3:
            shapes.append({"kind": rng.choice(["offer", "request", "partnership", "investment"])})
        elif shape == 4:
            shapes.append({"cluster": str(rng.choice(clusters)), "type": p.participant_type})
        elif shape == 5:
            shapes.append({"country": rng.choice(["IT", "FR", "DE", "ES"]), "q": rng.choice(profile_words)})
        elif shape == 6:
            shapes.append({"page": "2"})
        else:
            shapes.append({"q": rng.choice(profile_words), "page": "2", "per_page": "50"})
    return shapes


def summary(label: str, timings: list[float]) -> tuple[float, str]:
    ordered = sorted(timings)
    median = statistics.median(ordered)
    p95 = ordered[max(0, round(0.95 * len(ordered)) - 1)]
    line = f"  {label:<28} n={len(ordered):<4} median {median:7.2f} ms   p95 {p95:7.2f} ms   max {ordered[-1]:7.2f} ms"
    return median, line


async def time_service(
    factory: async_sessionmaker[AsyncSession], viewer_id: int, queries: list[Query]
) -> list[float]:
    """Each query in a fresh session, as a request would run it."""
    timings: list[float] = []
    for query in queries:
        start = time.perf_counter()
        async with factory() as db:
            event = await get_event(db, DEMO_SLUG)
            viewer = await db.get(User, viewer_id)
            filters = directory.parse_filters(
                event,
                q=query.get("q"),
                kind=query.get("kind"),
                cluster=query.get("cluster"),
                country=query.get("country"),
                participant_type=query.get("type"),
                page=query.get("page"),
                per_page=query.get("per_page"),
            )
            await directory.search_participants(db, event, viewer, filters)
        timings.append((time.perf_counter() - start) * 1000)
    return timings


async def time_api(db_url: str, token: str, queries: list[Query]) -> tuple[list[float], int]:
    """Each query through Litestar (routing, auth, serialisation) with AsyncTestClient."""
    with tempfile.TemporaryDirectory() as data_dir:
        settings = Settings(database_url=db_url, secret_key="bench-secret", data_dir=Path(data_dir))
        app = create_app(settings)
        timings: list[float] = []
        total_seen = 0
        async with AsyncTestClient(app=app, base_url="http://bench.local") as client:
            logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request drowns the result
            headers = {"Authorization": f"Bearer {token}"}
            for query in queries:
                start = time.perf_counter()
                response = await client.get(
                    f"/api/v1/events/{DEMO_SLUG}/participants", params=query, headers=headers
                )
                timings.append((time.perf_counter() - start) * 1000)
                if response.status_code != 200:
                    raise RuntimeError(f"{query}: {response.status_code} {response.text}")
                total_seen += len(response.json()["items"])
        return timings, total_seen


async def run_one(url: str | None, participants: int, requests: int, seed: int) -> bool:
    async with scratch_database(url, "bench_directory") as (label, db_url):
        engine = create_engine(db_url)
        factory = create_session_factory(engine)
        start = time.perf_counter()
        async with factory() as db:
            report = await seed_demo(db, DemoOptions(participants=participants, seed=seed))
            await db.commit()
        async with engine.connect() as conn:
            # Fresh statistics, as autovacuum (PostgreSQL) or a maintenance run (SQLite) would leave them;
            # without them the planner takes freshly bulk-loaded tables for empty ones.
            await conn.execute(text("ANALYZE"))
            await conn.commit()
        seeded_s = time.perf_counter() - start
        async with factory() as db:
            event = await get_event(db, DEMO_SLUG)
            viewer = await db.scalar(select(User).where(User.email == PARTICIPANT_EMAIL.format(n=1)))
            assert viewer is not None
            token = await issue_token(db, viewer, kind="api", name="bench")
            await db.commit()
            samples = list(
                await db.scalars(
                    select(Participant)
                    .where(Participant.event_id == event.id)
                    .order_by(Participant.id)
                    .limit(300)
                )
            )
            clusters = [c.id for c in await directory.event_clusters(db, event)]
        queries = realistic_queries(samples, clusters, requests, seed)
        print(
            f"{label}: {report.participants} participants seeded in {seeded_s:.1f}s; {len(queries)} queries"
        )
        await time_service(factory, viewer.id, queries[:10])  # warm-up: imports, caches, plans
        service = await time_service(factory, viewer.id, queries)
        api, seen = await time_api(db_url, token, queries)
        await engine.dispose()
        service_median, service_line = summary("directory service", service)
        api_median, api_line = summary("GET .../participants (API)", api)
        print(service_line)
        print(api_line)
        ok = service_median < BAR_MS and api_median < BAR_MS
        print(f"  bar: median under {BAR_MS:.0f} ms -> {'met' if ok else 'NOT met'} ({seen} cards returned)")
        return ok


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark on SQLite (and PostgreSQL when DATABASE_URL says so); 0 when the bar is met."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--participants", type=int, default=3000)
    parser.add_argument("--requests", type=int, default=240)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args(argv)
    urls = bench_database_urls()
    results = [asyncio.run(run_one(url, args.participants, args.requests, args.seed)) for url in urls]
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
