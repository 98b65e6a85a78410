"""An engine that dies is restarted only while its weights are those it started with: weights swapped in
the meantime would otherwise serve under the approved digest the start recorded (model change control)."""

from __future__ import annotations

import asyncio
import socket
import sys
from collections.abc import MutableMapping
from pathlib import Path
from typing import Any

import httpx
from structlog.testing import capture_logs

from medvault.backends import ModelSpec, ReplicaSpec, Runtime
from medvault.config import ReplicaSettings, file_digest
from medvault.supervisor._layout import weights_unchanged
from medvault.supervisor._process import ManagedProcess

REPO = Path(__file__).resolve().parents[2]
NAME = "restart-model#0"


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _engine(tmp_path: Path) -> tuple[ManagedProcess, Path]:
    """The fake engine as a supervised embedded replica of a temporary GGUF file, with run/runtime.json
    recording that file's digest as `medvault up` does."""
    data_dir = tmp_path / "data"
    gguf = tmp_path / "weights.gguf"
    gguf.write_bytes(b"GGUF approved weights")
    replica = ReplicaSettings(kind="embedded", gguf=gguf)
    port = _port()
    url = f"http://127.0.0.1:{port}/v1"
    spec = ReplicaSpec(name=NAME, url=url, digest=file_digest(gguf, data_dir), upstream_model="restart-model")
    Runtime(models=[ModelSpec(id="restart-model", replicas=[spec])]).write(data_dir / "run" / "runtime.json")

    async def ready() -> bool:
        try:
            async with httpx.AsyncClient() as client:
                return (await client.get(url + "/models", timeout=1)).status_code == 200
        except httpx.HTTPError:
            return False

    argv = [sys.executable, "-m", "tests.fakes.engine", "--port", str(port)]
    engine = ManagedProcess(
        f"engine {NAME}",
        argv,
        ready,
        env={"PYTHONPATH": str(REPO)},
        start_timeout_s=30,
        may_restart=weights_unchanged("restart-model", NAME, replica, data_dir),
    )
    await engine.start()
    return engine, gguf


async def _kill_and_wait(engine: ManagedProcess, swap: Path | None) -> list[MutableMapping[str, Any]]:
    """Kill the engine (after swapping the weights file, if given) and let the restart loop act."""
    watcher = asyncio.create_task(engine.keep_alive())
    first = engine.pid
    assert engine.process is not None
    with capture_logs() as logs:
        if swap is not None:
            swap.write_bytes(b"GGUF other weights, swapped in")
        engine.process.kill()
        deadline = asyncio.get_running_loop().time() + 20
        while not watcher.done() and not (engine.ready and engine.pid != first):
            assert asyncio.get_running_loop().time() < deadline, "the restart loop never acted"
            await asyncio.sleep(0.1)
    engine.hold()
    await engine.stop(grace_s=2)
    await asyncio.wait_for(watcher, timeout=5)
    return logs


async def test_engine_whose_weights_changed_is_not_restarted(tmp_path: Path) -> None:
    """Weights changed while the engine was down: no restart, the replica stays down, and
    `engine_weights_changed` names the model and both digests and how to go on."""
    engine, gguf = await _engine(tmp_path)
    started = file_digest(gguf, tmp_path / "data")
    logs = await _kill_and_wait(engine, swap=gguf)
    assert engine.restarts == 0 and not engine.ready
    event = next(e for e in logs if e["event"] == "engine_weights_changed")
    assert event["model"] == "restart-model" and event["replica"] == NAME
    assert event["started_digest"] == started
    assert event["current_digest"] == file_digest(gguf, tmp_path / "data") != started
    assert "`medvault up`" in str(event["note"]) and "pending" in str(event["note"])
    assert str(tmp_path) not in str(event)  # no paths in the log
    assert any(e["event"] == "process_not_restarted" for e in logs)


async def test_engine_with_unchanged_weights_is_restarted(tmp_path: Path) -> None:
    """Control: the same kill with the weights untouched restarts the engine, which serves again."""
    engine, _gguf = await _engine(tmp_path)
    logs = await _kill_and_wait(engine, swap=None)
    assert engine.restarts == 1
    assert not any(e["event"] in ("engine_weights_changed", "process_not_restarted") for e in logs)


async def test_engine_without_a_recorded_digest_is_not_restarted(tmp_path: Path) -> None:
    """Fail closed: a runtime file that no longer names the replica leaves it down, saying so."""
    engine, _gguf = await _engine(tmp_path)
    Runtime(models=[]).write(tmp_path / "data" / "run" / "runtime.json")
    logs = await _kill_and_wait(engine, swap=None)
    assert engine.restarts == 0
    assert any(e["event"] == "engine_weights_unverified" for e in logs)
