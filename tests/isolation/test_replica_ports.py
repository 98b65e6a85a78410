"""Two `command` replicas in the vault zone, which share its namespace and user: `medvault up` counts each
ready only when it listens on its port itself, and a replica that took its sibling's port is a breach."""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from pathlib import Path

import pytest

from medvault.supervisor._ports import process_tree, read_listeners, socket_inodes
from medvault.supervisor._process import workload_pids
from tests.isolation.conftest import ENGINE_PORT, Lab, Up, launch, sh
from tests.supervisor.test_ports import SERVE

pytestmark = [pytest.mark.root, pytest.mark.slow]

SIBLING_PORT = ENGINE_PORT + 1


def _config(lab: Lab, first: list[str], second: list[str]) -> str:
    """The lab's settings with two vault ports and model `pair` served by two command replicas."""
    base = lab.toml().replace(
        f"vault_ports = [{ENGINE_PORT}]", f"vault_ports = [{ENGINE_PORT}, {SIBLING_PORT}]"
    )
    replicas = "".join(
        f'\n  [[models.replicas]]\n  kind = "command"\n  argv = {json.dumps(argv)}\n  startup_timeout_s = 60'
        for argv in (first, second)
    )
    return base + '\n[[models]]\nid = "pair"\n' + replicas + "\n"


def _engine(delay: float, *taken: int | str) -> list[str]:
    """A replica's argv: after `delay` s it serves on its own address and port, and on `taken` ports too
    (a port written "+N" is tried only once its owner listens there)."""
    return [sys.executable, "-c", SERVE, "{host}", str(delay), "{port}", *map(str, taken)]


def _engines(lab: Lab) -> dict[str, dict[str, object]]:
    """The engines `up` records, by name."""
    state = json.loads((lab.data_dir / "run" / "supervisor.json").read_text())
    return {p["name"]: p for p in state["processes"] if p["name"].startswith("engine ")}


def _start(lab: Lab, tmp: Path, first: list[str], second: list[str]) -> Up:
    config = tmp / "medvault.toml"
    config.write_text(_config(lab, first, second))
    return launch(lab, config, tmp / "up.log")


def _wait_up(up: Up) -> None:
    deadline = time.monotonic() + 90
    while "MedVault is up" not in up.log.read_text():
        assert up.process.poll() is None and time.monotonic() < deadline, up.tail()
        time.sleep(0.3)


def _assert_breach_naming_replica_1(
    up: Up, code: int, status: dict[str, dict[str, str]], left: list[str]
) -> None:
    out = up.log.read_text()
    assert code == 3, out[-3000:]
    assert "ISOLATION BREACH" in out and "engine pair#1: its port " in out, out[-3000:]
    assert f":{SIBLING_PORT} is held by pid " in out and "of engine pair#0" in out, out[-3000:]
    assert status["isolation"]["state"] == "breached" and left == []


def _breach_outcome(lab: Lab, up: Up) -> tuple[int, dict[str, dict[str, str]], list[str]]:
    """Once `up` exits: its status, `status --json`, and the processes left in the (cut) vault zone."""
    try:
        code = up.process.wait(timeout=120)
        status = json.loads(up.cli("status", "--json").stdout)
        left = sh("ip", "netns", "pids", lab.policy.zone_netns("vault")).stdout.split()
    finally:
        if up.process.poll() is None:
            up.process.kill()
        up.cli("isolation", "reset", "--yes")
    return code, status, left


def test_honest_replicas_are_each_verified_on_their_own_port(lab: Lab, tmp_path: Path) -> None:
    """Control: two honest replicas come up; the listener on each vault port is held by that replica's own
    process tree and not by its sibling's, and the running watch finds nothing for several rounds."""
    up = _start(lab, tmp_path, _engine(0), _engine(0))
    try:
        _wait_up(up)
        engines = _engines(lab)
        assert sorted(engines) == ["engine pair#0", "engine pair#1"]
        assert all(e["ready"] for e in engines.values()), engines
        listeners = read_listeners(lab.policy.zone_netns("vault"))
        for name, port, sibling in (("pair#0", ENGINE_PORT, "pair#1"), ("pair#1", SIBLING_PORT, "pair#0")):
            inode = next(lst.inode for lst in listeners if lst.port == port)
            own = socket_inodes(process_tree(int(str(engines[f"engine {name}"]["pid"]))))
            other = socket_inodes(process_tree(int(str(engines[f"engine {sibling}"]["pid"]))))
            assert inode in own and inode not in other, name
        time.sleep(2)  # four watch rounds
        assert up.process.poll() is None, up.tail()
    finally:
        up.process.terminate()
        code = up.process.wait(timeout=60)
        up.cli("isolation", "reset", "--yes")
    assert code == 0, up.tail()


def test_replica_that_takes_its_siblings_port_is_a_breach(lab: Lab, tmp_path: Path) -> None:
    """Replica 0 also binds replica 1's port before replica 1 starts (and answers like an engine there):
    `up` stops with status 3 (the kill switch), naming replica 1, its port and replica 0 as the holder,
    and no process is left in the vault zone."""
    up = _start(lab, tmp_path, _engine(0, SIBLING_PORT), _engine(3))
    _assert_breach_naming_replica_1(up, *_breach_outcome(lab, up))


def test_replica_that_takes_a_crashed_siblings_port_is_a_breach(lab: Lab, tmp_path: Path) -> None:
    """Replica 0 keeps trying to bind replica 1's port: harmless while replica 1 holds it (the service stays
    up, control), but once replica 1 crashes it gets the port before the restart, and `up` stops with
    status 3 naming replica 1, its port and replica 0."""
    # "+": the thief waits for replica 1 to listen first (else, started first, it may simply win the port
    # before replica 1 starts: the other test's case).
    up = _start(lab, tmp_path, _engine(0, f"+{SIBLING_PORT}"), _engine(0))
    try:
        _wait_up(up)
        time.sleep(2)  # four watch rounds with the thief retrying
        assert up.process.poll() is None, up.tail()
        victim = int(str(_engines(lab)["engine pair#1"]["pid"]))
        for pid in workload_pids(victim):
            os.kill(pid, signal.SIGKILL)
    except BaseException:
        up.process.kill()
        raise
    _assert_breach_naming_replica_1(up, *_breach_outcome(lab, up))
