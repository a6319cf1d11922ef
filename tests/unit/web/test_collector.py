import gc
import weakref

from web.collector import Collector


class _Node:
    def __init__(self) -> None:
        self.other: _Node | None = None


def _cycle() -> weakref.ref[_Node]:
    a, b = _Node(), _Node()
    a.other, b.other = b, a
    return weakref.ref(a)


def test_frozen_cycles_wait_for_the_full_pass_which_reclaims_them() -> None:
    collector = Collector()
    try:
        collector.full_pass()
        early = _cycle()
        collector.full_pass()  # garbage at a full pass goes
        assert early() is None

        held = _Node()
        held.other = held  # a cycle still in use when it is frozen
        late = weakref.ref(held)
        collector.freeze()
        assert gc.get_freeze_count() > 0
        del held  # garbage now, but frozen
        gc.collect()  # an automatic-style pass does not reach frozen objects
        assert late() is not None
        collector.full_pass()  # the full pass thaws, collects, and freezes again
        assert late() is None
        assert (collector.freezes, collector.full_passes) == (1, 3)
    finally:
        gc.unfreeze()


def test_a_freeze_first_reclaims_the_young_garbage_instead_of_freezing_it() -> None:
    collector = Collector()
    try:
        collector.full_pass()
        fresh = _cycle()  # garbage already when the freeze comes
        collector.freeze()
        assert fresh() is None
    finally:
        gc.unfreeze()


def test_frozen_objects_are_still_freed_when_nothing_refers_to_them() -> None:
    collector = Collector()
    try:
        node = _Node()
        ref = weakref.ref(node)
        collector.freeze()
        del node  # no cycle: reference counting frees it whatever the generation
        assert ref() is None
    finally:
        gc.unfreeze()


async def test_while_it_runs_young_passes_stay_small_and_still_reclaim_fresh_cycles() -> None:
    before = gc.get_threshold()
    collector = Collector(freeze_every=3600)  # no freeze during the test
    collector.start()
    try:
        young, middle, oldest = gc.get_threshold()
        assert (young, middle) == (1_000, 10)
        assert oldest >= 2**30  # the oldest generation waits for the complete pass
        fresh = _cycle()
        keep = [[] for _ in range(3 * young)]  # enough new objects for an automatic young pass
        assert fresh() is None  # reclaimed without anyone calling gc.collect()
        assert len(keep) == 3 * young
    finally:
        await collector.stop()
    assert gc.get_threshold() == before
