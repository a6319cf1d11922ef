"""Command line: `python -m scheduler solve PROBLEM.json [--time-limit S] [--workers N] [-o OUT]`."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from scheduler import solve
from scheduler.io import dump_solution, load_problem
from scheduler.problem import ProblemError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m scheduler", description="Schedule B2B meetings.")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("solve", help="solve a clockevents-problem/1 file")
    run.add_argument("problem", help="problem JSON file")
    run.add_argument("--time-limit", type=float, default=60.0, help="seconds (default 60)")
    run.add_argument("--workers", type=int, default=2, help="solver threads (default 2)")
    run.add_argument("-o", "--output", help="write the solution here instead of stdout")
    return parser


def _report(event: dict[str, Any]) -> None:
    bound = event.get("bound")
    shown = "-" if bound is None else f"{bound:g}"
    print(
        f"{event['seconds']:8.2f}s  weight {event['weight']}  breaks {event['breaks']}  bound {shown}",
        file=sys.stderr,
        flush=True,
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status (0 solved, 2 malformed input)."""
    args = _parser().parse_args(argv)
    if args.time_limit <= 0 or args.workers < 1:
        print("error: --time-limit must be > 0 and --workers >= 1", file=sys.stderr)
        return 2
    try:
        problem = load_problem(Path(args.problem))
        solution = solve(problem, time_limit=args.time_limit, workers=args.workers, progress=_report)
    except ProblemError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    text = dump_solution(solution)
    if args.output:
        try:
            with open(args.output, "w", encoding="utf-8") as fh:
                fh.write(text)
        except OSError as exc:
            print(f"error: cannot write {args.output}: {exc.strerror}", file=sys.stderr)
            return 2
    else:
        sys.stdout.write(text)
    print(
        f"{solution.status}: {solution.scheduled} meetings, weight {solution.weight}, "
        f"breaks {solution.breaks} (lower bound {solution.breaks_lower_bound}), {solution.seconds:.2f}s",
        file=sys.stderr,
    )
    return 0
