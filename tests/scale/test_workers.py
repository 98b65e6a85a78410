"""`gateway.workers = 2` under `medvault up`: two processes on one port; one killed is restarted while
the other keeps serving."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from tests.gateway.conftest import free_port, start_engine, wait_http
from tests.gateway.test_chat import CHAT, ask


def _state(data: Path) -> dict[str, Any]:
    result: dict[str, Any] = json.loads((data / "run" / "supervisor.json").read_text())
    return result


def _gateways(data: Path) -> dict[str, dict[str, Any]]:
    return {p["name"]: p for p in _state(data)["processes"] if p["name"].startswith("gateway")}


def _admin_key(data: Path) -> str:
    return (data / "admin.key").read_text().strip()


def _wait(condition: Any, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if condition():
                return
        except (OSError, ValueError, KeyError):
            pass
        time.sleep(0.2)
    raise TimeoutError(what)


def test_a_killed_worker_is_restarted_and_the_other_keeps_serving(tmp_path: Path) -> None:
    engine = start_engine()
    config = tmp_path / "medvault.toml"
    config.write_text(
        "[gateway]\nworkers = 2\n"
        f'[[models]]\nid = "fake"\n[[models.replicas]]\nkind = "openai"\nurl = "{engine.url}"\n'
    )
    data = tmp_path / "data"
    env = {**os.environ, "MEDVAULT_DATA_DIR": str(data), "MEDVAULT_CONFIG": str(config)}
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    supervisor = subprocess.Popen(
        [sys.executable, "-m", "medvault", "up", "--no-isolation", "--port", str(port)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        wait_http(url + "/healthz", timeout_s=120)
        _wait(lambda: all(p["ready"] for p in _gateways(data).values()), 120, "both workers ready")
        before = _gateways(data)
        assert sorted(before) == ["gateway-1", "gateway-2"]
        # Both answer on the one port (the kernel spreads connections over the two listeners).
        seen = {httpx.get(url + "/healthz").json()["worker"] for _ in range(40)}
        assert seen == {1, 2}
        assert sorted(p.name for p in (data / "metrics").iterdir())  # multi-process metrics in use

        os.kill(before["gateway-1"]["pid"], signal.SIGKILL)
        headers = {"authorization": f"Bearer {_admin_key(data)}"}
        with httpx.Client(base_url=url, headers=headers, timeout=30) as client:
            statuses = [client.post(CHAT, json=ask("Befund")).status_code for _ in range(30)]
            workers = {httpx.get(url + "/healthz").json()["worker"] for _ in range(20)}
        assert statuses == [200] * 30
        assert workers == {2}  # only the survivor, until the restart

        def restarted() -> bool:
            now = _gateways(data)["gateway-1"]
            return bool(now["pid"] != before["gateway-1"]["pid"] and now["ready"])

        _wait(restarted, 120, "gateway-1 restarted")
        assert _gateways(data)["gateway-2"]["pid"] == before["gateway-2"]["pid"]  # never interrupted
        _wait(lambda: {httpx.get(url + "/healthz").json()["worker"] for _ in range(40)} == {1, 2}, 30, "both")
    finally:
        supervisor.send_signal(signal.SIGTERM)
        try:
            supervisor.wait(60)
        except subprocess.TimeoutExpired:
            supervisor.kill()
        engine.kill()
