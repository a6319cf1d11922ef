"""Benchmark solve_large on a synthetic 2,000-participant brokerage event against greedy.

Run: python tests/bench/bench_event.py [--time-limit 60] [--workers 2] [--seed S] [--thin]
The bar: at least 99 % of the b-matching weight bound and at most a fifth of greedy's breaks.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from event_generator import brokerage_event

from scheduler.bounds import bmatching
from scheduler.greedy import solve_greedy
from scheduler.large import solve_large
from scheduler.problem import check_solution
from scheduler.tables import assign_tables, naive_tables, table_changes


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark, print the comparison, return 0 when the bar is met."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--time-limit", type=float, default=60.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--quiet", action="store_true", help="no progress lines")
    parser.add_argument(
        "--thin", action="store_true", help="the easier event: demand spread thinly, no busy exhibitors"
    )
    args = parser.parse_args(argv)

    thin = {"busy_share": 0.0, "unavailable_share": 0.10} if args.thin else {}
    problem = brokerage_event(seed=args.seed, **thin)
    print(
        f"{problem.name}: {len(problem.participants)} participants, {len(problem.meetings)} meetings, "
        f"{problem.slots} slots, capacity {problem.capacity}"
    )
    t = time.monotonic()
    bound = bmatching(problem, time_limit=30, workers=args.workers)
    bound_s = time.monotonic() - t
    greedy = solve_greedy(problem)

    def show(report: dict[str, float | int | None]) -> None:
        if not args.quiet:
            print(
                f"  {report['seconds']:6.1f}s  weight {report['weight']}  breaks {report['breaks']}",
                flush=True,
            )

    ours = solve_large(problem, time_limit=args.time_limit, workers=args.workers, progress=show)
    errors = check_solution(problem, ours.assignments)

    kind = "exact" if bound.exact else bound.method
    rows = [
        ("b-matching bound", f"{bound.value}", "100.0%", "-", f"{bound_s:.2f}s ({kind})"),
        (
            "greedy",
            f"{greedy.weight}",
            _pct(greedy.weight, bound.value),
            f"{greedy.breaks}",
            f"{greedy.seconds:.2f}s",
        ),
        (
            "solve_large",
            f"{ours.weight}",
            _pct(ours.weight, bound.value),
            f"{ours.breaks}",
            f"{ours.seconds:.2f}s",
        ),
    ]
    print(f"\n{'':18}{'weight':>8}{'% bound':>9}{'breaks':>8}  seconds")
    for name, weight, pct, breaks, secs in rows:
        print(f"{name:18}{weight:>8}{pct:>9}{breaks:>8}  {secs}")
    print(
        f"scheduled {ours.scheduled} of {len(problem.meetings)}; status {ours.status}; hard-rule violations {len(errors)}"
    )

    tables = problem.capacity or len(problem.meetings)
    t = time.monotonic()
    seats = assign_tables(problem, ours.assignments, tables)
    seats_s = time.monotonic() - t
    ours_changes = table_changes(problem, ours.assignments, seats)
    naive_changes = table_changes(problem, ours.assignments, naive_tables(problem, ours.assignments))
    print(f"table changes: assign_tables {ours_changes} ({seats_s:.2f}s) vs naive {naive_changes}")

    weight_ok = ours.weight >= 0.99 * bound.value
    breaks_ok = ours.breaks * 5 <= greedy.breaks
    print(
        f"bar: weight >= 99% of bound {'PASS' if weight_ok else 'FAIL'}; "
        f"breaks <= greedy/5 ({greedy.breaks / 5:.0f}) {'PASS' if breaks_ok else 'FAIL'}"
    )
    return 0 if weight_ok and breaks_ok and not errors else 1


def _pct(value: int, bound: int) -> str:
    """Value as a percentage of the bound."""
    return f"{100 * value / bound:.1f}%" if bound else "-"


if __name__ == "__main__":
    sys.exit(main())
