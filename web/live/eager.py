"""Run a coroutine at once, in the caller, as far as it goes without waiting.

Sending a WebSocket message is a coroutine that almost never waits (only when the client reads
more slowly than we write). Making it a task, or passing the message through a queue to a task,
costs a turn of the event loop per message and socket; running it eagerly costs nothing when it
completes at once, and hands the rest to a task in the rare case it has to wait. (Python 3.12's
eager task factory does the same; this runs on 3.11.)
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Generator
from typing import Any


def run_eagerly(coro: Coroutine[Any, Any, Any]) -> asyncio.Future[Any] | None:
    """Run ``coro`` until it first waits: None when it finished, else a task that finishes it.

    An exception raised before the first wait propagates to the caller.
    """
    try:
        waiting_for = coro.send(None)
    except StopIteration:
        return None
    except BaseException:
        coro.close()
        raise
    return asyncio.ensure_future(_Resume(coro, waiting_for))


class _Resume:
    """The rest of a coroutine that was started outside a task, awaitable by a task."""

    def __init__(self, coro: Coroutine[Any, Any, Any], waiting_for: Any) -> None:
        self.coro = coro
        self.waiting_for = waiting_for

    def __await__(self) -> Generator[Any, None, Any]:
        coro, waiting_for = self.coro, self.waiting_for
        while True:
            try:
                yield waiting_for  # the future the coroutine waits on: the task waits for it too
            except BaseException as exc:  # cancellation of the task reaches the coroutine
                try:
                    waiting_for = coro.throw(exc)
                except StopIteration as stop:
                    return stop.value
            else:
                try:
                    waiting_for = coro.send(None)
                except StopIteration as stop:
                    return stop.value
