"""Child processes for the benchmarks: start on a free loopback port, wait until ready, always stop."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
# Never through a proxy: every benchmark request goes to loopback.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def free_port() -> int:
    """A loopback TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _answers(url: str) -> bool:
    try:
        with _OPENER.open(url, timeout=2) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


@contextlib.contextmanager
def started(
    name: str,
    command: Sequence[str],
    ready_url: str,
    log_dir: Path,
    *,
    env: dict[str, str] | None = None,
    ready_timeout_s: float = 60.0,
) -> Iterator[subprocess.Popen[bytes]]:
    """Run `command` (cwd = repository root) until the block ends; ready once `ready_url` answers 200.

    Output goes to `log_dir/<name>.log`, as it would go to the journal in production: a log line per
    request is part of what the gateway costs.
    """
    log_path = log_dir / f"{name}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            list(command), cwd=REPO, env={**os.environ, **(env or {})}, stdout=log, stderr=subprocess.STDOUT
        )
        try:
            deadline = time.monotonic() + ready_timeout_s
            while not _answers(ready_url):
                if process.poll() is not None:
                    raise RuntimeError(f"{name} exited with {process.returncode}; see {log_path}")
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{name} not ready after {ready_timeout_s:.0f} s; see {log_path}")
                time.sleep(0.1)
            yield process
        finally:
            _stop(process)


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def python(*args: str) -> list[str]:
    """A command line running this interpreter (the project's virtual environment)."""
    return [sys.executable, *args]


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of process `pid`, all threads, from /proc (Linux).

    Unlike throughput, CPU per request hardly moves when other work shares the cores, so it is the
    figure to compare changes by on a busy machine.
    """
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    ticks = int(fields[11]) + int(fields[12])  # utime, stime: fields 14 and 15 of proc(5)
    return ticks / os.sysconf("SC_CLK_TCK")
