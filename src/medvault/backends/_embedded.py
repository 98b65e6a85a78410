"""The embedded engine: llama.cpp's OpenAI-compatible server from llama-cpp-python.

The supervisor runs it as a managed child bound to one address (loopback, or the vault zone's address
under isolation), behind the argv prefix the isolation layer supplies (its netns, dropped capabilities).
It runs through `medvault._engine_server`, which adds the `/metrics` page (queue depth in llama.cpp
server's names) that llama-cpp-python's server lacks; its arguments are llama-cpp-python's own.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path


def llama_server_argv(
    *,
    gguf: Path,
    alias: str,
    host: str,
    port: int,
    n_ctx: int,
    threads: int | None,
    prefix: Sequence[str] = (),
) -> list[str]:
    """The command line of one llama.cpp server process."""
    return [
        *prefix,
        sys.executable,
        "-m",
        "medvault._engine_server",
        "--model",
        str(gguf),
        "--model_alias",
        alias,
        "--host",
        host,
        "--port",
        str(port),
        "--n_ctx",
        str(n_ctx),
        "--n_threads",
        str(threads or max(1, os.cpu_count() or 1)),
        # llama-cpp-python's default ends a running stream (with a clean [DONE] and no finish_reason)
        # whenever another request takes the model's lock, the gateway's own health probe included.
        "--interrupt_requests",
        "false",
        # Its verbose default prints prompts, timings and grammar diagnostics (with client text) to the
        # engine log. Its error handler still prints exception texts: hence the gateway's own checks.
        "--verbose",
        "false",
    ]


# Variables that keep the engine's Python side from ever looking anything up online.
OFFLINE_ENV = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "NO_PROXY": "*"}
