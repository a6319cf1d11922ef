"""Health check."""

from __future__ import annotations

from litestar import get
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession


@get("/health", operation_id="health", tags=["system"])
async def health(db: AsyncSession) -> dict[str, str]:
    """Answer ok after a database round trip."""
    await db.execute(text("SELECT 1"))
    return {"status": "ok"}


routes = [health]
