"""scheduler.prover: the prover's relaxation questions, with and without the LP."""

from __future__ import annotations

import dataclasses
import time

from hypothesis import HealthCheck, given, settings

from scheduler.model import build
from scheduler.problem import Rules
from scheduler.prover import _ask_broken
from scheduler.shared import Shared
from tests.unit.scheduler.helpers import exhaustive
from tests.unit.scheduler.test_solve import tiny_problems

FAST = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(tiny_problems())
def test_relaxation_with_or_without_lp_refutes_only_below_the_optimum(problem):
    problem = dataclasses.replace(problem, rules=Rules(schedule_all=True, break_spread=None))
    best = exhaustive(problem)
    model = build(problem, schedule_all=True)
    for lp in (False, True):
        for k in (0, 1, 2):
            shared = Shared(time.monotonic(), 0, None, None)
            answer = _ask_broken(model, shared, time.monotonic() + 10.0, k, {}, lp)
            assert answer is not None  # tiny models are settled well within the budget
            if answer:
                assert best is None or best[1] > k
            else:
                assert best is not None  # the relaxation places every meeting: so can a schedule
            assert shared.best is None or shared.best_breaks >= best[1]
