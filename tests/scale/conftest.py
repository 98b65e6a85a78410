"""Several real gateway processes (`medvault serve`) over one database, in front of a fake engine.

Each process is started exactly as the supervisor starts a worker (`--worker N --metrics-dir D`), on a
port of its own so that a test can choose which process a request reaches.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from medvault.backends import resolve_runtime
from medvault.config import load_settings
from medvault.store import Store
from tests.gateway.conftest import REPO, Engine, free_port, start_engine, wait_http


@dataclass
class GatewayProcess:
    """One `medvault serve` process."""

    url: str
    process: subprocess.Popen[bytes]

    def kill(self) -> None:
        """SIGKILL: no graceful shutdown, nothing flushed."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()


def write_config(tmp_path: Path, db_url: str, engine_url: str, extra: str = "") -> Path:
    config = tmp_path / "medvault.toml"
    config.write_text(
        f'database_url = "{db_url}"\n'
        "[auth]\ncache_ttl_s = 0\n"
        f"{extra}\n"
        f'[[models]]\nid = "fake"\n[[models.replicas]]\nkind = "openai"\nurl = "{engine_url}"\n'
    )
    return config


@contextlib.contextmanager
def gateways(
    tmp_path: Path, db_url: str, engine_url: str, *, count: int = 2, extra: str = ""
) -> Iterator[tuple[list[GatewayProcess], Store]]:
    """`count` gateway processes over the database at `db_url` (migrated here), and a store on it."""
    config = write_config(tmp_path, db_url, engine_url, extra)
    data = tmp_path / "data"
    settings = load_settings(config, data_dir=data)
    store = Store.open(db_url)
    store.migrate()
    runtime = tmp_path / "runtime.json"
    resolve_runtime(settings, {}).write(runtime)
    metrics = tmp_path / "metrics"
    metrics.mkdir()
    env = {**os.environ, "MEDVAULT_DATA_DIR": str(data)}
    env.pop("MEDVAULT_CONFIG", None)
    started: list[GatewayProcess] = []
    try:
        for worker in range(1, count + 1):
            port = free_port()
            log = (tmp_path / f"gateway-{worker}.log").open("wb")
            process = subprocess.Popen(
                [
                    sys.executable, "-m", "medvault", "serve", "--runtime", str(runtime),
                    "--host", "127.0.0.1", "--port", str(port), "--config", str(config),
                    "--worker", str(worker), "--metrics-dir", str(metrics),
                ],
                cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip
            started.append(GatewayProcess(f"http://127.0.0.1:{port}", process))
        for gateway in started:
            wait_http(gateway.url + "/healthz", timeout_s=60)
        yield started, store
    finally:
        for gateway in started:
            gateway.stop()
        store.close()


def worker_of(url: str) -> int:
    """Which worker answers at `url`."""
    return int(httpx.get(url + "/healthz", timeout=5).json()["worker"])


@pytest.fixture(scope="module")
def engine() -> Iterator[Engine]:
    """The fake engine the module's gateways talk to."""
    started = start_engine()
    yield started
    started.kill()
