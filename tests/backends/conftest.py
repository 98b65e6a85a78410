"""The embedded engine as the supervisor starts it (`llama_server_argv`), on loopback, with the bundled
SmolLM2 model: for the tests that need a real engine's queue without the rest of the service."""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from medvault.backends import OFFLINE_ENV, llama_server_argv
from medvault.config import bundled_model_path
from tests.gateway.conftest import free_port, wait_http


@dataclass
class EmbeddedEngine:
    """A running embedded engine: its OpenAI base URL, process and combined output file."""

    url: str
    process: subprocess.Popen[bytes]
    output: Path

    def metrics(self) -> str:
        return httpx.get(self.url.removesuffix("/v1") + "/metrics", timeout=5).text


@contextlib.contextmanager
def embedded_engine(tmp_path: Path) -> Iterator[EmbeddedEngine]:
    """Start the embedded engine with the bundled model; stopped (SIGTERM) and its output closed after."""
    port = free_port()
    argv = llama_server_argv(
        gguf=bundled_model_path(), alias="smollm2", host="127.0.0.1", port=port, n_ctx=1024, threads=1
    )
    output = tmp_path / "engine.out"
    with output.open("wb") as out:
        process = subprocess.Popen(
            argv, env={**os.environ, **OFFLINE_ENV}, stdout=out, stderr=subprocess.STDOUT
        )
    engine = EmbeddedEngine(f"http://127.0.0.1:{port}/v1", process, output)
    try:
        wait_http(engine.url + "/models", timeout_s=60)
        yield engine
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
