"""End to end: `medvault up --host-netns` with the real engine, in the test-made lab, then `down`."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from medvault.isolation import Verdict, read_state
from medvault.isolation._probes import Probe
from tests.isolation.conftest import LAN_HOST, Lab, http_ok, sh

pytestmark = [pytest.mark.root, pytest.mark.slow, pytest.mark.model]


def test_up_isolated_serves_through_the_bridge_and_down_cleans(lab: Lab, tmp_path: Path) -> None:
    """`medvault up --host-netns` runs gateway and engine in their zones, verifies, and `down` cleans up."""
    config = tmp_path / "medvault.toml"
    config.write_text(lab.toml())
    env = {
        **os.environ,
        "MEDVAULT_DATA_DIR": str(lab.data_dir),
        "MEDVAULT_ADMIN_KEY": "mv-test-" + os.urandom(8).hex(),
    }
    medvault = [sys.executable, "-m", "medvault"]
    log = tmp_path / "up.log"
    with log.open("wb") as out:
        up = subprocess.Popen(
            [*medvault, "up", "--host-netns", lab.host, "--config", str(config)],
            env=env,
            stdout=out,
            stderr=out,
        )
    try:
        url = f"http://127.0.0.1:{lab.policy.ingress.port}/readyz"
        deadline = time.monotonic() + 180
        while not http_ok(url):
            assert up.poll() is None, log.read_text()[-3000:]
            assert time.monotonic() < deadline, log.read_text()[-3000:]
            time.sleep(0.5)
        status = json.loads(sh(*medvault, "status", "--json", "--config", str(config), env=env).stdout)
        isolation = status["isolation"]
        assert isolation["state"] == "ok" and isolation["host_netns"] == lab.host
        assert all(zone["processes"] for zone in isolation["zones"]), isolation
        verified = subprocess.run(
            [*medvault, "verify", "--json", "--config", str(config)], env=env, capture_output=True, text=True
        )
        assert verified.returncode == 0, verified.stdout[-3000:]
        client = lab.probe(lab.lan, [Probe("tcp", LAN_HOST, lab.policy.ingress.port)])[0]
        assert client.verdict is Verdict.REACHABLE
    finally:
        up.send_signal(signal.SIGTERM)
        code = up.wait(timeout=60)
    assert code == 0, log.read_text()[-3000:]
    assert read_state(lab.data_dir)["state"] == "off"
    assert lab.policy.zone_netns("vault") not in sh("ip", "netns", "list").stdout
    assert "medvault" not in sh("ip", "netns", "exec", lab.host, "nft", "list", "tables").stdout
