"""The demo event ``clock-demo``: filled in by the demo work."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from clockevents.accounts.models import User


@dataclass(frozen=True)
class DemoOptions:
    participants: int = 120
    seed: int = 2026
    password: str = "demo-password"


@dataclass
class DemoReport:
    created: bool
    logins: list[str] = field(default_factory=list)
    password: str = "demo-password"

    def describe(self) -> str:
        head = "demo event clock-demo created" if self.created else "demo event clock-demo already present"
        return head


async def database_is_empty(db: AsyncSession) -> bool:
    return (await db.scalar(select(func.count()).select_from(User))) == 0


async def seed_demo(db: AsyncSession, options: DemoOptions) -> DemoReport:
    return DemoReport(created=False, password=options.password)
