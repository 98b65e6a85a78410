"""What the running service's children see and leave behind: their environment, and the engine's log."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import Service, allow_core_dumps

pytestmark = [pytest.mark.model]


def _children(service: Service) -> dict[str, int]:
    state = json.loads((service.data_dir / "run" / "supervisor.json").read_text())
    return {p["name"]: p["pid"] for p in state["processes"]}


def _environ(pid: int) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes()
    return dict(item.split("=", 1) for item in raw.decode().split("\0") if "=" in item)


def test_children_get_no_secret_and_engines_no_settings(service: Service) -> None:
    """The engine's environment holds no MEDVAULT_* at all; the gateway's holds settings but no admin key."""
    children = _children(service)
    engine = next(pid for name, pid in children.items() if name.startswith("engine"))
    gateway = next(pid for name, pid in children.items() if name.startswith("gateway"))  # or gateway-1
    engine_env, gateway_env = _environ(engine), _environ(gateway)
    assert _environ(os.getpid()).get("PATH") and engine_env.get("PATH")  # the reading works at all
    assert not [name for name in engine_env if name.startswith("MEDVAULT_")], engine_env
    assert engine_env["HF_HUB_OFFLINE"] == "1"
    assert gateway_env["MEDVAULT_DATA_DIR"] == str(service.data_dir.resolve())
    for env in (engine_env, gateway_env):
        assert "MEDVAULT_ADMIN_KEY" not in env
        assert service.admin_key not in "\0".join(f"{k}={v}" for k, v in env.items())


def _engine_url(service: Service) -> str:
    runtime = json.loads((service.data_dir / "run" / "runtime.json").read_text())
    return str(runtime["models"][0]["replicas"][0]["url"])


def _markers(service: Service) -> int:
    return sum(
        path.read_text(errors="replace").count("[engine output withheld:")
        for path in (service.data_dir / "logs").glob("engine-*.log*")
    )


def test_malformed_requests_leave_no_content_in_any_file(service: Service) -> None:
    """Requests the engine rejects (tool without tool_call_id, bad stop, bad logit_bias), sent straight to
    the engine, leave their canary in no file under the data directory; the engine's complaints are
    withheld."""
    canary = "CANARY-" + os.urandom(6).hex() + " Frau Erika Mustermann, Mamma links"
    user = {"role": "user", "content": canary}
    bodies: list[dict[str, Any]] = [
        {"messages": [user, {"role": "tool", "content": canary}]},
        {"messages": [user], "stop": {"text": canary}},
        {"messages": [user], "logit_bias": {canary: "high"}},
        {"messages": [{"role": canary, "content": canary}]},
    ]
    url = _engine_url(service) + "/chat/completions"
    before = _markers(service)
    statuses = [
        httpx.post(url, json={"model": "x", "max_tokens": 4, **body}, timeout=60).status_code
        for body in bodies
    ]
    assert all(status >= 400 for status in statuses), statuses
    time.sleep(1.0)  # the pump writes what the engine printed
    assert _markers(service) > before, "the engine printed nothing for four malformed requests"
    needle = canary.encode()
    leaked = [
        str(path) for path in service.data_dir.rglob("*") if path.is_file() and needle in path.read_bytes()
    ]
    assert not leaked


def _core_limit(pid: int) -> str:
    line = next(x for x in Path(f"/proc/{pid}/limits").read_text().splitlines() if x.startswith("Max core"))
    return line.split()[4]  # "Max core file size  <soft>  <hard>  bytes": the soft limit


def test_no_process_of_the_service_writes_a_core_dump(service: Service) -> None:
    """The service was started allowing core dumps (as some hosts' shells do); the supervisor, the
    gateway and the engine have lowered that to 1 byte (no core file, and "no dump" for a piped
    core_pattern too), so a crash writes no request text to disk. The control: a process started the
    same way keeps the allowance."""
    with subprocess.Popen(["sleep", "30"], preexec_fn=allow_core_dumps) as control:
        try:
            assert _core_limit(control.pid) not in ("0", "1")
        finally:
            control.kill()
    pids = [service.process.pid, *_children(service).values()]
    assert len(pids) >= 3 and {pid: _core_limit(pid) for pid in pids} == dict.fromkeys(pids, "1")
