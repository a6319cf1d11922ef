"""One run of the live benchmark: a server (the relay, or workers of ours) under the load generator.

``Bench`` starts the servers as processes of their own (``live_servers.py``, ``ws_relay.py``,
``ws_store_relay.py``), runs ``live_load.py`` against them and returns its figures with the
servers' CPU time and the machine's load.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.bench.live_load import cpu_seconds
from tests.bench.live_servers import Processes, free_port, wait_ready

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]

SECRET = "bench-secret-key-not-for-production"


@dataclass
class Bench:
    database_url: str
    rooms: list[tuple[int, str, str]]
    logs: Path
    seconds: int
    profile: Path | None
    redis_db: int
    deflate: bool = True
    stages: bool = False  # time the stages of each message in our servers (live_stages.py)

    def env(self, port: int, redis: bool) -> dict[str, str]:
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
            "DATABASE_URL": self.database_url,
            "SECRET_KEY": SECRET,
            "CLOCKEVENTS_DATA_DIR": str(self.logs),
            "BASE_URL": f"http://127.0.0.1:{port}",
        }
        env.pop("REDIS_URL", None)
        if redis:
            env["REDIS_URL"] = f"redis://127.0.0.1:6379/{self.redis_db}"
        return env

    def load(
        self,
        procs: Processes,
        kind: str,
        rooms: list[list[Any]],
        seconds: int,
        shape: str,
        *,
        stores: bool = False,
    ) -> dict[str, Any]:
        cpu_before = sum(cpu_seconds(p.pid) for p, _ in procs.running)
        load_before = os.getloadavg()[0]
        spec_path = self.logs / f"spec-{uuid.uuid4().hex[:8]}.json"
        pids = [p.pid for p, _ in procs.running]
        spec = {"kind": kind, "rooms": rooms, "seconds": seconds, "server_pids": pids, "shape": shape}
        spec["mark_steady"] = kind == "ours" and (self.profile is not None or self.stages)
        spec["deflate"] = self.deflate
        spec["count_database"] = stores and self.database_url.startswith("postgresql")
        spec_path.write_text(json.dumps(spec))
        out = subprocess.run(
            [sys.executable, str(HERE / "live_load.py"), str(spec_path)],
            env=self.env(0, False),
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=seconds + 600,
            check=False,
        )
        spec_path.unlink()
        if out.returncode != 0:
            raise RuntimeError(f"load generator failed:\n{out.stderr[-3000:]}")
        result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
        result["server_cpu"] = sum(cpu_seconds(p.pid) for p, _ in procs.running) - cpu_before
        result["load_average"] = load_before
        return result

    def relay(
        self, connections: int, seconds: int, shape: str = "spread", store: bool = False
    ) -> dict[str, Any]:
        """The minimal relay; with ``store``, the one that writes each message to PostgreSQL first."""
        procs = Processes(self.logs)
        port = free_port()
        script = "ws_store_relay.py" if store else "ws_relay.py"
        cmd = [sys.executable, str(HERE / script), "--port", str(port)]
        if store:
            cmd += ["--database-url", self.database_url]
        try:
            proc = procs.start("store-relay" if store else "relay", cmd, self.env(port, False))
            wait_ready(port, proc, http=False)
            base = f"ws://127.0.0.1:{port}"
            rooms = [[f"{base}/room/{r}", None, f"{base}/room/{r}", None] for r in range(connections // 2)]
            return self.load(procs, "relay", rooms, seconds, shape, stores=store)
        finally:
            procs.stop()

    def ours(self, connections: int, seconds: int, workers: int = 1, shape: str = "spread") -> dict[str, Any]:
        procs = Processes(self.logs)
        ports = [free_port() for _ in range(workers)]
        try:
            for port in ports:
                cmd = [sys.executable, str(HERE / "live_servers.py"), "--port", str(port)]
                if self.profile is not None:
                    self.profile.mkdir(parents=True, exist_ok=True)
                    cmd += ["--profile", str(self.profile / f"{port}.pstats")]
                if self.stages:
                    stages = self.logs / f"stages-{port}.json"
                    stages.unlink(missing_ok=True)  # an earlier run's, on the same port
                    cmd += ["--stages", str(stages)]
                proc = procs.start(f"ours-{port}", cmd, self.env(port, redis=workers > 1))
                wait_ready(port, proc, http=True)
            bases = [f"ws://127.0.0.1:{p}/ws/meetings" for p in ports]
            rooms = [
                [f"{bases[0]}/{mid}", ta, f"{bases[-1]}/{mid}", tb]
                for mid, ta, tb in self.rooms[: connections // 2]
            ]
            result = self.load(procs, "ours", rooms, seconds, shape, stores=True)
            if self.stages:
                result["stages"] = [
                    json.loads(path.read_text())
                    for port in ports
                    if (path := self.logs / f"stages-{port}.json").exists()
                ]
            return result
        finally:
            procs.stop()
