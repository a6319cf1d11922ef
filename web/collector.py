"""When the worker runs Python's cycle collector: rarely over the long-lived heap, as usual elsewhere.

A worker holding thousands of live sockets keeps a few hundred thousand objects alive for as long
as the sockets stay open. Left to itself, the collector walks all of them every few seconds (a
full pass with 2,000 sockets took about 400 ms, during which no message moved). So every
``FREEZE_EVERY`` seconds whatever exists is frozen — moved, in constant time, where the automatic
passes do not look — and those passes only ever walk the objects made since. Frozen objects are
still freed as soon as nothing refers to them; only cycles among them (the remains of closed
connections) wait for the complete pass that thaws everything every ``FULL_EVERY`` seconds.

The young passes stay small and frequent, as in Python's defaults, because requests do leave
cycles behind (tens of objects each) that they reclaim at once. What they cost is the number of
objects they walk: a young generation of 20,000 objects took 7 ms of CPU a pass, which stalls
every socket of the worker, where 1,000 take a tenth of a millisecond. The oldest generation's
automatic pass is off: it would walk everything promoted since the last freeze, and the next
freeze (at most ``FREEZE_EVERY`` later) puts that where the complete pass finds it anyway.
Each freeze starts with a young pass, so that the cycles a request left since the last automatic
pass are reclaimed, not frozen: serving pages, 3 of the ~100 cyclic objects a request leaves were
still frozen without it, 0.4 with it (1.6 instead of 74 at 20 requests a second).

That young pass is not as small as the threshold suggests. The count that starts automatic passes
goes down whenever an object is freed, frozen ones included, so a socket's waiting state — the
coroutines and future of its pending receive, made anew for each message and freed after the next
one, once frozen — keeps the count near zero while the young generation fills with their successors:
with 2,000 sockets chatting, 12,000 objects after half a second, no automatic pass at all, and a
freeze's young pass that took 4-6 ms, twice a second, with every socket of the worker stalled
(the largest part of the live benchmark's p99, 9.6 ms). Frozen every 50 ms instead, the young
generation holds a tenth of that: a pass takes 0.2 ms (90 ms of CPU in 20 s against 170-230),
and the p99 went to 5.5-8 ms. The price is that a request in flight at a freeze is more often
caught: serving pages, 7.5 objects a request wait for the complete pass instead of 3.3 (a few MB
in ten minutes at 20 requests a second).
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time

from clockevents.background import cancel_and_wait

log = logging.getLogger(__name__)

FREEZE_EVERY = 0.05  # seconds between freezes (each takes microseconds)
FULL_EVERY = 600.0  # seconds between complete passes, frozen objects included
# An automatic young pass starts when this many more objects were made than freed since the last
# one (Python's default is 700); the middle generation is walked every tenth young pass.
YOUNG_THRESHOLD = 1_000
MIDDLE_THRESHOLD = 10
OLDEST_THRESHOLD = 2**30  # never reached: the freezes and the complete pass look after the oldest


class Collector:
    def __init__(self, freeze_every: float = FREEZE_EVERY, full_every: float = FULL_EVERY) -> None:
        self.freeze_every = freeze_every
        self.full_every = full_every
        self._task: asyncio.Task[None] | None = None
        self._thresholds = gc.get_threshold()
        self.freezes = 0
        self.full_passes = 0

    def start(self) -> None:
        if self._task is None:
            self._thresholds = gc.get_threshold()
            gc.set_threshold(YOUNG_THRESHOLD, MIDDLE_THRESHOLD, OLDEST_THRESHOLD)
            self.full_pass()  # what start-up built stays: the app, its modules and tables
            self._task = asyncio.create_task(self._run(), name="cycle-collector")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            await cancel_and_wait(task)
            gc.set_threshold(*self._thresholds)
        gc.unfreeze()

    def freeze(self) -> None:
        """A young pass (what was made since the last freeze and is still alive, see above), then
        freeze: garbage made since then goes now rather than at the next complete pass."""
        gc.collect(0)
        gc.freeze()
        self.freezes += 1

    def full_pass(self) -> float:
        """Thaw, collect everything, freeze the survivors; return the seconds it took."""
        started = time.perf_counter()
        gc.unfreeze()
        gc.collect()
        gc.freeze()
        self.full_passes += 1
        return time.perf_counter() - started

    async def _run(self) -> None:
        last_full = time.monotonic()
        while True:
            await asyncio.sleep(self.freeze_every)
            if time.monotonic() - last_full >= self.full_every:
                last_full = time.monotonic()
                log.debug("complete cycle collection took %.1f ms", self.full_pass() * 1000)
            else:
                self.freeze()
