"""Agenda builder runs: start, solve in a worker thread, report progress, cancel, store the draft.

Everything another worker needs lives in the ``schedule_runs`` row: status, progress (with a
heartbeat written about once a second), the problem, the solution and its statistics. A run
whose heartbeat stops (its process died) is marked failed on the next start.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

import scheduler
from clockevents.accounts.models import User
from clockevents.agenda.models import Meeting, ScheduleRun
from clockevents.agenda.problem import Built, build_problem, built_from_stored, run_extras
from clockevents.agenda.solver_process import solve_in_process
from clockevents.agenda.statistics import compute_statistics
from clockevents.db import utcnow
from clockevents.errors import Conflict, NotFound, ValidationFailed
from clockevents.events.models import Event
from clockevents.events.permissions import require_organiser
from clockevents.registration.validation import is_id
from scheduler.io import problem_to_dict, solution_to_dict

log = logging.getLogger(__name__)

ACTIVE = ("queued", "running")
DEFAULT_TIME_LIMIT = 30.0
MAX_TIME_LIMIT = 600.0
SOLVER_WORKERS = 2
# A run whose heartbeat is older than this has lost its process.
STALE_AFTER = timedelta(seconds=60)
HEARTBEAT_SECONDS = 1.0
# CP-SAT saturates the cores it is given: one solve at a time per process keeps pages responsive.
SOLVES = threading.BoundedSemaphore(1)

Progress = Callable[[dict[str, Any]], None]
_tasks: set[asyncio.Task[None]] = set()
_stops: dict[int, threading.Event] = {}


class RunCancelled(Exception):
    """The run was cancelled before the solver started."""


def clean_options(
    time_limit: Any, break_spread: Any, free: Any, errors: dict[str, str]
) -> tuple[float, int | None, list[int]]:
    """Check the run parameters, adding a message to ``errors`` for each wrong one."""
    limit = DEFAULT_TIME_LIMIT
    if time_limit is not None and time_limit != "":
        try:
            limit = float(time_limit)
        except (TypeError, ValueError):
            limit = -1.0
        if isinstance(time_limit, bool) or not 1 <= limit <= MAX_TIME_LIMIT:
            errors["time_limit"] = f"Give a number of seconds from 1 to {MAX_TIME_LIMIT:.0f}."
    spread: int | None = None
    if break_spread is not None and break_spread != "":
        try:
            spread = int(break_spread)
        except (TypeError, ValueError):
            spread = -1
        if isinstance(break_spread, bool | float) or spread < 0:
            errors["break_spread"] = "Give a whole number of breaks, 0 or more, or leave it empty."
    ids: list[int] = []
    if free is not None:
        if not isinstance(free, list | tuple) or not all(
            isinstance(x, int) and not isinstance(x, bool) for x in free
        ):
            errors["free"] = "Give a list of meeting ids."
        else:
            ids = sorted(set(free))
    return limit, spread, ids


def _heartbeat_of(run: ScheduleRun) -> datetime:
    raw = (run.progress or {}).get("heartbeat")
    if isinstance(raw, str):
        with contextlib.suppress(ValueError):
            return datetime.fromisoformat(raw)
    return run.created_at


async def mark_stale_runs(db: AsyncSession, event_id: int, now: datetime | None = None) -> int:
    """Mark the event's runs whose process stopped beating as failed; return how many."""
    now = now or utcnow()
    count = 0
    for run in await db.scalars(
        select(ScheduleRun).where(ScheduleRun.event_id == event_id, ScheduleRun.status.in_(ACTIVE))
    ):
        if now - _heartbeat_of(run) > STALE_AFTER:
            run.status = "failed"
            run.error = "The process running this build stopped; start a new build."
            run.finished_at = now
            count += 1
    return count


async def _check_free(db: AsyncSession, event: Event, free: list[int], errors: dict[str, str]) -> None:
    """Only published meetings of this event can be freed (self-booked ones stay put)."""
    if not free:
        return
    found = set(
        await db.scalars(
            select(Meeting.id).where(
                Meeting.id.in_([i for i in free if is_id(i)]),  # PostgreSQL refuses ids past 32 bits
                Meeting.event_id == event.id,
                Meeting.status == "scheduled",
                Meeting.published_at.is_not(None),
            )
        )
    )
    missing = [str(i) for i in free if i not in found]
    if missing:
        errors["free"] = f"Not published meetings of this event: {', '.join(missing)}."


