"""Tokens/s of an engine MedVault runs isolated (a `command` replica), straight to it vs through the gateway.

Driven by `bench/gpu_engines.sh`, which starts `medvault up --host-netns` and always stops it; two steps:

    gpu_engines.py config OUT --model PATH [--gpus 0] [--read-only DIR] -- ENGINE ARGV...
    gpu_engines.py measure --config FILE --up-pid PID --up-log FILE --out DIR [--runs 6] [--max-tokens 256]

`config` writes a medvault.toml whose only model is the engine as a `command` replica (its argv gets
`--model {model} --host {host} --port {port}` appended unless it names `{port}` itself). `measure` waits
for the gateway's /readyz (showing progress: a big model loads for minutes), then streams the same
completion alternately straight to the engine, from a thread inside the dmz zone's namespace (the only
place its port answers), and through the gateway over HTTPS on the loopback bridge, and reports the
median ratio of gateway to direct tokens/s against the target of issue 9 (>= 0.98).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import httpx
from rich.table import Table

from gateway_overhead import PROMPT, TARGET_TOKENS_RATIO, TokenRates, _body, _tokens_per_s, console
from medvault.backends import Runtime
from medvault.config import Settings, load_settings
from medvault.isolation._sys import call_in
from medvault.supervisor import state_file
from medvault.tls import served_files

MODEL_ID = "bench-engine"
PROGRESS_EVERY_S = 10.0
# MedVault withholds engine lines off its allow-list (docs/deployment-gpu.md says how to see them).
LOGS_HINT = "the engine's log (logs/engine-*.log) is copied to the results folder"


# -- config -------------------------------------------------------------------------------------------


def _engine_argv(engine: list[str]) -> list[str]:
    """The engine's argv, absolute, with MedVault's placeholders appended unless it names `{port}`."""
    binary = shutil.which(engine[0])
    if binary is None:
        raise SystemExit(f"engine {engine[0]!r} not found (give its absolute path)")
    argv = [str(Path(binary).absolute()), *engine[1:]]
    if any("{port}" in arg for arg in argv):
        return argv
    # llama.cpp's llama-server and llama-cpp-python's server both take these three options.
    return [*argv, "--model", "{model}", "--host", "{host}", "--port", "{port}"]


def _toml(value: object) -> str:
    """A TOML value: JSON's strings (ASCII, escaped), numbers and arrays are TOML's too."""
    return json.dumps(value, ensure_ascii=True)


def render_config(
    engine: list[str], *, model: Path, gpus: list[int], read_only: list[Path], prefix: str, port: int,
    health_path: str | None, startup_timeout_s: float,
) -> str:  # fmt: skip
    """medvault.toml with the engine as the only model's `command` replica, isolated under `prefix`."""
    argv = _engine_argv(engine)
    binary = Path(argv[0])
    keys: dict[str, object] = {"kind": "command", "argv": argv, "model": str(model.absolute()), "gpus": gpus}
    if binary.name.startswith("python"):  # the sandbox shows its environment (and its base interpreter)
        keys["python"] = str(binary)
    else:  # a build's binary: its directory tree holds the shared libraries it was linked with
        root = binary.parent.parent if binary.parent.name == "bin" else binary.parent
        read_only = [*read_only, *([] if root.is_relative_to("/usr") else [root])]
    if read_only:
        keys["read_only"] = sorted({str(path.absolute()) for path in read_only})
    # llama-server's /v1/models answers while the weights still load; /health only once it serves.
    keys["health_path"] = health_path or (
        "/health" if binary.name.startswith("llama-server") else "/v1/models"
    )
    keys["startup_timeout_s"] = startup_timeout_s
    replica = "\n".join(f"  {key} = {_toml(value)}" for key, value in keys.items())
    return (
        f'[isolation]\nnetns_prefix = "{prefix}"\n\n[isolation.ingress]\nport = {port}\n\n'
        f'[[models]]\nid = "{MODEL_ID}"\n\n  [[models.replicas]]\n{replica}\n'
    )


# -- measure ------------------------------------------------------------------------------------------


def _tail(log: Path, lines: int = 30) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:]) if log.is_file() else ""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def wait_ready(settings: Settings, base: str, up_pid: int, up_log: Path, timeout_s: float) -> float:
    """Wait until the gateway's /readyz answers 200, printing progress; the seconds it took."""
    began = time.monotonic()
    shown = began
    while True:
        elapsed = time.monotonic() - began
        if not _alive(up_pid):
            raise SystemExit(
                f"`medvault up` exited while starting; its log ends:\n{_tail(up_log)}\n{LOGS_HINT}"
            )
        if elapsed > timeout_s:
            raise SystemExit(
                f"not ready after {timeout_s:.0f} s; `up` log ends:\n{_tail(up_log)}\n{LOGS_HINT}"
            )
        status, body = _readyz(settings, base)
        if status == 200:
            return elapsed
        if time.monotonic() - shown >= PROGRESS_EVERY_S:
            shown = time.monotonic()
            last = _tail(up_log, 1)[-150:] or "(no output yet)"
            state = body.get("held") or body.get("models") or f"gateway not up yet ({status or 'no answer'})"
            console.log(f"waiting {elapsed:4.0f} s: {state}; up: {last}", markup=False, highlight=False)
        time.sleep(1.0)


