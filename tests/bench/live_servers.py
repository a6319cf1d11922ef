"""The processes of the live benchmark: one uvicorn worker of ours (run as this script), and their care.

``python tests/bench/live_servers.py --port P [--profile FILE]`` serves the app with the options of
``clockevents run``; ``Processes`` starts and stops such children, ``wait_ready`` waits for them.
"""

from __future__ import annotations

import argparse
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.bench.live_load import raise_file_limit  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# the server of ours, as its own process --------------------------------------------------------


def serve_main(argv: list[str]) -> None:
    """``live_servers.py --port P``: one uvicorn worker of our app (cProfile with --profile FILE,
    the stages of each message, ``tests/bench/live_stages.py``, with --stages FILE)."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--profile", default="")
    parser.add_argument("--stages", default="")
    args = parser.parse_args(argv)
    raise_file_limit()
    import uvicorn

    from clockevents.cli import APP, SERVER_OPTIONS

    def run() -> None:
        uvicorn.run(
            APP,
            **SERVER_OPTIONS,
            host="127.0.0.1",
            port=args.port,
            log_level="warning",
            backlog=4096,
        )

    # The load generator sends SIGUSR1 when the steady state begins and SIGUSR2 when it ends, so
    # that the profile and the stages hold the chat traffic only (not the connecting).
    begins: list[Callable[[], None]] = []
    ends: list[Callable[[], None]] = []
    if args.profile:
        import cProfile

        # CPU time, not wall time, so that other processes on the machine do not count.
        profiler = cProfile.Profile(time.process_time)
        begins.append(profiler.enable)
        ends.append(profiler.disable)
        ends.append(lambda: profiler.dump_stats(args.profile))
    if args.stages:
        from tests.bench.live_stages import StageClock

        clock = StageClock(Path(args.stages))
        clock.install()
        begins.append(clock.begin)
        ends.append(clock.end)
    if begins:
        signal.signal(signal.SIGUSR1, lambda *_: [f() for f in begins])
        signal.signal(signal.SIGUSR2, lambda *_: [f() for f in ends])
    run()


# children ------------------------------------------------------------------------------


class Processes:
    """Child processes of one measurement, ended (TERM, then KILL) when it is over."""

    def __init__(self, logs: Path) -> None:
        self.logs = logs
        self.running: list[tuple[subprocess.Popen[bytes], Any]] = []

    def start(self, name: str, cmd: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        log = open(self.logs / f"{name}.log", "ab")  # noqa: SIM115 - closed in stop()
        proc = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        self.running.append((proc, log))
        return proc

    def stop(self) -> None:
        for proc, _ in self.running:
            if proc.poll() is None:  # SIGINT: uvicorn re-raises it after a clean shutdown, so the
                proc.send_signal(signal.SIGINT)  # profile (a ``finally``) is still written
        for proc, log in self.running:
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                print(f"  (process {proc.pid} did not stop within 60 s: killed)", flush=True)
                proc.kill()
                proc.wait()
            log.close()
        self.running.clear()


def wait_ready(port: int, proc: subprocess.Popen[bytes], http: bool, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server on port {port} exited with {proc.returncode}")
        try:
            if http:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as r:
                    if r.status == 200:
                        return
            else:
                with socket.create_connection(("127.0.0.1", port), timeout=2):
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"server on port {port} did not start within {timeout} s")


if __name__ == "__main__":
    serve_main(sys.argv[1:])
