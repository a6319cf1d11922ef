"""The connection pool on PostgreSQL: a connection that died while it rested in the pool is
replaced before anyone gets it."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text

from clockevents.db import PING_AFTER_IDLE, create_engine


async def test_a_pooled_connection_that_died_while_resting_is_replaced(database_url: str) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("only a database server ends connections; SQLite is a file")
    engine = create_engine(database_url)
    admin = create_engine(database_url)
    try:
        async with engine.connect() as conn:
            first = await conn.scalar(text("SELECT pg_backend_pid()"))
        # The server ends it while it rests in the pool, as a restart or an administrator would.
        async with admin.connect() as conn:
            ended = await conn.scalar(text("SELECT pg_terminate_backend(:pid)"), {"pid": first})
        assert ended is True
        await asyncio.sleep(PING_AFTER_IDLE + 0.2)
        async with engine.connect() as conn:
            second = await conn.scalar(text("SELECT pg_backend_pid()"))
            assert await conn.scalar(text("SELECT 41 + 1")) == 42
        assert second != first
    finally:
        await engine.dispose()
        await admin.dispose()
