"""The state the prover and the improver threads share: the best schedule and the proven bound."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

Progress = Callable[[dict[str, Any]], None]


class Shared:
    """Best schedule and proven lower bound, shared by the prover and the improver threads."""

    def __init__(self, started: float, lower: int, progress: Progress | None, stop: threading.Event | None):
        self.lock = threading.Lock()
        self.started, self.lower, self.progress = started, lower, progress
        self.best: dict[str, int] | None = None
        self.best_breaks = 0
        self.weight = 0
        self.infeasible = False
        self.done = threading.Event()  # set when the answer is proven or the caller stopped us
        self.step = threading.Event()  # set when the prover's current question is already settled
        self.step_k = -1
        # Set while the prover runs one question per thread, or the SAT question (scheduler.sat)
        # has the improver's core: the improver then stands aside (scheduler.improver), its
        # search stopped until every taker has released it (take_hold, release_hold).
        self.hold = threading.Event()
        self._holders = 0
        if stop is not None:
            threading.Thread(target=self._follow, args=(stop,), daemon=True).start()

    def _follow(self, stop: threading.Event) -> None:
        while not self.done.is_set():
            if stop.wait(0.05):
                self.done.set()

    def _report(self, weight: int) -> None:
        if self.progress is not None and self.best is not None:
            self.progress(
                {
                    "seconds": round(time.monotonic() - self.started, 3),
                    "weight": weight,
                    "breaks": self.best_breaks,
                    "bound": self.lower,
                }
            )

    def offer(self, assignments: dict[str, int], breaks: int, weight: int) -> None:
        with self.lock:
            # Weight first (it only varies when meetings are optional), then breaks.
            if self.best is not None and (weight, -breaks) <= (self.weight, -self.best_breaks):
                return
            self.best, self.best_breaks, self.weight = assignments, breaks, weight
            self._report(weight)
            if breaks <= self.lower:
                self.done.set()

    def raise_lower(self, bound: int) -> None:
        with self.lock:
            if bound <= self.lower:
                return
            self.lower = bound
            if bound > self.step_k:
                self.step.set()
            if self.best is not None:
                self._report(self.weight)
                if self.best_breaks <= self.lower:
                    self.done.set()

    def take_hold(self) -> None:
        """Ask the improver to stand aside until every taker has released the hold."""
        with self.lock:
            self._holders += 1
            self.hold.set()

    def release_hold(self) -> None:
        with self.lock:
            self._holders -= 1
            if self._holders <= 0:
                self._holders = 0
                self.hold.clear()

    def mark_infeasible(self) -> None:
        with self.lock:
            self.infeasible = True
            self.done.set()

    def left(self, deadline: float) -> float:
        return deadline - time.monotonic()


def stand_aside(shared: Shared, deadline: float) -> None:
    """Wait while the hold is taken (or until the search is over or out of time)."""
    while shared.hold.is_set() and not shared.done.is_set() and shared.left(deadline) > 0:
        shared.done.wait(min(0.05, max(0.0, shared.left(deadline))))


def holds(shared: Shared, k: int) -> bool:
    with shared.lock:
        return shared.best is not None and shared.best_breaks <= k
