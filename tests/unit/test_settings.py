"""Settings from the environment: the live heartbeat."""

from __future__ import annotations

from pathlib import Path

import pytest

from clockevents.settings import Settings, same_server_url


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {"CLOCKEVENTS_DATA_DIR": str(tmp_path), "SECRET_KEY": "x" * 32, **extra}


def test_the_live_heartbeat_defaults_to_15_seconds_and_takes_a_positive_number(tmp_path: Path) -> None:
    assert Settings.from_env(_env(tmp_path)).live_heartbeat_seconds == 15.0
    assert Settings.from_env(_env(tmp_path, LIVE_HEARTBEAT_SECONDS="0.5")).live_heartbeat_seconds == 0.5


@pytest.mark.parametrize("raw", ["soon", "0", "-3"])
def test_a_bad_live_heartbeat_stops_the_start_with_one_line(tmp_path: Path, raw: str) -> None:
    with pytest.raises(SystemExit) as stop:
        Settings.from_env(_env(tmp_path, LIVE_HEARTBEAT_SECONDS=raw))
    assert str(stop.value) == f"LIVE_HEARTBEAT_SECONDS must be a positive number of seconds, not {raw!r}"


def test_same_server_url_keeps_the_server_and_its_query_and_swaps_the_database() -> None:
    assert same_server_url("postgresql://u:p%40w@db.example:5433/app", "postgres", driver="postgresql") == (
        "postgresql://u:p%40w@db.example:5433/postgres"
    )
    assert same_server_url("postgres://u@/app?host=/var/run/postgresql", "app_test") == (
        "postgresql+asyncpg://u@/app_test?host=%2Fvar%2Frun%2Fpostgresql"
    )
