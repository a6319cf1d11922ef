from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from clockevents.db import create_engine, create_session_factory
from clockevents.settings import Settings


@pytest.fixture
async def factory(settings: Settings) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """A session factory as the app and the CLI hand to ``start_run``."""
    engine = create_engine(settings.database_url)
    yield create_session_factory(engine)
    await engine.dispose()
