"""Zone cgroups: workloads join them, the kill switch empties them whole, and the fallback warns."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from medvault.isolation import _cgroup, _sys
from medvault.isolation._cgroup import ZoneCgroups
from tests.isolation.conftest import Lab

ZONES = ["dmz", "vault"]
# A bounded forker: each round double-forks a sleeper (it is reparented, out of the forker's tree) with
# no pause, 300 rounds at most, so it outpaces a list-then-kill loop but cannot run away.
FORKER = "i=0; while [ $i -lt 300 ]; do (sleep 30 &); i=$((i+1)); done; sleep 30"


def _mountinfo(tmp_path: Path, fstype: str) -> Path:
    mountinfo = tmp_path / "mountinfo"
    mountinfo.write_text(f"41 31 0:38 / {tmp_path / 'cg'} rw,relatime - {fstype} {fstype} rw\n")
    (tmp_path / "cg").mkdir()
    cgroup = tmp_path / "cgroup"
    cgroup.write_text("0::/\n")
    return mountinfo


def test_no_cgroup2_mount_falls_back_with_a_warning(tmp_path: Path) -> None:
    """Without a cgroup v2 hierarchy `create` returns None and warns that the pid loop is the fallback."""
    mountinfo = _mountinfo(tmp_path, "cgroup")
    with capture_logs() as logs:
        assert _cgroup.create("mvx", ZONES, mountinfo=mountinfo, proc_cgroup=tmp_path / "cgroup") is None
    assert logs[0]["event"] == "cgroup_unavailable" and "pid loop" in logs[0]["fallback"]


def test_hierarchy_without_cgroup_kill_is_refused_and_cleaned(tmp_path: Path) -> None:
    """A cgroup2 mount without `cgroup.kill` (an old kernel) falls back, leaving no directory behind."""
    mountinfo = _mountinfo(tmp_path, "cgroup2")
    with capture_logs() as logs:
        assert _cgroup.create("mvx", ZONES, mountinfo=mountinfo, proc_cgroup=tmp_path / "cgroup") is None
    assert "cgroup.kill" in logs[0]["reason"]
    assert list((tmp_path / "cg").iterdir()) == []


def test_persisted_path_is_used_only_when_medvault_named_it(tmp_path: Path) -> None:
    """A recorded cgroup path is trusted only if it is a cgroup named medvault-<prefix>."""
    ours = tmp_path / "medvault-mvx"
    other = tmp_path / "system.slice"
    for directory in (ours, other):
        directory.mkdir()
        (directory / "cgroup.procs").write_text("")
    assert _cgroup.persisted(str(ours), "mvx", ZONES) == ZoneCgroups(ours, tuple(ZONES))
    assert _cgroup.persisted(str(other), "mvx", ZONES) is None
    assert _cgroup.persisted(str(ours), "mvy", ZONES) is None
    assert _cgroup.persisted(None, "mvx", ZONES) is None


def _cgroup_of(pid: int) -> str:
    lines = Path(f"/proc/{pid}/cgroup").read_text().splitlines()
    return next(line[3:] for line in lines if line.startswith("0::"))


def test_kill_switch_leaves_nothing_of_a_fast_forker(lab: Lab) -> None:
    """Forkers in the vault join its cgroup, and after the kill switch neither they nor any of their
    reparented children are left, in the cgroup or in the zone; `reset` removes the cgroups."""
    iso = lab.isolation()
    iso.up()
    cgroups = iso._zone_cgroups()
    if cgroups is None:
        iso.down()
        pytest.skip("no writable cgroup v2 hierarchy on this machine (the pid loop is tested elsewhere)")
    try:
        forkers = [lab.spawn([*iso.exec_prefix("vault"), "sh", "-c", FORKER]) for _ in range(3)]
        deadline = time.monotonic() + 10
        while len(cgroups.pids()) < 100:  # forking in full swing
            assert time.monotonic() < deadline, "the forkers did not fork"
            time.sleep(0.01)
        vault = f"/{_cgroup.subtree_name(lab.policy.netns_prefix)}/vault"
        assert all(_cgroup_of(forker.pid).endswith(vault) for forker in forkers)
        iso.contain("test: fork bomb in the vault")
        assert all(forker.wait(timeout=5) == -9 for forker in forkers)
        time.sleep(0.3)  # a survivor would have forked again by now
        assert cgroups.pids() == [] and _sys.netns_pids(iso.links["vault"].netns) == []
        assert (cgroups.path("vault") / "cgroup.freeze").read_text().strip() == "0"
    finally:
        iso.reset()
    assert not cgroups.root.exists()
