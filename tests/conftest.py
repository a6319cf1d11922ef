"""Fixtures shared by every test: a migrated database (SQLite file or PostgreSQL), the app, clients.

The database comes from ``alembic upgrade head``, so migrations run on every test run. With
``DATABASE_URL`` pointing at PostgreSQL, a fresh database is created beside it for this run
and dropped afterwards, so concurrent runs never see each other's rows.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession

from clockevents.accounts.passwords import use_hasher
from clockevents.db import create_engine, create_session_factory
from clockevents.migrate import upgrade
from clockevents.models import Base
from clockevents.settings import Settings, normalise_database_url, same_server_url
from web.app import create_app

TEST_SECRET = "test-secret-key-not-for-production"

# Argon2 at production cost takes a tenth of a second per hash; hundreds of test users would
# spend minutes on it. The algorithm stays the same, only its cost drops.
use_hasher(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


async def _pg_execute(url: str, statement: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    raw = os.environ.get("DATABASE_URL")
    if raw and raw.startswith(("postgres://", "postgresql")):
        base = make_url(normalise_database_url(raw)).database
        name = f"{base}_ce_{uuid.uuid4().hex[:10]}"
        admin_url = same_server_url(raw, "postgres", driver="postgresql")
        asyncio.run(_pg_execute(admin_url, f'CREATE DATABASE "{name}"'))
        test_url = same_server_url(raw, name)
        try:
            upgrade(test_url)
            yield test_url
        finally:
            asyncio.run(_pg_execute(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    else:
        path = tmp_path_factory.mktemp("db") / "test.db"
        url = f"sqlite+aiosqlite:///{path}"
        upgrade(url)
        yield url


async def _wipe(url: str) -> None:
    engine = create_engine(url)
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    async with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            await conn.execute(
                text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE")
            )
        else:
            for table in tables:
                await conn.execute(text(f'DELETE FROM "{table}"'))
    await engine.dispose()


@pytest.fixture
async def clean_db(database_url: str) -> AsyncIterator[str]:
    """The migrated database, emptied after the test."""
    yield database_url
    await _wipe(database_url)


@pytest.fixture
def settings(clean_db: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=clean_db, secret_key=TEST_SECRET, data_dir=tmp_path, base_url="http://testserver.local"
    )


@pytest.fixture
async def db(settings: Settings) -> AsyncIterator[AsyncSession]:
    """A session for arranging and checking data directly (commit what you arrange)."""
    engine = create_engine(settings.database_url)
    factory = create_session_factory(engine)
    async with factory() as session:
        yield session
    await engine.dispose()


@pytest.fixture
def app(settings: Settings) -> Litestar:
    return create_app(settings)


@pytest.fixture
async def client(app: Litestar) -> AsyncIterator[AsyncTestClient[Litestar]]:
    async with AsyncTestClient(app=app, base_url="http://testserver.local") as c:
        yield c


@pytest.fixture
async def client2(settings: Settings) -> AsyncIterator[AsyncTestClient[Litestar]]:
    """A second browser, with its own cookies, served by a second app instance.

    Each test client runs its app on its own event loop, and a PostgreSQL pool cannot be
    shared across loops; a second instance is also what a second worker would be.
    """
    async with AsyncTestClient(app=create_app(settings), base_url="http://testserver.local") as c:
        yield c
