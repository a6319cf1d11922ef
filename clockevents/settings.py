"""Settings built from the environment, once, and passed into ``create_app()``."""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass, field
from email.utils import parseaddr
from pathlib import Path

DEFAULT_DATA_DIR = Path("var")


def _secret_key(data_dir: Path) -> str:
    """Return SECRET_KEY, else a random key kept in the data folder.

    A key kept on disk is shared by every worker started from the same folder, and it
    never enters the repository.
    """
    from_env = os.environ.get("SECRET_KEY")
    if from_env:
        return from_env
    path = data_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    return key


def mail_from_address(value: str) -> str:
    """Return MAIL_FROM trimmed, or refuse a value that holds no address (every mail would bounce)."""
    value = value.strip()
    if value and "@" not in parseaddr(value)[1]:
        raise ValueError(
            f"MAIL_FROM must be an address such as 'clockevents <noreply@example.org>', not {value!r}"
        )
    return value


def normalise_database_url(url: str) -> str:
    """Pick the async driver for a plain ``postgresql://`` or ``sqlite://`` URL."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url.removeprefix("postgres://")
    if url.startswith("postgresql://"):
        return "postgresql+asyncpg://" + url.removeprefix("postgresql://")
    if url.startswith("sqlite:///"):
        return "sqlite+aiosqlite:///" + url.removeprefix("sqlite:///")
    return url


def same_server_url(url: str, database: str, *, driver: str = "postgresql+asyncpg") -> str:
    """``url`` (PostgreSQL) with another database on the same server, as ``driver`` takes it.

    Through SQLAlchemy's URL, so that a query (``?host=/var/run/postgresql``, a Unix socket)
    stays with the server's address; ``driver="postgresql"`` for asyncpg's own ``connect``.
    """
    from sqlalchemy.engine import make_url

    server = make_url(normalise_database_url(url))
    return server.set(drivername=driver, database=database).render_as_string(hide_password=False)


def parse_ice_servers(raw: str) -> tuple[dict[str, object], ...]:
    """STUN / TURN servers for the video rooms, as the JSON list ``RTCPeerConnection`` takes.

    Example: ``[{"urls": "stun:stun.example.org:3478"}, {"urls": "turn:turn.example.org:3478",
    "username": "u", "credential": "p"}]``. Empty: peers connect directly (same network).
    """
    if not raw.strip():
        return ()
    try:
        value = json.loads(raw)
    except ValueError as exc:
        raise SystemExit(f"ICE_SERVERS is not valid JSON: {exc}") from exc
    if not isinstance(value, list) or not all(isinstance(v, dict) and "urls" in v for v in value):
        raise SystemExit('ICE_SERVERS must be a JSON list of objects with "urls"')
    return tuple(value)


def parse_seconds(name: str, raw: str, default: float) -> float:
    """A positive number of seconds from the environment (``default`` when unset)."""
    if not raw.strip():
        return default
    try:
        value = float(raw)
    except ValueError:
        value = 0.0
    if not value > 0:
        raise SystemExit(f"{name} must be a positive number of seconds, not {raw!r}")
    return value


@dataclass(frozen=True)
class Settings:
    """Everything the app reads from its environment."""

    database_url: str
    secret_key: str
    data_dir: Path
    redis_url: str | None = None
    smtp_url: str | None = None
    base_url: str = "http://127.0.0.1:8000"
    # The From of every mail; empty means "clockevents <no-reply@HOST>" with BASE_URL's host.
    mail_from: str = ""
    debug: bool = False
    secure_cookies: bool = False
    login_attempts_per_window: int = 10
    login_window_seconds: int = 900
    ice_servers: tuple[dict[str, object], ...] = ()
    # PostgreSQL: whether a live message's commit waits for the disk before it is published (see
    # docs/live-protocol.md); by default it is visible to all at once and on disk within ~0.6 s.
    live_durable_commit: bool = False
    # How often each worker confirms the room connections it holds; one silent for four times
    # this is taken for a worker that died (clockevents/live/keeper.py).
    live_heartbeat_seconds: float = 15.0
    extra: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        """Build settings from ``env`` (the process environment by default)."""
        env = dict(os.environ if env is None else env)
        data_dir = Path(env.get("CLOCKEVENTS_DATA_DIR", str(DEFAULT_DATA_DIR))).resolve()
        default_db = f"sqlite+aiosqlite:///{data_dir / 'clockevents.db'}"
        base_url = env.get("BASE_URL") or f"http://{env.get('HOST', '127.0.0.1')}:{env.get('PORT', '8000')}"
        secret = env.get("SECRET_KEY") or _secret_key(data_dir)
        return cls(
            database_url=normalise_database_url(env.get("DATABASE_URL") or default_db),
            secret_key=secret,
            data_dir=data_dir,
            redis_url=env.get("REDIS_URL") or None,
            smtp_url=env.get("SMTP_URL") or None,
            mail_from=mail_from_address(env.get("MAIL_FROM", "")),
            base_url=base_url.rstrip("/"),
            debug=env.get("DEBUG", "") in {"1", "true", "yes"},
            secure_cookies=base_url.startswith("https://"),
            ice_servers=parse_ice_servers(env.get("ICE_SERVERS", "")),
            live_durable_commit=env.get("LIVE_DURABLE_COMMIT", "") in {"1", "true", "yes"},
            live_heartbeat_seconds=parse_seconds(
                "LIVE_HEARTBEAT_SECONDS", env.get("LIVE_HEARTBEAT_SECONDS", ""), 15.0
            ),
        )

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")