def _readyz(settings: Settings, base: str) -> tuple[int, dict[str, object]]:
    """The gateway's /readyz status and body; (0, {}) while nothing answers (no certificate yet, either)."""
    cert = served_files(settings)[0]
    if not cert.is_file():
        return 0, {}
    try:
        with httpx.Client(verify=str(cert), trust_env=False, timeout=5) as client:
            answer = client.get(f"{base}/readyz")
    except httpx.HTTPError:
        return 0, {}
    try:
        return answer.status_code, dict(answer.json())
    except ValueError:
        return answer.status_code, {}


@dataclass(frozen=True, slots=True)
class Side:
    """One way to the engine: a base URL up to /v1, the model name there, TLS trust and headers."""

    name: str
    url: str
    model: str
    verify: str | bool
    headers: dict[str, str]
    netns: str | None  # where the client's thread runs: the dmz zone for the engine, else ours

    def rate(self, max_tokens: int) -> float:
        """Stream one completion in a fresh client (as a new caller would): completion tokens per second."""
        body = _body(self.model, stream=True, cue=PROMPT, max_tokens=max_tokens)
        url = f"{self.url}/chat/completions"
        headers = {"content-type": "application/json", **self.headers}

        def stream() -> float:
            with httpx.Client(verify=self.verify, trust_env=False, timeout=600) as client:
                return _tokens_per_s(client, url, body, headers)

        return call_in(self.netns, stream)


def _engine_model(url: str, netns: str) -> str:
    """The first model the engine lists, which is what the gateway asks for too (no `upstream_model`)."""

    def first() -> str:
        with httpx.Client(trust_env=False, timeout=30) as client:
            return str(client.get(f"{url}/models").raise_for_status().json()["data"][0]["id"])

    return call_in(netns, first)


def _unreachable_from(netns: str | None, url: str) -> bool:
    """True when a TCP connection to the engine's port fails from `netns` (the isolation still holds)."""
    address = urlsplit(url)
    host, port = address.hostname or "", address.port or 80

    def connect() -> bool:
        try:
            socket.create_connection((host, port), timeout=2).close()
        except OSError:
            return True
        return False

    return call_in(netns, connect)


