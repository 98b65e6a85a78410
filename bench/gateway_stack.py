"""Which server, HTTP client and JSON library the gateway should be built on: the same proxy path on each.

    .venv/bin/python bench/gateway_stack.py [--duration 3] [--json results.json]

Runs `bench/_stack_proxy.py` (the gateway's proxy path without auth, audit or metrics) in front of the
fake engine under uvicorn (httptools, uvloop) and granian (one worker, uvloop), with aiohttp or httpx as
upstream client and orjson or the standard library's json, and loads each with wrk: one connection
(latency) and 50 connections (throughput), plain and streamed. The fake engine alone is the baseline.
About a minute and a half on 2 cores.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import orjson
from rich.console import Console
from rich.table import Table

from _load import LoadResult, require_wrk, run_wrk
from _procs import free_port, python, started

console = Console(width=160)  # wide enough for the table when the output is piped to a file

#: (server, client, json) combinations; the last isolates the JSON library on the default stack.
STACKS = (
    ("uvicorn", "aiohttp", "orjson"),
    ("uvicorn", "httpx", "orjson"),
    ("granian", "aiohttp", "orjson"),
    ("granian", "httpx", "orjson"),
    ("uvicorn", "aiohttp", "json"),
)
#: (label, streamed, connections)
LOADS = (("plain c=1", False, 1), ("plain c=50", False, 50), ("stream c=50", True, 50))


@dataclass(frozen=True, slots=True)
class StackResult:
    stack: str
    results: dict[str, LoadResult]


def _server_command(server: str, port: int) -> list[str]:
    if server == "uvicorn":
        return python(
            "-m", "uvicorn", "_stack_proxy:app", "--app-dir", "bench", "--host", "127.0.0.1",
            "--port", str(port), "--loop", "uvloop", "--http", "httptools", "--no-access-log",
            "--log-level", "warning",
        )  # fmt: skip
    return [
        str(Path(sys.executable).with_name("granian")), "--interface", "asgi", "--host", "127.0.0.1",
        "--port", str(port), "--workers", "1", "--loop", "uvloop", "--http", "1", "--no-ws",
        "--no-access-log", "--log-level", "warning", "--working-dir", "bench", "_stack_proxy:app",
    ]  # fmt: skip


def _body(stream: bool) -> bytes:
    messages = [{"role": "user", "content": "Befund: Lunge frei?"}]
    return orjson.dumps({"model": "m", "messages": messages, "max_tokens": 64, "stream": stream})


def _load_all(url: str, duration_s: float) -> dict[str, LoadResult]:
    return {
        label: run_wrk(url, _body(stream), connections=connections, duration_s=duration_s)
        for label, stream, connections in LOADS
    }


def measure(workdir: Path, duration_s: float) -> list[StackResult]:
    """The fake engine direct, then each stack in front of it, one at a time."""
    engine_port = free_port()
    engine_url = f"http://127.0.0.1:{engine_port}/v1"
    results = []
    with started(
        "engine",
        python("-m", "tests.fakes.engine", "--port", str(engine_port), "--chunks", "16"),
        f"{engine_url}/models",
        workdir,
    ):
        console.log("fake engine direct")
        results.append(
            StackResult("fake engine direct", _load_all(f"{engine_url}/chat/completions", duration_s))
        )
        for server, client, json_lib in STACKS:
            name = f"{server} + {client} + {json_lib}"
            console.log(name)
            port = free_port()
            env = {"BENCH_UPSTREAM": engine_url, "BENCH_CLIENT": client, "BENCH_JSON": json_lib}
            with started(
                name.replace(" + ", "-"),
                _server_command(server, port),
                f"http://127.0.0.1:{port}/healthz",
                workdir,
                env=env,
            ):
                results.append(
                    StackResult(name, _load_all(f"http://127.0.0.1:{port}/v1/chat/completions", duration_s))
                )
    return results


def table(results: list[StackResult]) -> Table:
    out = Table(title="Proxy path by stack, in front of the fake engine (16 chunks)")
    out.add_column("stack", no_wrap=True)
    for label, _, _ in LOADS:
        out.add_column(f"{label} req/s", justify="right")
        out.add_column(f"{label} p50 ms", justify="right")
        out.add_column(f"{label} p99 ms", justify="right")
    out.add_column("errors", justify="right")
    for result in results:
        cells = []
        for label, _, _ in LOADS:
            r = result.results[label]
            cells += [f"{r.rps:.0f}", f"{r.p50_ms:.2f}", f"{r.p99_ms:.1f}"]
        errors = sum(r.errors for r in result.results.values())
        out.add_row(result.stack, *cells, str(errors))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--duration", type=float, default=3.0, help="seconds per wrk run")
    parser.add_argument("--json", type=Path, help="also write every number to this file")
    args = parser.parse_args(argv)
    require_wrk()
    started_at = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="medvault-stack-") as tmp:
        results = measure(Path(tmp), args.duration)
    console.print(table(results))
    console.print(f"whole run: {time.monotonic() - started_at:.0f} s")
    if args.json:
        args.json.write_text(json.dumps([asdict(r) for r in results], indent=2))
    return 0


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(main())
