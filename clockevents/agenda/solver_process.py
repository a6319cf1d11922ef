"""Run the solver in a child process, for problems whose search is mostly Python.

CP-SAT works in C++ and releases the GIL, so a thread of the web process is enough for it. The
large-event strategy (``scheduler.large``) spends most of its minute in pure-Python annealing,
which would hold the GIL and stall every page of the worker that runs it; a child process keeps
the worker responsive. Progress and cancellation cross the process boundary through queues.
"""

from __future__ import annotations

import multiprocessing as mp
import queue
import threading
import time
from collections.abc import Callable
from typing import Any

import scheduler

Progress = Callable[[dict[str, Any]], None]
_ctx = mp.get_context("spawn")  # never fork a process that runs threads and an event loop


def _child(
    problem: scheduler.Problem,
    time_limit: float,
    workers: int,
    events: Any,
    stop_flag: Any,
) -> None:
    """Solve in the child; send progress dicts, then ("done", Solution) or ("error", text)."""
    stop = threading.Event()

    def watch() -> None:
        # A shared byte polled, not a multiprocessing.Event: setting such an Event waits for
        # its sleepers to wake, and hangs for ever once the sleeping process has exited.
        while not stop_flag.value:
            time.sleep(0.1)
        stop.set()

    threading.Thread(target=watch, daemon=True).start()
    try:
        solution = scheduler.solve(
            problem,
            time_limit=time_limit,
            workers=workers,
            progress=lambda e: events.put(("progress", e)),
            stop=stop,
        )
    except Exception as exc:  # sent to the parent, which raises it in the run
        events.put(("error", f"{type(exc).__name__}: {exc}"))
    else:
        events.put(("done", solution))


def solve_in_process(
    problem: scheduler.Problem,
    *,
    time_limit: float,
    workers: int,
    progress: Progress,
    stop: threading.Event,
) -> scheduler.Solution:
    """Solve ``problem`` in a child process; blocks the calling (worker) thread until done."""
    events = _ctx.Queue()
    stop_flag = _ctx.Value("b", 0, lock=False)
    child = _ctx.Process(target=_child, args=(problem, time_limit, workers, events, stop_flag), daemon=True)
    child.start()
    try:
        while True:
            if stop.is_set():
                stop_flag.value = 1
            try:
                kind, payload = events.get(timeout=0.2)
            except queue.Empty:
                if not child.is_alive():
                    raise RuntimeError(
                        f"the solver process ended unexpectedly (exit code {child.exitcode})"
                    ) from None
                continue
            if kind == "progress":
                progress(payload)
            elif kind == "done":
                return payload  # type: ignore[no-any-return]
            else:
                raise RuntimeError(payload)
    finally:
        stop_flag.value = 1
        child.join(timeout=10)
        if child.is_alive():
            child.kill()
