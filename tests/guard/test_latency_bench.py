"""bench/guard_latency.py times an earlier guard from git and the working tree side by side."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_side_by_side_run_prints_both_medians_and_their_ratio() -> None:
    """One alternation over one batch: a line per round and a pooled line, each with a ratio."""
    out = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "guard_latency.py"),
            "--baseline",
            "HEAD",
            "--rounds",
            "1",
            "--reps",
            "1",
            str(ROOT / "bench" / "guard_corpus" / "pairs" / "batch01.toml"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    number = r"\d+\.\d+"
    medians = rf"baseline p50 {number} ms, candidate p50 {number} ms, ratio {number}"
    assert re.search(rf"^round 1: {medians}$", out, re.M), out
    pooled = re.search(rf"^pooled \(n=(\d+) each\): .* ratio ({number})$", out, re.M)
    assert pooled, out
    assert int(pooled.group(1)) > 0
    assert float(pooled.group(2)) > 0
