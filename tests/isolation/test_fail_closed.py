"""Fail closed without a supervisor: SIGKILL of `medvault up` takes every zone process with it, since each
workload's sandbox dies with its parent and a PID namespace dies with its init. (Its own module: the
sandbox tests' `iso` fixture holds the lab's ingress port, which `up` needs.)"""

from __future__ import annotations

import contextlib
import signal
import time
from pathlib import Path

import pytest

from medvault.isolation import _sys, read_state
from tests.isolation.conftest import Lab, launch

pytestmark = [pytest.mark.root, pytest.mark.slow, pytest.mark.model]
ZONES = ("dmz", "vault")


def test_supervisor_killed_with_sigkill_leaves_no_zone_process(lab: Lab, tmp_path: Path) -> None:
    """`medvault up` with gateway and engine running, then SIGKILL of the supervisor: within 1 s no
    process is left in either zone's network namespace and the zone cgroups are empty."""
    config = tmp_path / "medvault.toml"
    config.write_text(lab.toml())
    run = launch(lab, config, tmp_path / "up.log")
    try:
        run.wait_ready(f"https://127.0.0.1:{lab.policy.ingress.port}/readyz", timeout_s=180)
        netns = [lab.policy.zone_netns(zone) for zone in ZONES]
        assert all(_sys.netns_pids(name) for name in netns), run.tail()
        cgroup = read_state(lab.data_dir).get("cgroup")
        run.process.send_signal(signal.SIGKILL)
        killed = time.monotonic()
        run.process.wait(timeout=5)
        while any(_sys.netns_pids(name) for name in netns) or _cgroup_members(cgroup):
            assert time.monotonic() - killed < 1.0, (
                {name: _sys.netns_pids(name) for name in netns},
                _cgroup_members(cgroup),
            )
            time.sleep(0.02)
    finally:
        if run.process.poll() is None:
            run.process.kill()
            run.process.wait(timeout=10)
        run.cli("down")


def _cgroup_members(root: str | None) -> list[str]:
    """Every pid in the zone cgroups under `root` (none where the run had no cgroups)."""
    if not root:
        return []
    members: list[str] = []
    for zone in ZONES:
        with contextlib.suppress(FileNotFoundError):
            members += (Path(root) / zone / "cgroup.procs").read_text().split()
    return members
