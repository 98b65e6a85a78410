"""The isolation commands: rendering the policy's ruleset (no root), `verify` and `reset` (root)."""

from __future__ import annotations

import os
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from medvault.cli import app
from medvault.cli._common import operator
from medvault.config import load_settings
from medvault.isolation import Isolation, read_state
from medvault.isolation._state import write_state
from medvault.isolation._verify import verify_and_record
from medvault.store import Store
from tests.conftest import require_root


def test_render_prints_the_ruleset_of_the_configured_policy(tmp_path: Path) -> None:
    """`medvault isolation render` prints the table rendered from medvault.toml, ingress included."""
    config = tmp_path / "medvault.toml"
    config.write_text('[isolation]\nnetns_prefix = "clitest"\n[isolation.ingress]\nport = 8443\n')
    result = CliRunner().invoke(
        app, ["isolation", "render", "--gateway-port", "8080", "--config", str(config)]
    )
    assert result.exit_code == 0, result.output
    assert "table inet medvault {" in result.output
    assert "tcp dport 8443 dnat ip to 100.72.0.2:8080" in result.output


def test_render_refuses_an_invalid_policy(tmp_path: Path) -> None:
    """An airlock from the vault is refused with exit status 2 and the reason."""
    config = tmp_path / "medvault.toml"
    config.write_text('[[isolation.airlocks]]\nname = "x"\naddress = "192.0.2.1"\nport = 1\nzone = "vault"\n')
    result = CliRunner().invoke(app, ["isolation", "render", "--config", str(config)])
    assert result.exit_code == 2
    assert "dmz only" in result.output


def _root_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, prefix: str) -> Path:
    """A config whose data directory is under `tmp_path` (root tests: these commands need root)."""
    require_root()
    monkeypatch.setenv("MEDVAULT_DATA_DIR", str(tmp_path / "data"))
    (tmp_path / "data").mkdir()
    config = tmp_path / "medvault.toml"
    config.write_text(f'[isolation]\nnetns_prefix = "{prefix}"\n')
    return config


def test_verify_against_a_vanished_host_namespace_fails_with_the_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The recorded host namespace is gone: a readable error naming it, not a thread pool's traceback."""
    tag = os.urandom(3).hex()
    config = _root_config(tmp_path, monkeypatch, f"mvc{tag}")
    gone = f"mvc{tag}-gone"
    write_state(tmp_path / "data", state="ok", host_netns=gone)
    result = CliRunner().invoke(app, ["verify", "--config", str(config)])
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)  # no traceback
    assert f"network namespace {gone} does not exist" in " ".join(result.output.split())
    # Recorded as a failed verify of that state: the status page must not show an older pass.
    state = read_state(tmp_path / "data")
    assert (state["verify_ok"], state["verify_failed"]) == (False, ["verify"]) and state["verified_at"]


def test_verify_of_a_breached_state_is_recorded_as_failed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`medvault verify` on a recorded breach fails, and the failure is recorded with its time."""
    tag = os.urandom(3).hex()
    config = _root_config(tmp_path, monkeypatch, f"mvb{tag}")
    write_state(tmp_path / "data", state="breached", reason="probe got out")
    assert "verified_at" not in read_state(tmp_path / "data")
    result = CliRunner().invoke(app, ["verify", "--config", str(config)])
    assert result.exit_code == 1, result.output
    assert "isolation NOT verified" in result.output
    state = read_state(tmp_path / "data")
    assert (state["state"], state["verify_ok"], state["verify_failed"]) == ("breached", False, ["state"])
    assert datetime.fromisoformat(state["verified_at"]).tzinfo == UTC


def test_a_passing_verify_is_recorded_and_a_partial_pass_is_not(iso: Isolation) -> None:
    """A full verify of a running isolation passes and is recorded; one without probes passes but is not
    recorded (it proves less); a new state written afterwards no longer shows the old verify."""
    data_dir = iso.data_dir
    report, unrecorded = verify_and_record(iso)
    assert report.ok and report.probes and unrecorded is None, report.as_dict()
    first = read_state(data_dir)
    assert first["verify_ok"] is True and first["verify_failed"] == []
    report, unrecorded = verify_and_record(iso, probes=False)
    assert report.ok and unrecorded is None
    assert read_state(data_dir)["verified_at"] == first["verified_at"]  # the full verify still stands
    port = iso.gateway_port
    iso.set_ingress(port)  # rewrites the state (as a restart would): the earlier verify says nothing of it
    assert read_state(data_dir)["state"] == "ok" and "verified_at" not in read_state(data_dir)


def test_isolation_reset_is_audited_without_the_breach_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Who reset a breach and when is in the audit trail; the breach's description is not."""
    tag = os.urandom(3).hex()
    config = _root_config(tmp_path, monkeypatch, f"mvr{tag}")
    host = f"mvr{tag}-host"  # an empty namespace plays the host role: the root one is never touched
    subprocess.run(["ip", "netns", "add", host], check=True)
    try:
        reason = f"canary-breach-reason-{tag}"
        breached = write_state(tmp_path / "data", state="breached", reason=reason)
        settings = load_settings(config)
        store = Store.open(settings.resolved_database_url)
        store.migrate()
        store.close()
        result = CliRunner().invoke(
            app, ["isolation", "reset", "--yes", "--host-netns", host, "--config", str(config)]
        )
        assert result.exit_code == 0, result.output
        assert read_state(tmp_path / "data")["state"] == "off"
        store = Store.open(settings.resolved_database_url)
        events = store.audit_events()
        store.close()
    finally:
        subprocess.run(["ip", "netns", "del", host], check=False)
    (event,) = [e.event for e in events if e.event.action == "isolation.reset"]
    assert event.user == operator() and event.client_kind == "cli"
    assert event.detail == {"previous_state": "breached", "since": breached["since"]}
    assert reason not in repr(events)
