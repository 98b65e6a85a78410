"""Load generation with `wrk` (compiled, so a 2-core machine measures the servers, not the load generator).

`run_wrk` drives `bench/gateway_wrk.lua`, which POSTs one JSON body over N keep-alive connections for a
fixed time and reports the count and the latency percentiles of completed requests. A streamed answer
counts as complete when its last chunk has arrived, so its latency is the whole stream's duration.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

SCRIPT = Path(__file__).with_name("gateway_wrk.lua")


@dataclass(frozen=True, slots=True)
class LoadResult:
    """What one wrk run measured; latencies in milliseconds."""

    requests: int
    duration_s: float
    errors: int
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float

    @property
    def rps(self) -> float:
        return self.requests / self.duration_s if self.duration_s else 0.0


def require_wrk() -> str:
    """The wrk binary, or an error saying how to install it."""
    path = shutil.which("wrk")
    if path is None:
        raise SystemExit("wrk is missing: apt-get install wrk (Debian package `wrk`)")
    return path


def run_wrk(
    url: str,
    body: bytes,
    *,
    connections: int,
    duration_s: float,
    auth: str = "",
    timeout_s: float = 30.0,
    stagger_ms: int = 0,
) -> LoadResult:
    """POST `body` (GET when empty) to `url` over `connections` connections for `duration_s` seconds.

    One thread keeps wrk to one core; on a 2-core machine the second is left to the servers measured.
    """
    with tempfile.TemporaryDirectory(prefix="medvault-wrk-") as tmp:
        out = Path(tmp) / "result.json"
        env = {
            **os.environ,
            "BENCH_BODY": body.decode(),
            "BENCH_AUTH": auth,
            "BENCH_OUT": str(out),
            "BENCH_STAGGER_MS": str(stagger_ms),
            "BENCH_CONNECTIONS": str(connections),
        }
        command = [
            require_wrk(),
            "-t1",
            f"-c{connections}",
            f"-d{max(1, round(duration_s))}s",
            f"--timeout={timeout_s:g}s",
            "-s",
            str(SCRIPT),
            url,
        ]
        # The outer bound covers wrk's own duration, its timeout for the last requests, and start-up.
        completed = subprocess.run(
            command, env=env, capture_output=True, text=True, timeout=duration_s + timeout_s + 30
        )
        if completed.returncode != 0 or not out.is_file():
            raise RuntimeError(f"wrk failed ({completed.returncode}): {completed.stderr or completed.stdout}")
        data = json.loads(out.read_text())
    return LoadResult(
        requests=data["requests"],
        duration_s=data["duration_us"] / 1e6,
        errors=sum(data["errors"].values()),
        p50_ms=data["p50_us"] / 1000,
        p90_ms=data["p90_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
        max_ms=data["max_us"] / 1000,
    )
