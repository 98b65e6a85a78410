"""Where one gateway worker spends its CPU on one kind of request: the one way to profile the gateway.

    .venv/bin/python bench/gateway_profile.py [--mode stream|plain] [--connections 50] [--duration 5]
                                              [--py-spy]

Starts the testbed of `gateway_overhead.py` (fake engine and one gateway), loads the gateway with wrk,
and prints CPU µs per request of both processes (from /proc) and where the gateway's time goes.

Two methods, for two questions:

- cProfile (default): both processes run under it (`_profiled.py`); prints each one's functions by self
  time with call counts and, for the gateway, MedVault's own functions by inclusive time (`--keep DIR`
  keeps the `.prof` files for pstats or snakeviz). Needs nothing extra, but slows Python code down by
  roughly half again, more than C code (httptools, orjson): the µs per request include the profiler's
  cost (compare them with each other, not with `gateway_overhead.py`), and the ranking leans to Python.
- `--py-spy`: samples the uninstrumented gateway from outside (`_profile.py`), so the shares are those
  of full speed; prints self time by function and by library, and MedVault's functions by inclusive
  share. No call counts. Needs py-spy (`.venv/bin/pip install py-spy`) and ptrace rights (root, or
  `kernel.yama.ptrace_scope=0`).
"""

from __future__ import annotations

import argparse
import io
import pstats
import shutil
import sys
import tempfile
import time
from pathlib import Path

from _load import require_wrk, run_wrk
from _procs import cpu_seconds
from _profile import Profile, py_spy, start, summarise
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


def _shares(rows: list[tuple[str, float]]) -> str:
    return "\n".join(f"{share:7.1%}  {name}" for name, share in rows)


def _print_cprofile(profiles: Path, top: int, keep: Path | None) -> None:
    gateway_prof, engine_prof = profiles / "gateway-1.prof", profiles / "engine.prof"
    if keep:
        keep.mkdir(parents=True, exist_ok=True)
        for prof in (gateway_prof, engine_prof):
            shutil.copy(prof, keep / prof.name)
    print("\n== gateway: self time ==\n" + _top(gateway_prof, "tottime", top))
    print(
        "\n== gateway: MedVault's functions, inclusive ==\n"
        + _top(gateway_prof, "cumtime", top, "src/medvault/")
    )
    print("\n== fake engine: self time ==\n" + _top(engine_prof, "tottime", top))


def _print_samples(profile: Profile) -> None:
    print(f"\n== gateway: self time ({profile.samples} samples) ==\n" + _shares(profile.self_time))
    print("\n== gateway: self time by library ==\n" + _shares(profile.by_area))
    print("\n== gateway: MedVault's functions, inclusive ==\n" + _shares(profile.ours))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--mode", choices=("stream", "plain"), default="stream")
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--engine-burst", action="store_true", help="the fake engine's --burst")
    parser.add_argument("--py-spy", action="store_true", help="sample the gateway at full speed with py-spy")
    parser.add_argument(
        "--keep", type=Path, help="cProfile: copy the .prof files here (for pstats or snakeviz)"
    )
    args = parser.parse_args(argv)
    require_wrk()
    if args.py_spy and args.keep:
        parser.error("--keep keeps cProfile's .prof files: there are none with --py-spy")
    if args.py_spy and py_spy() is None:
        parser.error("--py-spy: py-spy is missing (.venv/bin/pip install py-spy)")
    with tempfile.TemporaryDirectory(prefix="medvault-profile-") as tmp:
        workdir = Path(tmp)
        profiles = workdir / "profiles"
        profiles.mkdir()
        instrumented = None if args.py_spy else profiles
        with testbed(workdir, embedded=False, profile_dir=instrumented, burst=args.engine_burst) as bed:
            body = _body(FAKE_MODEL, stream=args.mode == "stream")
            url = f"{bed.gateway_url}/chat/completions"
            run_wrk(url, body, connections=args.connections, duration_s=1, auth=bed.auth)  # warm-up
            sampled = profiles / "gateway.txt"
            sampler = start(bed.gateway_pid, sampled, duration_s=args.duration + 1) if args.py_spy else None
            if sampler:
                time.sleep(0.5)  # let py-spy attach before the load starts
            gateway0, engine0 = cpu_seconds(bed.gateway_pid), cpu_seconds(bed.engine_pid)
            result = run_wrk(url, body, connections=args.connections, duration_s=args.duration, auth=bed.auth)
            gateway = cpu_seconds(bed.gateway_pid) - gateway0
            engine = cpu_seconds(bed.engine_pid) - engine0
            if sampler:
                _, errors = sampler.communicate(timeout=args.duration + 30)
                if sampler.returncode != 0 or not sampled.is_file():
                    raise RuntimeError(f"py-spy failed: {errors.decode(errors='replace')}")
        method = "py-spy" if args.py_spy else "cProfile"
        print(f"{args.mode}, {args.connections} connections: {result.rps:.0f} req/s, {result.errors} errors")
        print(f"CPU per request under {method}: gateway {gateway / result.requests * 1e6:.0f} µs, "
              f"fake engine {engine / result.requests * 1e6:.0f} µs")  # fmt: skip
        if args.py_spy:
            _print_samples(summarise(sampled, top=args.top))
        else:
            _print_cprofile(profiles, args.top, args.keep)
    return 0


if __name__ == "__main__":
    sys.exit(main())
