"""The processes the gateway benchmark measures: the fake engine, the embedded model's llama.cpp server
and the gateway itself, each a real process on its own loopback port, as `medvault up` would run them.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
from sqlalchemy.engine import make_url

from _procs import free_port, python, started
from _sandbox import gateway_sandbox, workload_pid
from medvault.backends import OFFLINE_ENV, llama_server_argv, resolve_runtime
from medvault.config import bundled_model_path, load_settings
from medvault.store import Store, sqlite_files

FAKE_MODEL = "fake-model"
PROFILED = Path(__file__).with_name("_profiled.py")
EMBEDDED_MODEL = "smollm2"


@dataclass(frozen=True, slots=True)
class Testbed:
    """Where to reach what the benchmark started."""

    engine_url: str  # the fake engine's base URL, up to /v1
    model_url: str | None  # the embedded model's llama.cpp server, up to /v1; None when not started
    gateway_url: str  # the gateway's base URL, up to /v1
    auth: str  # the Authorization header value for the gateway
    gateway_pid: int  # the (first) gateway's Python process (inside the sandbox when sandboxed)
    log_dir: Path
    gateway_pids: tuple[int, ...] = ()  # every gateway worker's process, the first included
    engine_pid: int = 0  # the fake engine's process


def _config(engine_port: int, model_port: int | None) -> str:
    models = [(FAKE_MODEL, engine_port)] + ([(EMBEDDED_MODEL, model_port)] if model_port else [])
    # Both engines are declared as `openai` replicas: the benchmark starts llama.cpp itself, with the
    # command line the supervisor would use, so the gateway sees exactly the engines measured directly.
    return "".join(
        f'[[models]]\nid = "{model}"\n[[models.replicas]]\nkind = "openai"\nurl = "http://127.0.0.1:{port}/v1"\n'
        for model, port in models
    )


@contextlib.contextmanager
def testbed(
    workdir: Path,
    *,
    chunks: int = 16,
    embedded: bool = True,
    sandboxed: bool = False,
    workers: int = 1,
    profile_dir: Path | None = None,
    burst: bool = False,
    lean: bool = False,
    gateway_env: dict[str, str] | None = None,
) -> Iterator[Testbed]:
    """Start the fake engine, optionally the embedded model, and a gateway over both; stop all after.

    `sandboxed` (root only) runs the gateway in the workload sandbox `medvault up` gives it (see
    _sandbox), on this loopback; `workdir` must then be traversable for others. `workers` > 1 starts
    that many gateway processes on the one port, as `gateway.workers` does. With `profile_dir`, the
    fake engine and each gateway run under cProfile and leave `engine.prof`, `gateway-N.prof` there.
    `burst` has the fake engine write a stream's events in one write (its `--burst`), `lean` serve them
    from its bare asyncio server (its `--lean`: usual answers only, no cues); `gateway_env` is
    added to the gateways' environment (say, a PYTHONPATH with other code to compare against).
    """
    engine_port, gateway_port = free_port(), free_port()
    model_port = free_port() if embedded else None
    data_dir = workdir / "data"
    run = data_dir / "run"  # config and runtime where the supervisor puts them: the sandbox shows them
    run.mkdir(parents=True, exist_ok=True)
    config = run / "medvault.toml"
    config.write_text(_config(engine_port, model_port))
    settings = load_settings(config, data_dir=data_dir)
    store = Store.open(settings.resolved_database_url)
    try:
        store.migrate()
        _, key = store.create_key("bench", "admin")
    finally:
        store.close()
    runtime = run / "runtime.json"
    resolve_runtime(settings, {}).write(runtime)
    database = Path(str(make_url(settings.resolved_database_url).database))
    prefix = gateway_sandbox(data_dir, sqlite_files(database), [config, runtime]) if sandboxed else []

    def module(name: str) -> list[str]:
        """The arguments before a module's name that run it: `-m`, or under cProfile into `name`.prof."""
        return ["-m"] if profile_dir is None else [str(PROFILED), str(profile_dir / f"{name}.prof")]

    with contextlib.ExitStack() as stack:
        engine = stack.enter_context(
            started(
                "engine",
                python(
                    *module("engine"),
                    "tests.fakes.engine",
                    "--port",
                    str(engine_port),
                    "--chunks",
                    str(chunks),
                    *(["--burst"] if burst else []),
                    *(["--lean"] if lean else []),
                ),
                f"http://127.0.0.1:{engine_port}/v1/models",
                workdir,
            )
        )
        if model_port:
            argv = llama_server_argv(
                gguf=bundled_model_path(),
                alias=EMBEDDED_MODEL,
                host="127.0.0.1",
                port=model_port,
                n_ctx=2048,
                threads=None,
            )
            stack.enter_context(
                started("llama", argv, f"http://127.0.0.1:{model_port}/v1/models", workdir, env=OFFLINE_ENV)
            )
        serve = [
            "medvault", "serve", "--runtime", str(runtime), "--config", str(config),
            "--host", "127.0.0.1", "--port", str(gateway_port),
        ]  # fmt: skip
        metrics = data_dir / "metrics"
        metrics.mkdir(exist_ok=True)
        gateways = []
        for worker in range(1, workers + 1):
            extra = ["--worker", str(worker), "--metrics-dir", str(metrics)] if workers > 1 else []
            gateways.append(
                stack.enter_context(
                    started(
                        f"gateway-{worker}" if workers > 1 else "gateway",
                        [*prefix, *python(*module(f"gateway-{worker}"), *serve, *extra)],
                        # ready once every engine passed a health check
                        f"http://127.0.0.1:{gateway_port}/readyz",
                        workdir,
                        env={"MEDVAULT_DATA_DIR": str(data_dir), **(gateway_env or {})},
                    )
                )
            )
        if workers > 1:
            _wait_for_workers(f"http://127.0.0.1:{gateway_port}/healthz", workers)
        pids = tuple(workload_pid(g.pid) if sandboxed else g.pid for g in gateways)
        yield Testbed(
            engine_url=f"http://127.0.0.1:{engine_port}/v1",
            model_url=f"http://127.0.0.1:{model_port}/v1" if model_port else None,
            gateway_url=f"http://127.0.0.1:{gateway_port}/v1",
            auth=f"Bearer {key}",
            gateway_pid=pids[0],
            log_dir=workdir,
            gateway_pids=pids,
            engine_pid=engine.pid,
        )


def _wait_for_workers(url: str, workers: int, timeout_s: float = 60.0) -> None:
    """Until every worker on the shared port has answered (the kernel picks one per connection)."""
    seen: set[int] = set()
    deadline = time.monotonic() + timeout_s
    while len(seen) < workers:
        if time.monotonic() > deadline:
            raise RuntimeError(f"only gateway workers {sorted(seen)} of {workers} answered")
        with contextlib.suppress(httpx.HTTPError):
            seen.add(int(httpx.get(url, timeout=2, trust_env=False).json()["worker"]))
