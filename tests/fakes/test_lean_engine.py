"""The fake engine's `--lean` server answers with the same bytes as its aiohttp server (benchmarks rely
on it: `bench/gateway_overhead.py --engine-lean`)."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest

_CREATED = re.compile(rb'"created":\d+')


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def engines() -> Iterator[tuple[str, str]]:
    """(aiohttp engine URL, lean engine URL), both with per-event writes."""
    ports = [_free_port(), _free_port()]
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.fakes.engine", "--port", str(port), *extra],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for port, extra in zip(ports, ([], ["--lean"]), strict=True)
    ]
    try:
        urls = [f"http://127.0.0.1:{port}" for port in ports]
        deadline = time.monotonic() + 30
        for url in urls:
            while True:
                try:
                    if httpx.get(f"{url}/v1/models", trust_env=False).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                assert time.monotonic() < deadline, f"{url} did not start"
                time.sleep(0.1)
        yield urls[0], urls[1]
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=10)


def _post(url: str, body: dict[str, object]) -> httpx.Response:
    with httpx.Client(trust_env=False) as client:
        return client.post(f"{url}/v1/chat/completions", json=body)


@pytest.mark.parametrize("stream", [False, True])
def test_same_answer_bytes(engines: tuple[str, str], stream: bool) -> None:
    body = {
        "model": "fake-model",
        "messages": [{"role": "user", "content": "Befund: Lunge frei?"}],
        "stream": stream,
        "stream_options": {"include_usage": True},
    }
    full, lean = (_post(url, body) for url in engines)
    assert full.status_code == lean.status_code == 200
    assert full.headers["content-type"].split(";")[0] == lean.headers["content-type"]
    assert _CREATED.sub(b"", full.content) == _CREATED.sub(b"", lean.content)
    # An SSE stream: the role, 16 pieces, the finish, the usage and [DONE]
    assert lean.content.count(b"data: ") == (20 if stream else 0)


def test_lean_refuses_cues(engines: tuple[str, str]) -> None:
    answer = _post(engines[1], {"model": "fake-model", "messages": [{"role": "user", "content": "__die__"}]})
    assert answer.status_code == 400 and b"no cues" in answer.content
    assert httpx.get(f"{engines[1]}/v1/models", trust_env=False).json()["data"][0]["id"] == "fake-model"
