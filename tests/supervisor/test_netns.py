"""Readiness probes made from inside another network namespace, without moving the supervisor."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator

import pytest

from medvault.supervisor._netns import http_ok
from tests.conftest import require_root

pytestmark = pytest.mark.root


@pytest.fixture
def netns() -> Iterator[str]:
    require_root()
    name = f"mvt-probe-{uuid.uuid4().hex[:6]}"
    subprocess.run(["ip", "netns", "add", name], check=True)
    subprocess.run(["ip", "-n", name, "link", "set", "lo", "up"], check=True)
    yield name
    subprocess.run(["ip", "netns", "del", name], check=False)


def test_probe_reaches_a_server_only_inside_its_namespace(netns: str) -> None:
    """A server on the namespace's loopback answers a probe made from inside it, and not from outside."""
    server = subprocess.Popen(
        ["ip", "netns", "exec", netns, sys.executable, "-m", "http.server", "18765", "--bind", "127.0.0.1"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    own = os.readlink("/proc/self/ns/net")
    try:
        deadline = time.monotonic() + 10
        while not asyncio.run(http_ok("http://127.0.0.1:18765/", netns)) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert asyncio.run(http_ok("http://127.0.0.1:18765/", netns))
        assert not asyncio.run(http_ok("http://127.0.0.1:18765/", None, timeout_s=0.5))
        assert os.readlink("/proc/self/ns/net") == own  # the probing thread moved, the process did not
    finally:
        server.kill()
        server.wait()