def _gpu_names() -> list[str]:
    tool = shutil.which("nvidia-smi")
    if tool is None:
        return []
    try:
        out = subprocess.run([tool, "-L"], capture_output=True, text=True, timeout=30, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return [line.strip() for line in out.splitlines() if line.strip()]


@dataclass(frozen=True, slots=True)
class Result:
    """What one run of the check found; written as JSON next to the logs."""

    when: str
    engine: list[str]
    model: str
    gpus: list[int]
    gpu_names: list[str]
    startup_s: float
    max_tokens: int
    direct: list[float]
    gateway: list[float]
    ratio: float
    target: float
    engine_blocked_from_host_role: bool


def measure(args: argparse.Namespace) -> Result:
    settings = load_settings(args.config)
    base = f"https://127.0.0.1:{settings.isolation.ingress.port}"
    console.log(f"waiting for MedVault at {base} (engine loading; up to {args.timeout:.0f} s)")
    startup_s = wait_ready(settings, base, args.up_pid, args.up_log, args.timeout)
    console.log(f"ready after {startup_s:.0f} s")
    replica = Runtime.read(state_file(settings).with_name("runtime.json")).models[0].replicas[0]
    host_netns = json.loads(state_file(settings).read_text())["host_netns"]
    dmz = settings.isolation.zone_netns("dmz")
    direct = Side("direct", replica.url, _engine_model(replica.url, dmz), False, {}, dmz)
    key = os.environ["MEDVAULT_ADMIN_KEY"]
    cert = str(served_files(settings)[0])
    gateway = Side("gateway", f"{base}/v1", MODEL_ID, cert, {"authorization": f"Bearer {key}"}, None)

    def rate(side: Side) -> float:
        # As in gateway_overhead._wait_ready: an engine busy with a direct stream may miss the gateway's
        # health probe, which then takes it out until the next one; a probe still in flight when the
        # stream ends may time out after it, hence a second look one probe interval later.
        for _ in range(2):
            _until(lambda: _readyz(settings, base)[0] == 200, 60)
            time.sleep(settings.limits.health_interval_s)
        return side.rate(args.max_tokens)

    for side in (direct, gateway):  # warm-up: CUDA graphs, caches, the gateway's first connection
        rate(side)
    rates: dict[str, list[float]] = {"direct": [], "gateway": []}
    for run in range(args.runs):
        # Which side goes first alternates (ABBA, as in gateway_overhead.py), so drift cancels.
        for side in (gateway, direct) if run % 2 == 0 else (direct, gateway):
            rates[side.name].append(rate(side))
            console.log(f"run {run + 1} of {args.runs}, {side.name}: {rates[side.name][-1]:.1f} tokens/s")
    token_rates = TokenRates(rates["direct"], rates["gateway"])
    engine = settings.models[0].replicas[0]
    return Result(
        when=datetime.now(UTC).isoformat(timespec="seconds"),
        engine=engine.argv,
        model=str(engine.model),
        gpus=engine.gpus,
        gpu_names=_gpu_names(),
        startup_s=round(startup_s, 1),
        max_tokens=args.max_tokens,
        direct=[round(rate, 2) for rate in token_rates.direct],
        gateway=[round(rate, 2) for rate in token_rates.gateway],
        ratio=round(token_rates.ratio, 4),
        target=TARGET_TOKENS_RATIO,
        engine_blocked_from_host_role=_unreachable_from(host_netns, replica.url),
    )


def _until(check: Callable[[], bool], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            raise SystemExit(f"the gateway did not report ready again within {timeout_s:.0f} s")
        time.sleep(0.2)


def table(result: Result) -> Table:
    gpus = ", ".join(result.gpu_names) or ("no GPU (CPU engine)" if not result.gpus else "nvidia-smi absent")
    engine = Path(result.engine[0]).name
    if result.engine[1:2] == ["-m"]:  # a Python server: name its module
        engine += f" -m {result.engine[2]}"
    out = Table(title=f"{engine} on {Path(result.model).name}: streamed tokens/s")
    out.add_column("item")
    out.add_column("value", overflow="fold")
    met = "met" if result.ratio >= result.target else "NOT MET"
    rows = [
        ("GPUs", gpus),
        ("engine start-up (until /readyz)", f"{result.startup_s:.0f} s"),
        ("max_tokens, temperature 0", str(result.max_tokens)),
        ("direct (from the dmz zone)", " ".join(f"{r:.1f}" for r in result.direct)),
        ("gateway (HTTPS, loopback bridge)", " ".join(f"{r:.1f}" for r in result.gateway)),
        ("median pair ratio gateway / direct", f"{result.ratio:.3f} (target >= {result.target}: {met})"),
        ("engine port blocked from the host role", "yes" if result.engine_blocked_from_host_role else "NO"),
    ]
    for row in rows:
        out.add_row(*row)
    return out


# -- command line ------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    steps = parser.add_subparsers(dest="step", required=True)
    config = steps.add_parser("config", help="write medvault.toml with the engine as a command replica")
    config.add_argument("out", type=Path)
    config.add_argument("--model", type=Path, required=True, help="GGUF file or model directory")
    config.add_argument("--gpus", default="", help="comma-separated GPU ids; empty: a CPU engine")
    config.add_argument("--read-only", type=Path, action="append", default=[], help="more paths to show")
    config.add_argument("--prefix", default="mvgpu", help="zone namespaces: PREFIX-dmz, PREFIX-vault")
    config.add_argument("--port", type=int, default=18443, help="the gateway's port on 127.0.0.1")
    config.add_argument("--health-path", default=None, help="default: /health (llama-server), /v1/models")
    config.add_argument("--startup-timeout", type=float, default=900.0, help="seconds the engine may load")
    config.add_argument("engine", nargs="+", help="the engine's argv (after --)")
    run = steps.add_parser("measure", help="wait for readiness, measure, write and print the results")
    run.add_argument("--config", type=Path, required=True)
    run.add_argument("--up-pid", type=int, required=True, help="the `medvault up` process")
    run.add_argument("--up-log", type=Path, required=True)
    run.add_argument("--out", type=Path, required=True, help="directory for results.json")
    run.add_argument("--runs", type=int, default=6, help="pairs of streams (direct and gateway)")
    run.add_argument("--max-tokens", type=int, default=256)
    run.add_argument("--timeout", type=float, default=1020.0, help="seconds to wait for /readyz")
    args = parser.parse_args(argv)
    if args.step == "config":
        gpus = [int(gpu) for gpu in args.gpus.split(",") if gpu.strip()]
        args.out.write_text(
            render_config(
                args.engine, model=args.model, gpus=gpus, read_only=args.read_only, prefix=args.prefix,
                port=args.port, health_path=args.health_path, startup_timeout_s=args.startup_timeout,
            )
        )  # fmt: skip
        return 0
    result = measure(args)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps(asdict(result), indent=2) + "\n")
    console.print(table(result))
    console.log(f"results written to {args.out / 'results.json'}")
    return 0 if result.ratio >= result.target and result.engine_blocked_from_host_role else 1


if __name__ == "__main__":
    sys.exit(main())
