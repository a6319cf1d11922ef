"""`python -m scheduler solve`: solution output and one-line errors for malformed input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from scheduler.io import dump_problem
from tests.unit.scheduler.helpers import make

ROOT = Path(__file__).resolve().parents[3]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "scheduler", *args], cwd=ROOT, capture_output=True, text=True, timeout=60
    )


def write(tmp_path: Path, data: object) -> str:
    path = tmp_path / "problem.json"
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return str(path)


def valid() -> dict:
    return json.loads(dump_problem(make(4, [("a", "b"), ("b", "c")])))


def test_cli_solve_writes_solution_to_stdout(tmp_path):
    result = run("solve", write(tmp_path, valid()), "--time-limit", "5", "--workers", "1")
    assert result.returncode == 0
    data = json.loads(result.stdout)
    assert (data["format"], data["status"], data["scheduled"], data["breaks"]) == (
        "clockevents-solution/1",
        "optimal",
        2,
        0,
    )


def test_cli_solve_writes_solution_file_with_output_option(tmp_path):
    out = tmp_path / "solution.json"
    result = run("solve", write(tmp_path, valid()), "--time-limit", "5", "-o", str(out))
    assert (result.returncode, result.stdout) == (0, "")
    assert json.loads(out.read_text())["status"] == "optimal"


def test_cli_solve_infeasible_still_exits_zero(tmp_path):
    data = valid()
    data["slots"] = 1
    data["rules"] = {"schedule_all": True, "break_spread": None}
    result = run("solve", write(tmp_path, data), "--time-limit", "5")
    assert result.returncode == 0
    assert json.loads(result.stdout)["status"] == "infeasible"


def _broken(change: str) -> object:
    data = valid()
    if change == "bad json":
        return '{"format": '
    if change == "format tag":
        data["format"] = "clockevents-problem/9"
    elif change == "unknown participant":
        data["meetings"][0]["b"] = "ghost"
    elif change == "slot out of range":
        data["meetings"][0]["fixed_slot"] = 4
    elif change == "duplicate id":
        data["meetings"][1]["id"] = data["meetings"][0]["id"]
    elif change == "precedence cycle":
        data["meetings"][0]["after"] = [data["meetings"][1]["id"]]
        data["meetings"][1]["after"] = [data["meetings"][0]["id"]]
    elif change == "self meeting":
        data["meetings"][0]["b"] = data["meetings"][0]["a"]
    return data


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("bad json", "is not valid JSON"),
        ("format tag", "unsupported format 'clockevents-problem/9'"),
        ("unknown participant", "meeting 'm0' names unknown participant 'ghost'"),
        ("slot out of range", "meeting 'm0' fixed slot 4 out of range 0..3"),
        ("duplicate id", "duplicate meeting id 'm0'"),
        ("precedence cycle", "precedence cycle: m0 -> m1 -> m0"),
        ("self meeting", "meeting 'm0' is a meeting of participant 'a' with itself"),
    ],
)
def test_cli_solve_malformed_exits_2_with_one_line(tmp_path, change, message):
    result = run("solve", write(tmp_path, _broken(change)))
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("error: ")
    assert message in lines[0]
    assert "Traceback" not in result.stderr


def test_cli_solve_missing_file_exits_2_with_one_line(tmp_path):
    result = run("solve", str(tmp_path / "nope.json"))
    assert result.returncode == 2
    assert result.stderr.strip() == f"error: problem file not found: {tmp_path / 'nope.json'}"
