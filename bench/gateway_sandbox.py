"""What the workload sandbox costs the gateway: the same gateway plain and sandboxed, one run (as root).

    sudo .venv/bin/python bench/gateway_sandbox.py [--duration 2] [--rounds 4] [--json results.json]

Starts two test beds on loopback (bench/_testbed.py), each a fast fake engine and a gateway over it: one
gateway as a plain process, one in the sandbox `medvault up` gives it (bubblewrap, the seccomp filter,
setpriv to an unprivileged uid without capabilities: bench/_sandbox.py), both in the root network
namespace. Then, in rounds whose order alternates (plain first, then sandboxed first), it measures each
side as `gateway_overhead.py` does, direct to its engine and through its gateway back to back, plain and
streamed, at 1 connection (what a request's latency gains) and 50 (throughput); and the gateway's CPU
time per request, the steadiest figure on a shared machine. Reported per side: medians over the rounds,
and sandboxed against plain. About 2.5 minutes on 2 cores with the defaults.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from rich.console import Console
from rich.table import Table

from _load import require_wrk
from _sandbox import confinement
from _testbed import FAKE_MODEL, Testbed, testbed
from gateway_overhead import Pair, _body, _pair

SIDES = ("plain", "sandboxed")
#: (mode, connections): latency at one connection, throughput at fifty; plain and streamed answers.
CELLS = (("plain", 1), ("plain", 50), ("stream", 1), ("stream", 50))

console = Console(width=160)  # wide enough for the tables when the output is piped to a file


def measure(beds: dict[str, Testbed], rounds: int, duration_s: float) -> dict[str, list[Pair]]:
    """Every cell on both sides, `rounds` times; the side that goes first alternates (ABBA), so drift
    of the shared machine within a round falls on both alike."""
    pairs: dict[str, list[Pair]] = {side: [] for side in SIDES}
    for round_ in range(rounds):
        order = SIDES if round_ % 2 == 0 else SIDES[::-1]
        for side in order:
            for mode, connections in CELLS:
                console.log(f"round {round_ + 1} of {rounds}: {side} gateway, {mode}, {connections} conn(s)")
                body = _body(FAKE_MODEL, stream=mode == "stream")
                pairs[side].append(_pair(beds[side], body, mode, connections, duration_s))
    return pairs


def _median(pairs: list[Pair], mode: str, connections: int, value: Callable[[Pair], float]) -> float:
    return statistics.median(value(p) for p in pairs if (p.mode, p.connections) == (mode, connections))


#: What the tables show per cell: name, value of one Pair, and how the sandboxed side is compared.
FIGURES: tuple[tuple[str, Callable[[Pair], float], str], ...] = (
    ("direct req/s", lambda p: p.direct.rps, "ratio"),
    ("gateway req/s", lambda p: p.gateway.rps, "ratio"),
    ("p50 added ms", lambda p: p.gateway.p50_ms - p.direct.p50_ms, "difference"),
    ("p99 added ms", lambda p: p.gateway.p99_ms - p.direct.p99_ms, "difference"),
    ("gateway CPU µs/req", lambda p: p.gateway_cpu_us, "ratio"),
)


@dataclass(frozen=True, slots=True)
class Row:
    """One figure of one cell: the median of each side over the rounds, and sandboxed vs plain."""

    mode: str
    connections: int
    figure: str
    plain: float
    sandboxed: float
    compare: str  # "ratio" (sandboxed / plain) or "difference" (sandboxed - plain)

    @property
    def versus(self) -> float:
        if self.compare == "ratio":
            return self.sandboxed / self.plain if self.plain else 0.0
        return self.sandboxed - self.plain


def summary(pairs: dict[str, list[Pair]]) -> list[Row]:
    """Per cell and figure: the median of each side over the rounds."""
    rows = []
    for mode, connections in CELLS:
        for name, value, compare in FIGURES:
            plain, boxed = (_median(pairs[side], mode, connections, value) for side in SIDES)
            rows.append(Row(mode, connections, name, plain, boxed, compare))
    return rows


def summary_table(rows: list[Row], rounds: int) -> Table:
    table = Table(
        title=f"Gateway plain vs in the workload sandbox (medians of {rounds} rounds, ABBA)",
        caption="Both engines run outside any sandbox: their `direct` ratio is the machine's noise.",
    )
    for column in ("mode", "conns", "figure", "plain", "sandboxed", "sandboxed vs plain"):
        table.add_column(column, justify="left" if column == "figure" else "right")
    for row in rows:
        shown = f"× {row.versus:.3f}" if row.compare == "ratio" else f"{row.versus:+.3f} ms"
        digits = 3 if row.compare == "difference" else 0
        table.add_row(
            row.mode, str(row.connections), row.figure, f"{row.plain:.{digits}f}",
            f"{row.sandboxed:.{digits}f}", shown,
        )  # fmt: skip
    return table


def rounds_table(pairs: dict[str, list[Pair]]) -> Table:
    """Every single measurement, to see the spread the medians hide."""
    table = Table(title="Each run: gateway req/s, p50/p99 added ms, CPU µs/req")
    for column in ("side", "mode", "conns", "req/s", "p50 added", "p99 added", "CPU µs/req", "errors"):
        table.add_column(column, justify="right")
    for side in SIDES:
        for p in pairs[side]:
            table.add_row(
                side, p.mode, str(p.connections), f"{p.gateway.rps:.0f}",
                f"{p.gateway.p50_ms - p.direct.p50_ms:.3f}", f"{p.gateway.p99_ms - p.direct.p99_ms:.3f}",
                f"{p.gateway_cpu_us:.0f}", f"{p.direct.errors}/{p.gateway.errors}",
            )  # fmt: skip
    return table


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--duration", type=float, default=2.0, help="seconds per wrk run")
    parser.add_argument("--rounds", type=int, default=4, help="rounds (even: as many of each order)")
    parser.add_argument("--json", type=Path, help="also write every number to this file")
    parser.add_argument("--workdir", type=Path, help="keep data and logs here (default: temporary)")
    args = parser.parse_args(argv)
    require_wrk()
    if os.geteuid() != 0:
        raise SystemExit("the sandbox needs root (bubblewrap's namespaces, setpriv): run as root")
    # SIGTERM (say, from `timeout`) unwinds like Ctrl-C, so every started process is stopped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    started = time.monotonic()
    with contextlib.ExitStack() as stack:
        workdir = args.workdir or Path(
            # Not below /tmp: the sandbox mounts a private /tmp, in which bwrap creates the directories
            # leading to a bind mode 0700, so the gateway's user could not reach its data directory.
            stack.enter_context(tempfile.TemporaryDirectory(prefix="medvault-bench-", dir="/var/tmp"))
        )
        workdir.mkdir(parents=True, exist_ok=True)
        workdir.chmod(0o755)  # the sandboxed gateway's user must reach its data directory below
        beds = {
            side: stack.enter_context(testbed(workdir / side, embedded=False, sandboxed=side == "sandboxed"))
            for side in SIDES
        }
        confined = confinement(beds["sandboxed"].gateway_pid)
        console.log(f"sandboxed gateway (pid {beds['sandboxed'].gateway_pid}): {confined}")
        if confined["seccomp"] != "2" or confined["own_pid_namespace"] != "True":
            raise SystemExit(f"the sandboxed gateway is not confined: {confined}")
        pairs = measure(beds, args.rounds, args.duration)
    rows = summary(pairs)
    console.print(rounds_table(pairs))
    console.print(summary_table(rows, args.rounds))
    console.print(f"whole run: {time.monotonic() - started:.0f} s")
    if args.json:
        results = {
            "confinement": confined,
            "summary": [asdict(row) | {"sandboxed_vs_plain": row.versus} for row in rows],
            "pairs": {side: [asdict(p) for p in side_pairs] for side, side_pairs in pairs.items()},
        }
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
