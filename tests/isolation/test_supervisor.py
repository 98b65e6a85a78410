"""End to end: `medvault up --host-netns` with the real engine, in the test-made lab, then `down`."""

from __future__ import annotations

import json
import signal
from pathlib import Path

import pytest

from medvault.isolation import Verdict, read_state
from medvault.isolation._probes import Probe
from tests.isolation.conftest import LAN_HOST, Lab, launch, sh

pytestmark = [pytest.mark.root, pytest.mark.slow, pytest.mark.model]


def test_up_isolated_serves_through_the_bridge_and_down_cleans(lab: Lab, tmp_path: Path) -> None:
    """`medvault up --host-netns` runs gateway and engine in their zones, verifies, and `down` cleans up."""
    config = tmp_path / "medvault.toml"
    config.write_text(lab.toml())
    run = launch(lab, config, tmp_path / "up.log")
    try:
        run.wait_ready(f"https://127.0.0.1:{lab.policy.ingress.port}/readyz", timeout_s=180)
        reported = run.cli("status", "--json")
        assert reported.returncode == 0, reported.stdout + reported.stderr
        status = json.loads(reported.stdout)
        isolation = status["isolation"]
        assert isolation["state"] == "ok" and isolation["host_netns"] == lab.host
        assert all(zone["processes"] for zone in isolation["zones"]), isolation
        verified = run.cli("verify", "--json")
        assert verified.returncode == 0, verified.stdout[-3000:]
        client = lab.probe(lab.lan, [Probe("tcp", LAN_HOST, lab.policy.ingress.port)])[0]
        assert client.verdict is Verdict.REACHABLE
    finally:
        run.process.send_signal(signal.SIGTERM)
        code = run.process.wait(timeout=60)
    assert code == 0, run.tail()
    assert read_state(lab.data_dir)["state"] == "off"
    assert lab.policy.zone_netns("vault") not in sh("ip", "netns", "list").stdout
    assert "medvault" not in sh("ip", "netns", "exec", lab.host, "nft", "list", "tables").stdout
