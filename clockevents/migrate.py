"""Run Alembic migrations from code (the CLI, ``make run`` and the tests use this)."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from alembic.config import Config

from alembic import command

ROOT = Path(__file__).resolve().parent.parent


def alembic_config(database_url: str) -> Config:
    cfg = Config(str(ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(ROOT / "alembic"))
    cfg.attributes["database_url"] = database_url
    return cfg


def upgrade(database_url: str, revision: str = "head") -> None:
    """Bring the database at ``database_url`` to ``revision``."""
    if database_url.startswith("sqlite"):
        path = database_url.split(":///", 1)[-1]
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    cfg = alembic_config(database_url)
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        command.upgrade(cfg, revision)
        return
    # Alembic's env.py runs its own event loop; from inside a running loop, use a thread.
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(command.upgrade, cfg, revision).result()
