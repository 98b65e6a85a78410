"""The embedded engine on a configured GGUF file: started, named by its digest, streamed whole, stopped."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from medvault.config import bundled_model_path
from tests.conftest import _free_port

pytestmark = [pytest.mark.model, pytest.mark.slow]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.mark.timeout(240)
def test_configured_gguf_serves_streams_whole_and_stops_with_the_service(tmp_path: Path) -> None:
    """A hospital's own GGUF path works like the bundled one; health probes never cut a stream short."""
    gguf = tmp_path / "weights" / "hospital-model.gguf"
    gguf.parent.mkdir()
    shutil.copyfile(bundled_model_path(), gguf)
    digest = "sha256:" + hashlib.sha256(gguf.read_bytes()).hexdigest()
    config = tmp_path / "medvault.toml"
    # Probes every 0.2 s: llama-cpp-python's default would end the stream at the first one.
    config.write_text(
        f'[limits]\nhealth_interval_s = 0.2\n[[models]]\nid = "hospital-model"\n'
        f'[[models.replicas]]\nkind = "embedded"\ngguf = "{gguf}"\nn_ctx = 1024\n'
    )
    key = "mv-test-" + os.urandom(8).hex()
    env = {**os.environ, "MEDVAULT_DATA_DIR": str(tmp_path / "data"), "MEDVAULT_ADMIN_KEY": key}
    port = _free_port()
    up = [
        sys.executable,
        "-m",
        "medvault",
        "up",
        "--no-isolation",
        "--port",
        str(port),
        "--config",
        str(config),
    ]
    with (tmp_path / "up.out").open("wb") as out:
        process = subprocess.Popen(up, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    engines: list[int] = []
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline and process.poll() is None:
            try:
                if httpx.get(url + "/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        assert process.poll() is None, (tmp_path / "up.out").read_text()
        headers = {"authorization": f"Bearer {key}"}
        listed = httpx.get(url + "/v1/models", headers=headers, timeout=10).json()["data"]
        assert [(m["id"], m["digest"]) for m in listed] == [("hospital-model", digest)]
        body = {
            "model": "hospital-model",
            "messages": [{"role": "user", "content": "Describe a normal chest X-ray in detail."}],
            "max_tokens": 48,
            "temperature": 0,
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        events = []
        with httpx.stream("POST", url + "/v1/chat/completions", json=body, headers=headers, timeout=120) as r:
            assert r.status_code == 200
            events = [line[6:] for line in r.iter_lines() if line.startswith("data: ")]
        assert events[-1] == "[DONE]"
        chunks = [json.loads(e) for e in events[:-1]]
        finishes = [c["choices"][0]["finish_reason"] for c in chunks if c["choices"]]
        assert finishes[-1] in ("length", "stop"), "the stream ended without a finish_reason"
        words = [c for c in chunks if c["choices"] and c["choices"][0]["delta"].get("content")]
        assert len(words) > 8, "the answer stopped after a few tokens"
        status = json.loads((tmp_path / "data" / "run" / "supervisor.json").read_text())
        engines = [p["pid"] for p in status["processes"] if p["name"] != "gateway"]
        assert engines and all(_alive(pid) for pid in engines)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)
    deadline = time.monotonic() + 10
    while any(_alive(pid) for pid in engines) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(_alive(pid) for pid in engines), "the engine outlived the service"
