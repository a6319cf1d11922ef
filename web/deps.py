"""Dependencies shared by every controller."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any

from litestar import Request
from litestar.datastructures import State
from sqlalchemy.ext.asyncio import AsyncSession

from clockevents.accounts.models import User
from clockevents.settings import Settings


async def provide_db(state: State) -> AsyncGenerator[AsyncSession, None]:
    """One session per request: committed when the handler returns (redirects included).

    Litestar throws a handler's exception into this generator, so any error rolls back and
    no half-written record survives.
    """
    async with state.session_factory() as session:
        try:
            yield session
        except BaseException:
            await session.rollback()
            raise
        else:
            await session.commit()


def provide_user(request: Request[Any, Any, Any]) -> User | None:
    return request.scope.get("user")  # type: ignore[return-value]


def provide_settings(state: State) -> Settings:
    return state.settings


def client_address(request: Request[Any, Any, Any]) -> str:
    client = request.client
    return client.host if client else "unknown"
