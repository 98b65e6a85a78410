"""A/B of two versions of the gateway on a busy machine: both run at once, loaded in alternation.

    .venv/bin/python bench/gateway_ab.py --base-src DIR [--mode stream] [--connections 1,50]
                                         [--rounds 6] [--duration 3] [--engine-burst]

`DIR` is the `src` folder of the code to compare with (say, `git archive HEAD src | tar -x -C /tmp/base`).
Starts two testbeds of `gateway_overhead.py` (one worker each, each with its own fake engine): A runs the
gateway from `DIR`, B from this tree. Each round loads A then B, or B then A (ABBA), for `--duration`
seconds per cell, so that load from other work on the machine falls on both alike; the medians over the
rounds are compared. Gateway CPU µs per request is the figure to go by: it moves far less with other
work on the cores than req/s does.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import sys
import tempfile
from pathlib import Path

from rich.console import Console
from rich.table import Table

from _load import require_wrk
from _testbed import FAKE_MODEL, testbed
from gateway_overhead import Pair, _body, _pair

console = Console(width=160)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--base-src", type=Path, required=True, help="the src folder of version A")
    parser.add_argument("--mode", choices=("stream", "plain"), default="stream")
    parser.add_argument("--connections", default="1,50")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--duration", type=float, default=3.0)
    parser.add_argument("--engine-burst", action="store_true", help="the fake engine's --burst, both sides")
    args = parser.parse_args(argv)
    require_wrk()
    if not (args.base_src / "medvault").is_dir():
        raise SystemExit(f"{args.base_src} holds no medvault package")
    connections = [int(n) for n in args.connections.split(",")]
    body = _body(FAKE_MODEL, stream=args.mode == "stream")
    found: dict[tuple[str, int], list[Pair]] = {(side, c): [] for side in "AB" for c in connections}
    with tempfile.TemporaryDirectory(prefix="medvault-ab-") as tmp, contextlib.ExitStack() as stack:
        beds = {
            side: stack.enter_context(
                testbed(Path(tmp) / side, embedded=False, burst=args.engine_burst, gateway_env=env)
            )
            for side, env in (("A", {"PYTHONPATH": str(args.base_src.resolve())}), ("B", {}))
        }
        for round_ in range(args.rounds):
            order = "AB" if round_ % 2 == 0 else "BA"
            for c in connections:
                for side in order:
                    pair = _pair(beds[side], body, args.mode, c, args.duration)
                    found[(side, c)].append(pair)
                    console.log(
                        f"round {round_ + 1} {side} {c} conn: {pair.gateway.rps:.0f} req/s, "
                        f"gateway {pair.gateway_cpu_us:.0f} µs/req, engine {pair.engine_cpu_us:.0f} µs/req"
                    )
    table = Table(
        title=f"{args.mode}: medians over {args.rounds} rounds (A = {args.base_src}, B = this tree)"
    )
    for column in (
        "side",
        "conns",
        "gateway req/s",
        "p50 gateway ms",
        "gateway CPU µs/req",
        "engine CPU µs/req",
    ):
        table.add_column(column, justify="right")
    table.add_column("errors", justify="right")
    for (side, c), pairs in found.items():
        table.add_row(
            side, str(c),
            f"{statistics.median(p.gateway.rps for p in pairs):.0f}",
            f"{statistics.median(p.gateway.p50_ms for p in pairs):.2f}",
            f"{statistics.median(p.gateway_cpu_us for p in pairs):.0f}",
            f"{statistics.median(p.engine_cpu_us for p in pairs):.0f}",
            str(sum(p.gateway.errors for p in pairs)),
        )  # fmt: skip
    console.print(table)
    for c in connections:
        a = statistics.median(p.gateway_cpu_us for p in found[("A", c)])
        b = statistics.median(p.gateway_cpu_us for p in found[("B", c)])
        console.print(f"{c} connection(s): gateway CPU per request B/A = {b:.0f}/{a:.0f} = {b / a:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
