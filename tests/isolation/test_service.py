"""End to end without a model: `medvault up --host-netns` with a remote-engine config, then a breach, a
monitor that cannot probe, and `medvault down` (twice) as an operator runs them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from medvault.isolation import read_state
from medvault.store import Store
from tests.isolation.conftest import Lab, Up, launch, sh

pytestmark = [pytest.mark.root, pytest.mark.slow]

# A remote engine (never reached) instead of the embedded model: the gateway starts in seconds.
REMOTE_ENGINE = (
    '\n[[models]]\nid = "remote"\n[[models.replicas]]\nkind = "openai"\nurl = "http://100.72.0.6:8100/v1"\n'
)


@pytest.fixture
def up(lab: Lab, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Up]:
    """`medvault up --host-netns` in the lab, healthy through the loopback bridge; stopped afterwards.

    Parametrised indirectly with a number of gateway workers; by default the machine's own choice."""
    config = tmp_path / "medvault.toml"
    workers = getattr(request, "param", None)
    config.write_text(lab.toml() + REMOTE_ENGINE + (f"\n[gateway]\nworkers = {workers}\n" if workers else ""))
    run = launch(lab, config, tmp_path / "up.log")
    process = run.process
    try:
        run.wait_ready(f"https://127.0.0.1:{lab.policy.ingress.port}/healthz", timeout_s=90)
        yield run
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=60)
        run.cli("isolation", "reset", "--yes")


def _zone_pids(lab: Lab) -> list[str]:
    return [
        pid
        for zone in ("dmz", "vault")
        for pid in sh("ip", "netns", "pids", lab.policy.zone_netns(zone), check=False).stdout.split()
    ]


def _actions(lab: Lab) -> list[str]:
    store = Store.open(f"sqlite:///{lab.data_dir / 'medvault.db'}")
    try:
        return [stored.event.action for stored in store.audit_events()]
    finally:
        store.close()


def test_breach_stops_the_service_with_status_3(lab: Lab, up: Up) -> None:
    """A flushed firewall under a running service: exit 3, zones dead, an audit event, status breached."""
    gateway = json.loads(sh("cat", str(lab.data_dir / "run" / "supervisor.json")).stdout)["processes"]
    sh("ip", "netns", "exec", lab.host, "nft", "flush", "table", "inet", "medvault")
    assert up.process.wait(timeout=15) == 3, up.tail()
    assert "ISOLATION BREACH" in up.tail()
    assert _zone_pids(lab) == []
    assert all(not Path(f"/proc/{p['pid']}").exists() for p in gateway)
    assert "isolation.breach" in _actions(lab)
    status = up.cli("status", "--json")
    assert status.returncode == 1 and json.loads(status.stdout)["isolation"]["state"] == "breached"
    again = up.cli("up", "--host-netns", lab.host)
    assert again.returncode != 0 and "isolation reset" in again.stdout + again.stderr


def test_monitor_that_cannot_probe_stops_the_service(lab: Lab, up: Up) -> None:
    """When the monitor's probes only meet silence (a filtering table drops the rejects on their way back
    to the dmz), the service stops with status 4 (fail closed): no zone process is left, the zones are
    gone, and the failure is in the audit trail."""
    blackhole = (
        "nft add table inet blackhole && nft add chain inet blackhole silence "
        "'{ type filter hook output priority -10; policy accept; }' && "
        'nft add rule inet blackhole silence oifname "mv-dmz" meta l4proto icmp drop'
    )
    sh("ip", "netns", "exec", lab.host, "sh", "-c", blackhole)
    try:
        assert up.process.wait(timeout=30) == 4, up.tail()
    finally:
        sh("ip", "netns", "exec", lab.host, "nft", "delete", "table", "inet", "blackhole")
    assert "fail closed" in up.tail()
    assert _zone_pids(lab) == []
    assert lab.policy.zone_netns("dmz") not in sh("ip", "netns", "list").stdout
    assert read_state(lab.data_dir)["state"] == "off"
    assert "isolation.monitor_failed" in _actions(lab)


@pytest.mark.parametrize("up", [1], indirect=True)  # one worker: no shared metrics directory to bind
def test_down_command_stops_everything_and_can_repeat(lab: Lab, up: Up) -> None:
    """`medvault down` stops the isolated service and removes zones and table; a second run is harmless.
    The sandboxed gateway gets the SIGTERM itself and stops gracefully (its audit writer drained)."""
    first = up.cli("down")
    assert first.returncode == 0 and "stopped" in first.stdout, first.stdout + first.stderr
    assert "killed" not in first.stdout, first.stdout  # it stopped on the SIGTERM, not the SIGKILL
    assert up.process.wait(timeout=30) == 0, up.tail()
    assert "gateway_stopped" in (lab.data_dir / "logs" / "gateway.log").read_text()
    assert lab.policy.zone_netns("vault") not in sh("ip", "netns", "list").stdout
    assert "medvault" not in sh("ip", "netns", "exec", lab.host, "nft", "list", "tables").stdout
    second = up.cli("down")
    assert second.returncode == 0 and "not running" in second.stdout
    assert read_state(lab.data_dir)["state"] == "off"


def test_evidence_report_of_a_running_isolated_service_says_verified(
    lab: Lab, up: Up, tmp_path: Path
) -> None:
    """`medvault report evidence` as root against the running lab verifies isolation afresh: exit 0, the
    report says so, and the verify is the one its timestamps name. The control: once the service is
    down, the same command exits 1 and the report says NOT verified."""
    out = tmp_path / "evidence"
    result = up.cli("report", "evidence", "--out", str(out))
    assert result.returncode == 0, result.stdout + result.stderr
    html = (out / "evidence.html").read_text()
    assert "Isolation verified: every check passed and every egress probe was blocked." in html
    assert "NOT verified" not in html
    assert up.cli("down").returncode == 0
    up.process.wait(timeout=60)
    after = up.cli("report", "evidence", "--out", str(tmp_path / "after"))
    assert after.returncode == 1 and "NOT verified" in (tmp_path / "after" / "evidence.html").read_text()
