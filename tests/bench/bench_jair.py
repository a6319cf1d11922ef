"""JAIR 2022 B2B benchmark: solve every case of best_known.csv and compare with the proven optimum.

Usage: python tests/bench/bench_jair.py [--filter SUBSTR[,SUBSTR...]] [--spread D] [--cases FILE@D ...]
       [--time-limit 60] [--workers 2]
Data: ../shared/benchmarks/b2b relative to the repository root, or $B2B_BENCH_DIR.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import os
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from scheduler import check_solution, load_problem, solve  # noqa: E402


def bench_dir() -> Path:
    """Locate the benchmark folder."""
    env = os.environ.get("B2B_BENCH_DIR")
    return Path(env) if env else (ROOT.parent / "shared" / "benchmarks" / "b2b")


def _fmt(value: int | None) -> str:
    return "-" if value is None else str(value)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; exit 1 if any case misses its proven optimum."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--filter",
        default="",
        help="only cases whose file name contains this (or one of these, comma-separated)",
    )
    parser.add_argument("--spread", type=int, default=None, help="only cases at this break spread")
    parser.add_argument(
        "--cases",
        nargs="+",
        default=None,
        metavar="FILE@D",
        help="only these cases, as the 'missed:' line names them (forum-14.original@2 ...)",
    )
    parser.add_argument("--time-limit", type=float, default=60.0)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    base = bench_dir()
    with open(base / "best_known.csv", newline="") as fh:
        cases = [
            row
            for row in csv.DictReader(fh)
            if any(part in row["file"] for part in args.filter.split(","))
            and (args.spread is None or int(row["break_spread"]) == args.spread)
            and (args.cases is None or f"{row['file']}@{row['break_spread']}" in args.cases)
        ]
    print(
        f"{'case':34} {'spread':>6} {'expected':>10} {'got':>10} {'bound':>5} {'status':>10} {'seconds':>8}",
        flush=True,
    )
    times: list[float] = []
    failed: list[str] = []
    for row in cases:
        problem = load_problem(base / "problems" / f"{row['file']}.json")
        spread = int(row["break_spread"])
        problem = dataclasses.replace(problem, rules=dataclasses.replace(problem.rules, break_spread=spread))
        solution = solve(problem, time_limit=args.time_limit, workers=args.workers)
        expected = row["best_breaks"]
        if solution.status == "infeasible":
            got = "infeasible"
            ok = expected == "infeasible"
        else:
            got = str(solution.breaks) if solution.assignments else "-"
            ok = solution.status == "optimal" and got == expected
            if solution.assignments and check_solution(problem, solution.assignments):
                got += "!"  # a hard rule is broken: never acceptable
                ok = False
        times.append(solution.seconds)
        if not ok:
            failed.append(f"{row['file']}@{spread}")
        print(
            f"{row['file']:34} {spread:>6} {expected:>10} {got:>10} {_fmt(solution.breaks_lower_bound):>5} "
            f"{solution.status:>10} {solution.seconds:8.2f}" + ("" if ok else "  MISS"),
            flush=True,
        )
    if times:
        print(
            f"\nsolved to optimum: {len(cases) - len(failed)}/{len(cases)}; "
            f"median {statistics.median(times):.2f}s; max {max(times):.2f}s; "
            f"within 10 s: {sum(t <= 10 for t in times)}; within 60 s: {sum(t <= 60 for t in times)}"
        )
    if failed:
        print("missed: " + " ".join(failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
