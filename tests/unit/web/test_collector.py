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


def test_young_pass_freezes_survivors_and_full_pass_reclaims_frozen_cycles() -> None:
    collector = Collector()
    try:
        collector.settle(full=True)
        kept = _Node()
        garbage = _cycle()
        collector.settle()  # young pass: the new cycle is garbage already and goes
        assert garbage() is None
        frozen = gc.get_freeze_count()
        assert frozen > 0
        assert any(obj is kept for obj in gc.get_objects()) is False  # frozen objects are not tracked

        late = _cycle()
        survivor = late()
        collector.settle()  # the cycle is still referenced: it survives and is frozen
        del survivor
        gc.collect()  # an automatic-style pass does not reach frozen objects
        assert late() is not None
        collector.settle(full=True)  # the full pass thaws, collects, and freezes again
        assert late() is None
        assert (collector.passes, collector.full_passes) == (4, 2)
    finally:
        gc.unfreeze()
