"""What several benchmark scripts share: a scratch database to fill and time."""

from __future__ import annotations

import asyncio
import os
import tempfile
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from clockevents.migrate import upgrade
from clockevents.settings import same_server_url


def bench_database_urls() -> list[str | None]:
    """The databases to measure: SQLite (None) always, PostgreSQL too when DATABASE_URL names one."""
    urls: list[str | None] = [None]
    pg = os.environ.get("DATABASE_URL", "")
    if pg.startswith(("postgres://", "postgresql")):
        urls.append(pg)
    return urls


@asynccontextmanager
async def scratch_database(url: str | None, prefix: str = "bench") -> AsyncIterator[tuple[str, str]]:
    """Yield (label, URL) of an empty migrated database: a temporary SQLite file or a PostgreSQL copy.

    With a PostgreSQL ``url``, a fresh database named ``<prefix>_<random>`` is created beside it
    and dropped afterwards.
    """
    if url is None:
        with tempfile.TemporaryDirectory() as folder:
            db_url = f"sqlite+aiosqlite:///{folder}/bench.db"
            await asyncio.to_thread(upgrade, db_url)
            yield "SQLite", db_url
        return
    import asyncpg

    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin_dsn = same_server_url(url, "postgres", driver="postgresql")
    conn = await asyncpg.connect(admin_dsn)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    db_url = same_server_url(url, name)
    try:
        await asyncio.to_thread(upgrade, db_url)
        yield "PostgreSQL", db_url
    finally:
        conn = await asyncpg.connect(admin_dsn)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()
