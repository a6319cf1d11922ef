"""The ``clockevents`` command: run, migrate, demo, create-admin, schedule."""

from __future__ import annotations

import asyncio
import getpass
import os
import sys
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import click
from sqlalchemy.ext.asyncio import AsyncSession

from clockevents.db import create_engine, create_session_factory
from clockevents.errors import DomainError
from clockevents.settings import Settings

T = TypeVar("T")

# How uvicorn serves the app (``run`` here, and the live benchmark, which must measure the same).
APP = "web.app:app_from_env"
SERVER_OPTIONS: dict[str, Any] = {
    "factory": True,
    # uvicorn's Sans-I/O binding of websockets (its default since 0.50), never the deprecated
    # legacy one: on the live benchmark (2,000 sockets, one message a second each) the legacy
    # binding costs ~10 % more CPU per message and triples the p99 (20 to 26 ms against 7 to 10 ms).
    # Ours extends it with a way for chat that skips the ASGI queue (web/live/protocol.py).
    "ws": "web.live.protocol:LiveProtocol",
    # No per-message compression on the WebSockets: live messages are a few hundred bytes, where
    # deflate saves little and costs CPU on every frame and a compressor's memory per socket.
    "ws_per_message_deflate": False,
    # A live message over 16 KiB gets an error reply and the socket stays; one over this is closed
    # with 1009 (message too big) before it is read whole: uvicorn's default, 16 MiB, let every
    # socket make the worker hold that much.
    "ws_max_size": 1024 * 1024,
}


def fail(message: str) -> None:
    """One line on stderr and exit code 2: the CLI's answer to bad input."""
    click.echo(f"error: {message}", err=True)
    sys.exit(2)


