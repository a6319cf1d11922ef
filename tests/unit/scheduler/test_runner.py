"""scheduler.runner: one CP-SAT solve that keeps its deadline and can be cancelled."""

from __future__ import annotations

import threading

from ortools.sat.python import cp_model

from scheduler.model import build
from scheduler.problem import Rules, check_solution
from scheduler.runner import run
from tests.unit.scheduler.helpers import make


def _model():
    return build(make(4, [("a", "b"), ("a", "c"), ("b", "c")], rules=Rules(schedule_all=True)))


def test_run_finds_a_schedule_and_reports_it() -> None:
    model = _model()
    seen: list[dict[str, int]] = []
    cp = model.cp.clone()
    cp.minimize(model.total_breaks)
    out = run(model, cp, 10.0, 1, threading.Event(), lambda a, _b, _w: seen.append(a))
    assert out.status == cp_model.OPTIMAL
    assert out.assignments is not None and check_solution(model.problem, out.assignments) == []
    assert seen and seen[-1] == out.assignments


def test_run_cancelled_or_without_time_solves_nothing() -> None:
    model = _model()
    cancelled = threading.Event()
    cancelled.set()
    for out in (run(model, model.cp, 10.0, 1, cancelled), run(model, model.cp, 0.0, 1, threading.Event())):
        assert out.status == cp_model.UNKNOWN
        assert out.assignments is None