async def start_run(
    db_factory: async_sessionmaker[AsyncSession],
    event: Event,
    actor: User | None,
    time_limit: Any = DEFAULT_TIME_LIMIT,
    break_spread: Any = None,
    free: Any = None,
    *,
    check_access: bool = True,
    spawn: bool = True,
) -> ScheduleRun:
    """Create a queued run with its problem (organisers only) and solve it in the background.

    One active run per event (else Conflict). ``spawn=False`` leaves the solving to the caller
    (``await execute_run(...)``), as the CLI does. ``check_access=False`` is for trusted callers.
    """
    async with db_factory() as db:
        # Lock the event row (PostgreSQL) so two starts cannot both see "no active run".
        locked = await db.get(Event, event.id, with_for_update=True)
        if locked is None:
            raise NotFound("No such event.")
        if check_access:
            await require_organiser(db, locked, actor)
        errors: dict[str, str] = {}
        limit, spread, ids = clean_options(time_limit, break_spread, free, errors)
        await _check_free(db, locked, ids, errors)
        if errors:
            raise ValidationFailed(errors)
        await mark_stale_runs(db, locked.id)
        active = await db.scalar(
            select(ScheduleRun.id).where(ScheduleRun.event_id == locked.id, ScheduleRun.status.in_(ACTIVE))
        )
        if active is not None:
            await db.commit()  # keep the stale runs marked
            raise Conflict("An agenda build is already running for this event; wait for it or cancel it.")
        built = await build_problem(db, locked, free=ids, break_spread=spread)
        stored = problem_to_dict(built.problem)
        stored["clockevents"] = {**run_extras(built), "free": ids}
        run = ScheduleRun(
            event_id=locked.id,
            status="queued",
            time_limit=limit,
            problem=stored,
            progress={"phase": "queued", "heartbeat": utcnow().isoformat()},
            created_by_id=actor.id if actor else None,
        )
        db.add(run)
        await db.commit()
    if spawn:
        task = asyncio.get_running_loop().create_task(execute_run(db_factory, run.id))
        _tasks.add(task)
        task.add_done_callback(_tasks.discard)
    return run


def _solve_blocking(
    problem: scheduler.Problem, time_limit: float, progress: Progress, stop: threading.Event
) -> scheduler.Solution:
    """Wait for a solver seat, then solve (runs in a worker thread)."""
    while not SOLVES.acquire(timeout=0.2):
        if stop.is_set():
            raise RunCancelled()
    try:
        if stop.is_set():
            raise RunCancelled()
        progress({"phase": "solving"})
        if len(problem.meetings) > scheduler.LARGE_MEETINGS:
            return solve_in_process(
                problem, time_limit=time_limit, workers=SOLVER_WORKERS, progress=progress, stop=stop
            )
        return scheduler.solve(
            problem, time_limit=time_limit, workers=SOLVER_WORKERS, progress=progress, stop=stop
        )
    finally:
        SOLVES.release()


async def _write_progress(
    db_factory: async_sessionmaker[AsyncSession], run_id: int, progress: dict[str, Any]
) -> bool:
    """Store progress and heartbeat in a short session; False once the run is no longer running."""
    async with db_factory() as db:
        result = await db.execute(
            update(ScheduleRun)
            .where(ScheduleRun.id == run_id, ScheduleRun.status == "running")
            .values(progress={**progress, "heartbeat": utcnow().isoformat()})
        )
        await db.commit()
        return bool(result.rowcount)  # type: ignore[attr-defined]


async def _finish(db_factory: async_sessionmaker[AsyncSession], run_id: int, **values: Any) -> None:
    """Write the final state unless the run was cancelled (or removed) meanwhile."""
    async with db_factory() as db:
        await db.execute(
            update(ScheduleRun)
            .where(ScheduleRun.id == run_id, ScheduleRun.status == "running")
            .values(finished_at=utcnow(), **values)
        )
        await db.commit()


async def execute_run(
    db_factory: async_sessionmaker[AsyncSession], run_id: int, on_progress: Progress | None = None
) -> None:
    """Solve a queued run and store the draft; every failure ends in the run's status."""
    stop = threading.Event()
    _stops[run_id] = stop
    try:
        async with db_factory() as db:
            claimed = await db.execute(
                update(ScheduleRun)
                .where(ScheduleRun.id == run_id, ScheduleRun.status == "queued")
                .values(status="running", progress={"phase": "waiting", "heartbeat": utcnow().isoformat()})
            )
            await db.commit()
            if not claimed.rowcount:  # type: ignore[attr-defined]
                return
            run = await db.get(ScheduleRun, run_id)
            assert run is not None
            built = await built_from_stored(db, run.problem)
            time_limit = run.time_limit
        await _solve_and_store(db_factory, run_id, built, time_limit, stop, on_progress)
    except Exception as exc:  # the run must end in a status whatever went wrong
        log.exception("schedule run %s failed", run_id)
        with contextlib.suppress(Exception):
            await _finish(db_factory, run_id, status="failed", error=f"{type(exc).__name__}: {exc}"[:2000])
    finally:
        stop.set()  # never leave a solver thread running for a run that has ended
        _stops.pop(run_id, None)


