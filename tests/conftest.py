"""Fixtures shared by every test package."""

from __future__ import annotations

import contextlib
import os
import resource
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

pytest_plugins = ["tests.fixtures_db"]

IN_CI = bool(os.environ.get("CI"))


def require(condition: bool, reason: str) -> None:
    """Skip outside CI when a test's environment is missing; in CI a missing part is a failure."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"CI must provide this: {reason}")
    pytest.skip(reason)


def require_root() -> None:
    """Namespaces and nftables need root; CI runs as root."""
    require(os.geteuid() == 0, "needs root for network namespaces and nftables")


@dataclass
class Service:
    """A `medvault up --no-isolation` process with the real embedded model."""

    url: str
    admin_key: str
    data_dir: Path
    config: Path
    process: subprocess.Popen[bytes]
    output: Path

    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run the medvault command against this service's settings."""
        return subprocess.run(
            [sys.executable, "-m", "medvault", *args],
            env=self.env(),
            text=True,
            capture_output=True,
            check=check,
            timeout=120,
        )

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "MEDVAULT_DATA_DIR": str(self.data_dir),
            "MEDVAULT_ADMIN_KEY": self.admin_key,
            "MEDVAULT_CONFIG": str(self.config),
        }


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def allow_core_dumps() -> None:
    """Core dumps up to the hard limit, as on hosts whose shell allows them: the service must forbid
    them itself (tests/supervisor/test_children.py)."""
    _soft, hard = resource.getrlimit(resource.RLIMIT_CORE)
    resource.setrlimit(resource.RLIMIT_CORE, (hard, hard))


def start_service(data_dir: Path, config: Path, admin_key: str) -> Service:
    """Start `medvault up --no-isolation` on a free port and wait until its models are ready."""
    port = _free_port()
    output = data_dir / "supervisor.out"
    env = {**os.environ, "MEDVAULT_DATA_DIR": str(data_dir), "MEDVAULT_ADMIN_KEY": admin_key}
    argv = [sys.executable, "-m", "medvault", "up", "--no-isolation", "--port", str(port)]
    data_dir.mkdir(parents=True, exist_ok=True)
    with output.open("wb") as out:
        process = subprocess.Popen(
            [*argv, "--config", str(config)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            preexec_fn=allow_core_dumps,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"medvault up exited: {output.read_text()}")
        try:
            if httpx.get(url + "/readyz", timeout=1).status_code == 200:
                return Service(url, admin_key, data_dir, config, process, output)
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    # SIGTERM, not SIGKILL: the supervisor stops its engine and gateway (a killed one would leave them).
    process.terminate()
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=60)
    raise TimeoutError(f"medvault up not ready: {output.read_text()}")


@contextlib.contextmanager
def running_service(data_dir: Path, config_text: str) -> Iterator[Service]:
    """`medvault up` with this configuration (written to `data_dir/medvault.toml`), SIGTERM at the end."""
    config = data_dir / "medvault.toml"
    config.write_text(config_text)
    running = start_service(data_dir, config, "mv-test-admin-" + os.urandom(8).hex())
    try:
        yield running
    finally:
        running.process.send_signal(signal.SIGTERM)
        running.process.wait(timeout=60)


@pytest.fixture(scope="session")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    """One running MedVault (real llama.cpp engine, real gateway process) shared by the tests that read it."""
    data_dir = tmp_path_factory.mktemp("medvault-data")
    with running_service(data_dir, "[retention]\ncontent_days = 0\n") as running:
        yield running
