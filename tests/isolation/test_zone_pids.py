"""Zone cgroups cap their tasks (`pids.max`): a fork bomb fails inside its zone, not on the host."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from medvault.config import load_settings
from medvault.isolation import IsolationPolicy, _cgroup, build_isolation
from tests.isolation.conftest import Lab, sh

ZONES = ["dmz", "vault"]
# Forks 80 children that sleep, counting the forks the kernel refuses; prints "<started> <refused>".
FORKS = """
import os, time
started = refused = 0
for _ in range(80):
    try:
        pid = os.fork()
    except OSError:
        refused += 1
        continue
    if pid == 0:
        time.sleep(5)
        os._exit(0)
    started += 1
print(started, refused)
"""


def _fake_hierarchy(tmp_path: Path, controllers: str) -> tuple[Path, Path, Path]:
    """A cgroup2 mount in `tmp_path` with the deployment's directories, offering `controllers`."""
    mount = tmp_path / "cg"
    root = mount / _cgroup.subtree_name("mvx")
    for zone in ZONES:
        (root / zone).mkdir(parents=True)
        (root / zone / "cgroup.kill").write_text("")
    for directory in (mount, root):
        (directory / "cgroup.controllers").write_text(controllers)
        (directory / "cgroup.subtree_control").write_text("")
    mountinfo = tmp_path / "mountinfo"
    mountinfo.write_text(f"41 31 0:38 / {mount} rw,relatime - cgroup2 cgroup2 rw\n")
    (tmp_path / "cgroup").write_text("0::/\n")
    return mountinfo, tmp_path / "cgroup", root


def test_pids_max_is_written_for_every_zone(tmp_path: Path) -> None:
    """The pids controller is enabled down to the zones and each zone gets `pids.max`."""
    mountinfo, proc_cgroup, root = _fake_hierarchy(tmp_path, "cpu memory pids")
    cgroups = _cgroup.create("mvx", ZONES, pids_max=4096, mountinfo=mountinfo, proc_cgroup=proc_cgroup)
    assert cgroups is not None
    assert [(root / zone / "pids.max").read_text() for zone in ZONES] == ["4096", "4096"]
    assert (root / "cgroup.subtree_control").read_text() == "+pids"
    assert (root.parent / "cgroup.subtree_control").read_text() == "+pids"


def test_without_the_pids_controller_the_zones_still_get_cgroups_with_a_warning(tmp_path: Path) -> None:
    """Where pids is not offered (bound to cgroup v1) the kill-switch cgroups stay, uncapped, warned of."""
    mountinfo, proc_cgroup, root = _fake_hierarchy(tmp_path, "cpu memory")
    with capture_logs() as logs:
        cgroups = _cgroup.create("mvx", ZONES, pids_max=4096, mountinfo=mountinfo, proc_cgroup=proc_cgroup)
    assert cgroups is not None and not (root / "vault" / "pids.max").exists()
    assert logs[0]["event"] == "zone_pids_unlimited" and "pids controller" in logs[0]["reason"]


def test_the_cap_is_a_setting_with_a_generous_default(tmp_path: Path) -> None:
    """`[isolation] zone_pids_max` sets the cap; the default leaves room for vLLM's threads."""
    assert IsolationPolicy().zone_pids_max == 8192
    config = tmp_path / "medvault.toml"
    config.write_text("[isolation]\nzone_pids_max = 500\n")
    assert load_settings(config, data_dir=tmp_path).isolation.zone_pids_max == 500
    with pytest.raises(ValueError, match="zone_pids_max"):
        IsolationPolicy(zone_pids_max=10)


@pytest.mark.root
@pytest.mark.slow
def test_a_fork_beyond_the_cap_fails_inside_the_zone(lab: Lab) -> None:
    """With a cap of 48, a vault workload starts (control) but its 80 forks are partly refused. On a
    host whose pids controller is not in cgroup v2 (this project's CI machine: cgroup v1), `up` warns
    that the zones run uncapped, as documented, and the workload forks freely."""
    policy = lab.policy.model_copy(update={"zone_pids_max": 48})
    iso = build_isolation(policy, data_dir=lab.data_dir, host_netns=lab.host)
    iso.preflight()
    with capture_logs() as logs:
        iso.up()
    try:
        cgroups = iso._zone_cgroups()
        capped = cgroups is not None and (cgroups.path("vault") / "pids.max").exists()
        out = sh(*iso.exec_prefix("vault"), sys.executable, "-c", FORKS, timeout=60).stdout
        started, refused = map(int, out.split())
        assert started > 0  # the workload itself runs and forks
        if capped:
            assert cgroups is not None and (cgroups.path("vault") / "pids.max").read_text().strip() == "48"
            assert refused > 0 and started < 48
        else:
            assert "zone_pids_unlimited" in [entry["event"] for entry in logs]
            assert refused == 0 and started == 80
    finally:
        iso.down()
