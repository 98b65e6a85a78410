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
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
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
    return _ticks(pid, children=False) / os.sysconf("SC_CLK_TCK")


def _ticks(pid: int, children: bool) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    # utime, stime (fields 14, 15 of proc(5)); with `children`, also cutime, cstime of reaped children
    return sum(int(value) for value in fields[11 : 15 if children else 13])


@dataclass(frozen=True, slots=True)
class CpuSnapshot:
    """The machine's CPU ticks (all cores) and those of the processes measured, at one moment."""

    total: int
    idle: int
    ours: int


def cpu_snapshot(pids: Iterable[int]) -> CpuSnapshot:
    """Ticks from /proc/stat and of `pids` plus this process and its reaped children (wrk)."""
    values = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    ours = _ticks(os.getpid(), children=True) + sum(_ticks(pid, children=False) for pid in pids)
    return CpuSnapshot(total=sum(values), idle=values[3] + values[4], ours=ours)


def cpu_shares(before: CpuSnapshot, after: CpuSnapshot) -> tuple[float, float]:
    """Between two snapshots: the share of all cores left idle, and the share other work took.

    "Other work" is whatever ran besides the measured processes and this one's children: other
    sessions' jobs on a shared machine, and the kernel's interrupt work (a few % for loopback TCP).
    An idle share with no other work says that the measured processes waited on something.
    """
    total = max(1, after.total - before.total)
    idle = after.idle - before.idle
    other = total - idle - (after.ours - before.ours)
    return idle / total, max(0.0, other / total)