async def _solve_and_store(
    db_factory: async_sessionmaker[AsyncSession],
    run_id: int,
    built: Built,
    time_limit: float,
    stop: threading.Event,
    on_progress: Progress | None,
) -> None:
    lock = threading.Lock()
    latest: dict[str, Any] = {"phase": "waiting", "time_limit": time_limit}

    def record(report: dict[str, Any]) -> None:
        # Called from the solver thread; the event loop reads a copy each second.
        with lock:
            latest.update(report)

    solving = asyncio.ensure_future(
        asyncio.to_thread(_solve_blocking, built.problem, time_limit, record, stop)
    )
    started = asyncio.get_running_loop().time()
    while not solving.done():
        await asyncio.wait({solving}, timeout=HEARTBEAT_SECONDS)
        if solving.done():
            break
        with lock:
            snapshot = dict(latest)
        snapshot["elapsed"] = round(asyncio.get_running_loop().time() - started, 1)
        if on_progress is not None:
            on_progress(snapshot)
        try:
            running = await _write_progress(db_factory, run_id, snapshot)
        except Exception:  # a missed heartbeat (busy database) must not sink the build
            log.warning("schedule run %s: progress not saved", run_id, exc_info=True)
            continue
        if not running:
            stop.set()  # cancelled from another worker, or the row is gone
    try:
        solution = solving.result()
    except RunCancelled:
        return
    if stop.is_set():
        return  # cancelled: keep the status the canceller wrote, store nothing half-done
    figures = compute_statistics(built, solution)
    await _finish(
        db_factory,
        run_id,
        status="done",
        solution=solution_to_dict(solution),
        statistics=figures,
        progress={
            "phase": "done",
            "seconds": round(solution.seconds, 2),
            "weight": solution.weight,
            "breaks": solution.breaks,
            "scheduled": solution.scheduled,
            "heartbeat": utcnow().isoformat(),
        },
    )


async def get_run(db: AsyncSession, run_id: int, actor: User | None) -> tuple[ScheduleRun, Event]:
    """The run and its event, for the event's owner and organisers only (else 401/403/404)."""
    run = await db.get(ScheduleRun, run_id)
    if run is None:
        raise NotFound("No such agenda build.")
    event = await db.get(Event, run.event_id)
    assert event is not None
    await require_organiser(db, event, actor)
    if run.status in ACTIVE:
        # A build whose process died would otherwise look busy until the next start.
        await mark_stale_runs(db, event.id)
    return run, event


async def list_runs(db: AsyncSession, event: Event, actor: User | None, limit: int = 10) -> list[ScheduleRun]:
    """The event's latest runs, newest first (organisers only)."""
    await require_organiser(db, event, actor)
    result = await db.scalars(
        select(ScheduleRun)
        .where(ScheduleRun.event_id == event.id)
        .order_by(ScheduleRun.created_at.desc(), ScheduleRun.id.desc())
        .limit(limit)
    )
    return list(result)


async def cancel_run(db: AsyncSession, run_id: int, actor: User | None) -> ScheduleRun:
    """Stop a queued or running run (organisers only); the solver stops within a second."""
    run, _ = await get_run(db, run_id, actor)
    if run.status not in ACTIVE:
        raise Conflict(f"This build is {run.status}; only a queued or running build can be cancelled.")
    run.status = "cancelled"
    run.finished_at = utcnow()
    run.progress = {**(run.progress or {}), "phase": "cancelled"}
    await db.flush()
    stop = _stops.get(run.id)
    if stop is not None:
        stop.set()
    return run


async def wait_for_run(
    db_factory: async_sessionmaker[AsyncSession], run_id: int, patience: float = 60.0
) -> ScheduleRun:
    """Poll until the run leaves queued/running or ``patience`` seconds pass; return it."""
    deadline = asyncio.get_running_loop().time() + patience
    while True:
        async with db_factory() as db:
            run = await db.get(ScheduleRun, run_id)
            if run is None:
                raise NotFound("No such agenda build.")
            if run.status not in ACTIVE or asyncio.get_running_loop().time() > deadline:
                return run
        await asyncio.sleep(0.2)
