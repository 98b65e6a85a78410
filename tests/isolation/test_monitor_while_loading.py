"""The monitor runs from the moment the isolation is up, not only once every engine has loaded.

`medvault up --host-netns` in the lab with a `command` engine that sleeps before it listens (a large
model loading): a ruleset deleted meanwhile is contained within seconds; without the deletion the state
stays `ok` throughout and the service comes up (the ingress applied after the monitor started is no
drift). And `ok` is recorded only once the monitor runs.
"""

from __future__ import annotations

import json
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from medvault.config import load_settings
from medvault.isolation import read_state
from medvault.supervisor import state_file
from tests.isolation.conftest import REPO, Lab, Up, launch, sh

pytestmark = [pytest.mark.root, pytest.mark.slow]

# The fake engine, started after `delay` seconds of "loading"; argv: host, port, delay.
_LATE = (
    "import sys, time; time.sleep(float(sys.argv[3])); "
    f'sys.path.insert(0, "{REPO}"); '
    'sys.argv[1:] = ["--host", sys.argv[1], "--port", sys.argv[2]]; '
    "from tests.fakes.engine import main; main()"
)


def _late_engine(delay_s: float) -> str:
    return f"""
[[models]]
id = "late-model"

  [[models.replicas]]
  kind = "command"
  python = "{sys.executable}"
  argv = ["{sys.executable}", "-c", '{_LATE}', "{{host}}", "{{port}}", "{delay_s}"]
  read_only = ["{REPO / "tests"}"]
  startup_timeout_s = 120
"""


def _launch(lab: Lab, tmp_path: Path, delay_s: float) -> Up:
    config = tmp_path / "medvault.toml"
    config.write_text(lab.toml() + _late_engine(delay_s))
    return launch(lab, config, tmp_path / "up.log")


def _wait_for(condition: Callable[[], bool], timeout_s: float, run: Up) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, run.tail()
        time.sleep(0.1)


def _state(lab: Lab) -> str:
    return str(read_state(lab.data_dir)["state"])


def _engine_loading(lab: Lab, run: Up) -> bool:
    """Whether the supervisor has spawned the engine and it is not ready yet."""
    path = state_file(load_settings(run.config, data_dir=lab.data_dir))
    try:
        processes = json.loads(path.read_text())["processes"]
    except (FileNotFoundError, ValueError, KeyError):
        return False
    return any("late-model" in p["name"] and p["pid"] and not p["ready"] for p in processes)


def _stop(run: Up) -> int:
    if run.process.poll() is None:
        run.process.send_signal(signal.SIGTERM)
    return run.process.wait(timeout=90)


def test_monitored_up_records_ok_only_once_the_monitor_runs(lab: Lab) -> None:
    """`up(monitored=True)` leaves the state `off`; `start_monitor` makes it `ok`. Control: a plain `up`
    (the library without a supervisor) records `ok` itself."""
    iso = lab.isolation()
    iso.preflight()
    iso.up()
    assert _state(lab) == "ok"
    iso.up(monitored=True)
    try:
        assert _state(lab) == "off"
        assert {zone["name"] for zone in iso.status()["zones"]} == {"dmz", "vault"}  # for the supervisor
        monitor = iso.start_monitor(lambda _reason: None, lambda _reason: None)
        try:
            assert _state(lab) == "ok"
        finally:
            monitor.stop()
    finally:
        iso.down()


def test_while_the_engine_loads_the_state_stays_ok_and_the_service_comes_up(lab: Lab, tmp_path: Path) -> None:
    """Control: no deletion, so no breach while the engine loads, nor after the ingress opens; exit 0."""
    run = _launch(lab, tmp_path, delay_s=8)
    try:
        _wait_for(lambda: _engine_loading(lab, run), 90, run)
        while _engine_loading(lab, run):
            assert _state(lab) == "ok", run.tail()
            time.sleep(0.5)
        run.wait_ready(f"https://127.0.0.1:{lab.policy.ingress.port}/healthz", timeout_s=120)
        time.sleep(3)  # the monitor has heard the ingress change and audited it
        assert _state(lab) == "ok" and run.process.poll() is None, run.tail()
    finally:
        code = _stop(run)
    assert code == 0, run.tail()
    assert _state(lab) == "off"


def test_a_ruleset_deleted_while_the_engine_loads_is_contained(lab: Lab, tmp_path: Path) -> None:
    """`table inet medvault` deleted 2 s into a 60 s engine load: `breached` within 5 s, exit 3, and the
    service never came up."""
    run = _launch(lab, tmp_path, delay_s=60)
    try:
        _wait_for(lambda: _engine_loading(lab, run), 90, run)
        assert _state(lab) == "ok", run.tail()
        time.sleep(2)
        sh("ip", "netns", "exec", lab.host, "nft", "delete", "table", "inet", "medvault")
        deleted = time.monotonic()
        _wait_for(lambda: _state(lab) == "breached", 5, run)
        assert time.monotonic() - deleted < 5
        assert run.process.wait(timeout=60) == 3, run.tail()
        log = run.log.read_text()
        assert "ISOLATION BREACH" in log and "MedVault is up" not in log
    finally:
        _stop(run)
        run.cli("isolation", "reset", "--yes")
