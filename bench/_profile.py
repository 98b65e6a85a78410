"""Sampling profile of a running gateway with py-spy, summarised as the functions that cost the most.

py-spy attaches from outside (ptrace, so root or a permissive `kernel.yama.ptrace_scope`) and samples
without instrumenting the process, so the profile shows where CPU time goes at full speed.
"""

from __future__ import annotations

import collections
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

# A py-spy raw frame: "function (path/to/file.py:123)"; the line is dropped to group by function.
_FRAME = re.compile(r"^(?P<func>.*) \((?P<file>[^()]*?)(?::\d+)?\)$")
# Up to the package: also `src/` of an editable install, where `medvault/` lives beside the venv.
_SITE = re.compile(r".*/(?:site-packages|lib/python3\.\d+|src(?=/medvault/))/")


@dataclass(frozen=True, slots=True)
class Profile:
    """Shares of the CPU samples: by function (self time), by library, and under our own functions."""

    samples: int
    self_time: list[tuple[str, float]]  # (function, share of samples), largest first
    by_area: list[tuple[str, float]]  # (library or package, share of self time)
    ours: list[tuple[str, float]]  # (medvault function, share of samples under it), largest first


#: Self time is summed per area: the first prefix of the frame's file that matches names it.
_AREAS = (
    ("medvault/store", "medvault.store (audit commit)"),
    ("medvault/", "medvault (gateway, backends)"),
    ("uvicorn", "uvicorn + httptools"),
    ("starlette", "starlette"),
    ("fastapi", "fastapi"),
    ("anyio", "anyio"),
    ("aiohttp", "aiohttp (upstream client)"),
    ("structlog", "structlog (log line)"),
    ("prometheus_client", "prometheus_client"),
    ("sqlalchemy", "sqlalchemy"),
    ("sqlite3", "sqlite3"),
    ("pydantic", "pydantic"),
    ("asyncio", "asyncio"),
    ("threading", "threading / queue"),
    ("queue", "threading / queue"),
)
# Frames that run the whole program, not a request: left out of the inclusive ranking of our code.
_OUTER = ("medvault/__main__.py", "medvault/cli/")


def py_spy() -> str | None:
    """The py-spy binary next to this interpreter or on PATH, if installed."""
    beside = Path(sys.executable).with_name("py-spy")
    return str(beside) if beside.is_file() else shutil.which("py-spy")


def start(pid: int, out: Path, duration_s: float, rate: int = 250) -> subprocess.Popen[bytes]:
    """Begin sampling `pid` for `duration_s` seconds into `out` (collapsed stacks)."""
    binary = py_spy()
    if binary is None:
        raise RuntimeError("py-spy is missing: .venv/bin/pip install py-spy")
    command = [
        binary, "record", "--pid", str(pid), "--rate", str(rate), "--duration", str(round(duration_s)),
        "--format", "raw", "--nonblocking", "--output", str(out),
    ]  # fmt: skip
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _split(frame: str) -> tuple[str, str]:
    """(function, file relative to site-packages or the standard library) of a py-spy frame."""
    match = _FRAME.match(frame.strip())
    if not match:
        return frame.strip(), ""
    return match["func"], _SITE.sub("", match["file"])


def _area(file: str) -> str:
    return next((name for prefix, name in _AREAS if file.startswith(prefix)), "other")


def summarise(collapsed: Path, top: int = 15) -> Profile:
    """Read py-spy's collapsed stacks ("frame;frame;… count" per line) into the top costs."""
    own: collections.Counter[str] = collections.Counter()
    areas: collections.Counter[str] = collections.Counter()
    ours: collections.Counter[str] = collections.Counter()
    samples = 0
    for line in collapsed.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [_split(f) for f in stack.split(";") if f]
        samples += count
        func, file = frames[-1]
        own[f"{func} ({file})"] += count
        areas[_area(file)] += count
        for name in {
            f"{f} ({p})" for f, p in frames if p.startswith("medvault/") and not p.startswith(_OUTER)
        }:
            ours[name] += count
    share = float(samples or 1)
    return Profile(
        samples=samples,
        self_time=[(name, n / share) for name, n in own.most_common(top)],
        by_area=[(name, n / share) for name, n in areas.most_common()],
        ours=[(name, n / share) for name, n in ours.most_common(top)],
    )