def run_in_session(settings: Settings, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run ``work`` in one database session, committing on success."""

    async def main() -> T:
        engine = create_engine(settings.database_url)
        try:
            async with create_session_factory(engine)() as db:
                result = await work(db)
                await db.commit()
                return result
        finally:
            await engine.dispose()

    try:
        return asyncio.run(main())
    except DomainError as exc:
        details = "; ".join(f"{k}: {v}" for k, v in exc.fields.items())
        fail(exc.message + (f" ({details})" if details else ""))
        raise AssertionError("unreachable") from exc


@click.group()
@click.pass_context
def main(ctx: click.Context) -> None:
    """clockevents: virtual B2B, R2B and F2B matchmaking events."""
    ctx.obj = Settings.from_env()


@main.command()
@click.pass_obj
def migrate(settings: Settings) -> None:
    """Bring the database schema up to date."""
    from clockevents.migrate import upgrade

    upgrade(settings.database_url)
    click.echo("database is up to date")


@main.command("create-admin")
@click.option("--email", required=True)
@click.option("--name", default="Administrator", show_default=True)
@click.option(
    "--password", envvar="CLOCKEVENTS_ADMIN_PASSWORD", default=None, help="Asked for when not given."
)
@click.pass_obj
def create_admin(settings: Settings, email: str, name: str, password: str | None) -> None:
    """Create a platform administrator (or promote an existing account)."""
    from clockevents.accounts import services

    async def work(db: AsyncSession) -> str:
        existing = await services.get_user_by_email(db, email)
        if existing is not None:
            existing.is_admin = True
            return f"{existing.email} is now a platform administrator"
        secret = password or getpass.getpass("Password (at least 10 characters): ")
        user = await services.create_user(db, email=email, password=secret, name=name, is_admin=True)
        return f"created platform administrator {user.email}"

    click.echo(run_in_session(settings, work))


@main.command()
@click.option("--participants", default=120, show_default=True, type=click.IntRange(2, 20000))
@click.option("--seed", default=2026, show_default=True, type=int)
@click.option("--password", default="demo-password", show_default=True)
@click.option(
    "--with-outcomes",
    is_flag=True,
    help="Also publish an agenda if none is, and fill attendance, outcomes, tasks and surveys.",
)
@click.option(
    "--live",
    is_flag=True,
    help="Publish the agenda if needed and move the slots so that a meeting is happening now.",
)
@click.pass_obj
def demo(
    settings: Settings, participants: int, seed: int, password: str, with_outcomes: bool, live: bool
) -> None:
    """Create the demo event clock-demo (idempotent) and print its logins."""
    from clockevents.demo import DemoOptions, seed_demo

    options = DemoOptions(participants=participants, seed=seed, password=password)
    if len(password) < 10:
        fail("--password must have at least 10 characters")
    report = run_in_session(settings, lambda db: seed_demo(db, options))
    click.echo(report.describe(settings.base_url))
    if with_outcomes:
        from clockevents.demo_outcomes import seed_outcomes

        outcomes = run_in_session(settings, lambda db: seed_outcomes(db, seed))
        click.echo(outcomes.describe(settings.base_url))
    if live:
        from clockevents.demo_data import DEMO_SLUG
        from clockevents.live.demo import make_live

        async def go_live(db: AsyncSession) -> str:
            factory = create_session_factory(db.bind)  # type: ignore[arg-type]
            return (await make_live(factory, DEMO_SLUG)).describe(settings.base_url)

        click.echo(run_in_session(settings, go_live))


@main.command()
@click.option("--host", envvar="HOST", default="127.0.0.1", show_default=True)
@click.option("--port", envvar="PORT", default=8000, show_default=True, type=int)
@click.option("--workers", envvar="WORKERS", default=1, show_default=True, type=int)
@click.option(
    "--demo/--no-demo", "with_demo", default=True, help="Seed the demo event when the database is empty."
)
@click.pass_obj
def run(settings: Settings, host: str, port: int, workers: int, with_demo: bool) -> None:
    """Migrate, seed the demo event into an empty database, and serve."""
    from clockevents.demo import DemoOptions, database_is_empty, demo_present, seed_demo
    from clockevents.migrate import upgrade

    upgrade(settings.database_url)
    base_url = f"http://{host}:{port}"
    if with_demo and run_in_session(settings, database_is_empty):
        report = run_in_session(settings, lambda db: seed_demo(db, DemoOptions()))
        click.echo(report.describe(base_url))
    elif run_in_session(settings, demo_present):
        click.echo(f"demo event: {base_url}/events/clock-demo")
        click.echo("demo logins: organiser@clock-demo.example, participant1@clock-demo.example, …")
    os.environ.setdefault("BASE_URL", f"http://{host}:{port}")
    click.echo(f"serving on http://{host}:{port}")
    _serve(host, port, workers)


@main.command()
@click.option("--host", envvar="HOST", default="127.0.0.1", show_default=True)
@click.option("--port", envvar="PORT", default=8000, show_default=True, type=int)
@click.option("--workers", envvar="WORKERS", default=1, show_default=True, type=int)
@click.option("--log-level", default="info", show_default=True)
def serve(host: str, port: int, workers: int, log_level: str) -> None:
    """Serve only: no migration, no demo (for deployments that migrate as a step of their own)."""
    _serve(host, port, workers, log_level)


def _serve(host: str, port: int, workers: int, log_level: str = "info") -> None:
    import uvicorn

    uvicorn.run(APP, host=host, port=port, workers=workers, log_level=log_level, **SERVER_OPTIONS)


@main.command()
@click.argument("event_slug")
@click.option("--time-limit", default=30.0, show_default=True, type=click.FloatRange(1, 600), help="Seconds.")
@click.option("--break-spread", default=None, type=click.IntRange(0), help="Fairness bound on breaks.")
@click.option("--publish", is_flag=True, help="Publish the draft when the build finishes.")
@click.pass_obj
def schedule(
    settings: Settings, event_slug: str, time_limit: float, break_spread: int | None, publish: bool
) -> None:
    """Build EVENT_SLUG's agenda as the organisers' button does; progress on stderr."""
    from clockevents.agenda import runs
    from clockevents.agenda.models import ScheduleRun
    from clockevents.agenda.publish import publish_run
    from clockevents.agenda.statistics import describe
    from clockevents.events.services import get_event

    def progress(report: dict[str, Any]) -> None:
        click.echo("  " + ", ".join(f"{k} {v}" for k, v in report.items() if k != "time_limit"), err=True)

    async def work(db: AsyncSession) -> str:
        event = await get_event(db, event_slug)
        await db.commit()  # end the read so the build's own sessions never wait on it
        factory = create_session_factory(db.bind)  # type: ignore[arg-type]
        run = await runs.start_run(
            factory, event, None, time_limit, break_spread, check_access=False, spawn=False
        )
        click.echo(f"build {run.id} of {event.slug} started (time limit {time_limit:g} s)", err=True)
        await runs.execute_run(factory, run.id, on_progress=progress)
        async with factory() as session:
            done = await session.get(ScheduleRun, run.id)
            assert done is not None
            if done.status != "done":
                raise DomainError(f"build {run.id} ended {done.status}: {done.error or 'no result'}")
            lines = [f"build {run.id}: {done.status}", describe(done.statistics)]
            if publish:
                await publish_run(session, run.id, None, check_access=False)
                await session.commit()
                lines.append(f"published build {run.id}")
        return "\n".join(lines)

    click.echo(run_in_session(settings, work))


@main.command("send-surveys")
@click.option("--now", "now_text", default=None, help="ISO date-time to act as now (default: the clock).")
@click.option(
    "--months", default=6, show_default=True, type=click.IntRange(1, 60), help="Months after the event."
)
@click.pass_obj
def send_surveys(settings: Settings, now_text: str | None, months: int) -> None:
    """Queue the follow-up survey for every party who wanted to continue a meeting, N months on."""
    from datetime import UTC, datetime

    from clockevents.followup.surveys import send_due_surveys

    try:
        now = datetime.fromisoformat(now_text) if now_text else datetime.now(UTC)
    except ValueError:
        fail("--now must be an ISO date-time, e.g. 2027-04-01T09:00:00+00:00")
        return
    now = now if now.tzinfo else now.replace(tzinfo=UTC)
    count = run_in_session(
        settings, lambda db: send_due_surveys(db, now, secret=settings.secret_key, months=months)
    )
    click.echo(f"{count} survey invitation(s) queued")


if __name__ == "__main__":
    main()
