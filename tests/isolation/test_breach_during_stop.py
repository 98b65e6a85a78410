"""A stop asked for while the kill switch kills: the breach stays recorded and the cut stays in place."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from medvault.config import Settings
from medvault.errors import IsolationError
from medvault.isolation import IsolationPolicy, build_isolation, read_state
from medvault.isolation._render import PANIC_TABLE
from medvault.isolation._state import write_state
from medvault.supervisor import Supervisor
from tests.isolation.conftest import ENGINE_PORT, GATEWAY_PORT, Lab, sh


def test_ok_is_never_recorded_over_a_breach(tmp_path: Path) -> None:
    """`_persist("ok")` refuses while the state records a breach; over `off` it records `ok` (control)."""
    iso = build_isolation(IsolationPolicy(), data_dir=tmp_path, dry_run=True)
    write_state(tmp_path, state="off")
    iso._persist("ok")
    assert read_state(tmp_path)["state"] == "ok"
    write_state(tmp_path, state="breached", reason="table deleted")
    with pytest.raises(IsolationError, match="breached"):
        iso._persist("ok")
    assert read_state(tmp_path)["state"] == "breached"


def _supervisor(lab: Lab) -> Supervisor:
    sup = Supervisor(Settings(data_dir=lab.data_dir), config_file=None, isolate=True, host_netns=lab.host)
    sup._iso = lab.isolation()
    return sup


def _tables(lab: Lab) -> str:
    return sh("ip", "netns", "exec", lab.host, "nft", "list", "tables").stdout


@pytest.mark.root
@pytest.mark.slow
async def test_clean_stop_withdraws_ingress_and_removes_the_zones(lab: Lab) -> None:
    """Control: without a breach the supervisor's stop removes zones and tables and records `off`."""
    sup = _supervisor(lab)
    sup._iso.preflight()
    sup._iso.up()
    handle = sup._iso.expose_ingress(GATEWAY_PORT)
    assert read_state(lab.data_dir)["state"] == "ok"
    await sup._shut_down(None, handle)
    assert sup._exit_code == 0 and read_state(lab.data_dir)["state"] == "off"
    assert lab.policy.zone_netns("vault") not in sh("ip", "netns", "list").stdout
    assert "medvault" not in _tables(lab)


@pytest.mark.root
@pytest.mark.slow
async def test_stop_during_the_kill_keeps_the_breach_and_the_cut(
    lab: Lab, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`contain` records `breached` before its (slowed) kill step; a stop in that window neither
    re-applies the normal ruleset nor records `ok` nor tears the cut down, and exits 3."""
    sup = _supervisor(lab)
    iso = sup._iso
    iso.preflight()
    iso.up()
    lab.serve_http(iso, "vault", ENGINE_PORT)
    handle = iso.expose_ingress(GATEWAY_PORT)
    kill, killing = iso.kill_zone_processes, threading.Event()

    def slow_kill(deadline_s: float = 2.0) -> list[int]:
        killing.set()
        time.sleep(3)
        return list(kill(deadline_s))

    monkeypatch.setattr(iso, "kill_zone_processes", slow_kill)
    containing = threading.Thread(target=iso.contain, args=("test: table deleted",))
    containing.start()
    try:
        assert killing.wait(timeout=15)
        await sup._shut_down(None, handle)  # the supervisor's SIGTERM path, during the kill
        assert containing.is_alive(), "the stop was meant to come during the kill step"
        state = read_state(lab.data_dir)
        assert state["state"] == "breached" and state["reason"] == "test: table deleted"
        assert sup._exit_code == 3
        assert PANIC_TABLE in _tables(lab)  # the cut stands: no normal ruleset re-applied, no `down`
        assert lab.policy.zone_netns("vault") in sh("ip", "netns", "list").stdout
    finally:
        containing.join(timeout=20)
    assert read_state(lab.data_dir)["state"] == "breached"
    lab.isolation().reset()
