"""The embedded engine on a configured GGUF file: started, named by its digest, streamed whole, stopped."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import time
from pathlib import Path

import httpx
import pytest

from medvault.config import bundled_model_path
from tests.conftest import start_service

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
    service = start_service(tmp_path / "data", config, "mv-test-" + os.urandom(8).hex())
    url = service.url
    engines: list[int] = []
    try:
        headers = {"authorization": f"Bearer {service.admin_key}"}
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
        status = json.loads((service.data_dir / "run" / "supervisor.json").read_text())
        engines = [p["pid"] for p in status["processes"] if p["name"] != "gateway"]
        assert engines and all(_alive(pid) for pid in engines)
    finally:
        service.process.send_signal(signal.SIGTERM)
        service.process.wait(timeout=60)
    deadline = time.monotonic() + 10
    while any(_alive(pid) for pid in engines) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(_alive(pid) for pid in engines), "the engine outlived the service"
