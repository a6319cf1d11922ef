"""Run every benchmark script (``tests/bench/bench_*.py``) in turn: ``make bench``.

Usage: python -m tests.bench [NAME ...]   (NAME picks scripts by substring, e.g. ``directory``)
Each script runs as its own process with its output passed through; one that needs the
scheduler's benchmark data (``../shared/benchmarks``) is skipped with a note when it is missing.
Exit status: 0 when every script that ran met its bar, else 1.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
SHARED_BENCHMARKS = ROOT.parent / "shared" / "benchmarks"
# How a script says it reads the shared data (see bench_jair.py).
DATA_MARKERS = ("shared/benchmarks", '"shared" / "benchmarks"')


def needs_shared_data(script: Path) -> bool:
    source = script.read_text(encoding="utf-8")
    return any(marker in source for marker in DATA_MARKERS)


def data_available() -> bool:
    return bool(os.environ.get("B2B_BENCH_DIR")) or SHARED_BENCHMARKS.is_dir()


def main(argv: list[str] | None = None) -> int:
    """Run the selected scripts; return 0 if all that ran succeeded."""
    wanted = list(sys.argv[1:] if argv is None else argv)
    scripts = sorted(HERE.glob("bench_*.py"))
    if wanted:
        scripts = [s for s in scripts if any(w in s.stem for w in wanted)]
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }
    results: list[tuple[str, str]] = []
    for script in scripts:
        name = script.stem
        if needs_shared_data(script) and not data_available():
            print(f"== {name}: skipped ({SHARED_BENCHMARKS} not found; set B2B_BENCH_DIR)", flush=True)
            results.append((name, "skipped"))
            continue
        print(f"== {name}", flush=True)
        start = time.monotonic()
        code = subprocess.call([sys.executable, str(script)], cwd=ROOT, env=env)
        outcome = "ok" if code == 0 else f"failed (exit {code})"
        print(f"== {name}: {outcome} in {time.monotonic() - start:.0f}s", flush=True)
        results.append((name, outcome))
    print("\nbenchmarks: " + ", ".join(f"{n} {o}" for n, o in results), flush=True)
    return 0 if all(o in ("ok", "skipped") for _, o in results) else 1


if __name__ == "__main__":
    sys.exit(main())
