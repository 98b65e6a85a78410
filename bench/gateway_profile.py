"""Where one gateway worker and the fake engine spend their CPU on one kind of request, with cProfile.

    .venv/bin/python bench/gateway_profile.py [--mode stream|plain] [--connections 50] [--duration 5]

Starts the testbed of `gateway_overhead.py` (fake engine and one gateway, each under cProfile), loads the
gateway with wrk, and prints CPU µs per request of both processes (from /proc, so the profiler's own
cost is in them: compare them with each other, not with `gateway_overhead.py`), then each process's
functions by self time and, for the gateway, MedVault's own functions by inclusive time. cProfile
instead of py-spy, which needs ptrace rights and an extra package; it slows Python code down by roughly
half again but ranks where the time goes the same way.
"""

from __future__ import annotations

import argparse
import io
import pstats
import shutil
import sys
import tempfile
from pathlib import Path

from _load import require_wrk, run_wrk
from _procs import cpu_seconds
from _testbed import FAKE_MODEL, testbed
from gateway_overhead import _body


def _top(path: Path, sort: str, top: int, restrict: str = "") -> str:
    out = io.StringIO()
    stats = pstats.Stats(str(path), stream=out)
    # Restricted to a path (our package), the full file names are needed to match it.
    (stats if restrict else stats.strip_dirs()).sort_stats(sort).print_stats(
        *([restrict] if restrict else []), top
    )
    lines = out.getvalue().splitlines()
    start = next((i for i, line in enumerate(lines) if line.lstrip().startswith("ncalls")), 0)
    return "\n".join(lines[start:])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--mode", choices=("stream", "plain"), default="stream")
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--engine-burst", action="store_true", help="the fake engine's --burst")
    parser.add_argument("--keep", type=Path, help="copy the .prof files here (for pstats or snakeviz)")
    args = parser.parse_args(argv)
    require_wrk()
    with tempfile.TemporaryDirectory(prefix="medvault-profile-") as tmp:
        workdir = Path(tmp)
        profiles = workdir / "profiles"
        profiles.mkdir()
        with testbed(workdir, embedded=False, profile_dir=profiles, burst=args.engine_burst) as bed:
            body = _body(FAKE_MODEL, stream=args.mode == "stream")
            url = f"{bed.gateway_url}/chat/completions"
            run_wrk(url, body, connections=args.connections, duration_s=1, auth=bed.auth)  # warm-up
            gateway0, engine0 = cpu_seconds(bed.gateway_pid), cpu_seconds(bed.engine_pid)
            result = run_wrk(url, body, connections=args.connections, duration_s=args.duration, auth=bed.auth)
            gateway = cpu_seconds(bed.gateway_pid) - gateway0
            engine = cpu_seconds(bed.engine_pid) - engine0
        print(f"{args.mode}, {args.connections} connections: {result.rps:.0f} req/s, {result.errors} errors")
        print(f"CPU per request under cProfile: gateway {gateway / result.requests * 1e6:.0f} µs, "
              f"fake engine {engine / result.requests * 1e6:.0f} µs")  # fmt: skip
        gateway_prof, engine_prof = profiles / "gateway-1.prof", profiles / "engine.prof"
        if args.keep:
            args.keep.mkdir(parents=True, exist_ok=True)
            for prof in (gateway_prof, engine_prof):
                shutil.copy(prof, args.keep / prof.name)
        print("\n== gateway: self time ==\n" + _top(gateway_prof, "tottime", args.top))
        print(
            "\n== gateway: MedVault's functions, inclusive ==\n"
            + _top(gateway_prof, "cumtime", args.top, "src/medvault/")
        )
        print("\n== fake engine: self time ==\n" + _top(engine_prof, "tottime", args.top))
    return 0


if __name__ == "__main__":
    sys.exit(main())
