"""A cgroup v2 per zone, so that the kill switch kills a zone whole, forkers included.

Killing by pid list (`ip netns pids`, then SIGKILL, repeated) races a process that forks faster than
the loop lists and kills. A cgroup does not: every workload joins its zone's cgroup before it becomes
the zone user (children inherit it, and an unprivileged process cannot leave it), and the kill switch
freezes the cgroup, then writes `cgroup.kill`, which the kernel applies to every member at once,
concurrent forks included.

MedVault only ever touches the subtree it created: `<its own cgroup>/medvault-<netns_prefix>/` with one
child per zone. The path is persisted in the isolation state so that `down` from another process
finds it, and a persisted path is used only if its last component is the expected name. Where no
cgroup v2 hierarchy is mounted, or it is not writable, `create` returns None and the caller falls back
to the pid loop with a warning.

Each zone's cgroup also caps its tasks (`pids.max`, processes and threads): a fork bomb in a zone then
fails inside the zone instead of exhausting the host's pids and starving the supervisor and its monitor.
The pids controller is enabled for the zones where the hierarchy offers it (the one write outside the
subtree: `+pids` in the supervisor's own cgroup's `cgroup.subtree_control`, where it is not on already;
pids is a threaded controller, which the kernel lets a cgroup with processes enable). Where it is not
offered (pids bound to a cgroup v1 hierarchy) the zones run without the cap, with a warning.
No `memory.max`: what an engine needs depends on the model (vLLM holds gigabytes of host memory for
weights being loaded, pinned buffers and CPU swap space), and a wrong cap kills the engine mid-load;
the operator caps the whole service (systemd `MemoryMax=`), see docs/isolation.md.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass
from pathlib import Path

import structlog

log = structlog.get_logger("medvault.isolation.cgroup")

# Joins the cgroup named by $0 (the `cgroup.procs` file), then becomes the rest of the argv.
_JOIN = 'echo $$ > "$0" && exec "$@"'


def subtree_name(netns_prefix: str) -> str:
    """The name of the MedVault-owned cgroup of one deployment."""
    return f"medvault-{netns_prefix}"


def _cgroup2_mount(mountinfo: Path) -> Path | None:
    """The mount point of the cgroup v2 hierarchy (pure v2 or the `unified` one of a hybrid set-up)."""
    with contextlib.suppress(OSError):
        for line in mountinfo.read_text().splitlines():
            fields = line.split()
            separator = fields.index("-")
            if fields[separator + 1] == "cgroup2":
                return Path(fields[4])
    return None


def _own_cgroup(proc_cgroup: Path) -> str | None:
    with contextlib.suppress(OSError):
        for line in proc_cgroup.read_text().splitlines():
            if line.startswith("0::"):
                return line[3:]
    return None


@dataclass(frozen=True)
class ZoneCgroups:
    """The MedVault-created cgroup of one deployment and its per-zone children."""

    root: Path
    zones: tuple[str, ...]

    def path(self, zone: str) -> Path:
        """The cgroup directory of `zone`."""
        return self.root / zone

    def join_prefix(self, zone: str) -> list[str]:
        """argv prefix that moves the command into `zone`'s cgroup before it runs (as root, first)."""
        return ["sh", "-c", _JOIN, str(self.path(zone) / "cgroup.procs")]

    def pids(self) -> list[int]:
        """Every process in any zone cgroup."""
        found: list[int] = []
        for zone in self.zones:
            with contextlib.suppress(FileNotFoundError):
                found += [int(p) for p in (self.path(zone) / "cgroup.procs").read_text().split()]
        return found

    def kill(self, deadline_s: float = 2.0) -> list[int]:
        """Freeze every zone cgroup, kill it through `cgroup.kill`, wait until empty; return survivors.

        Frozen members still die: SIGKILL wakes a frozen task. Once the cgroups are empty the freeze is
        lifted, so that a cgroup reused later does not freeze what joins it.
        """
        present = [z for z in self.zones if self.path(z).is_dir()]
        for control in ("cgroup.freeze", "cgroup.kill"):
            for zone in present:
                _write(self.path(zone) / control, "1")
        deadline = time.monotonic() + deadline_s
        while (left := self.pids()) and time.monotonic() < deadline:
            time.sleep(0.01)
        if not left:  # survivors stay frozen: they can do nothing until someone investigates
            for zone in present:
                _write(self.path(zone) / "cgroup.freeze", "0")
        return left

    def remove(self) -> None:
        """Remove the zone cgroups and the deployment's cgroup (they must be empty: `kill` first)."""
        for directory in [*(self.path(z) for z in self.zones), self.root]:
            try:
                directory.rmdir()
            except FileNotFoundError:
                continue
            except OSError as exc:
                log.warning("cgroup_not_removed", path=str(directory), error=exc.strerror)


def _write(path: Path, value: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.write_text(value)


def create(
    netns_prefix: str,
    zones: list[str],
    *,
    pids_max: int | None = None,
    mountinfo: Path = Path("/proc/self/mountinfo"),
    proc_cgroup: Path = Path("/proc/self/cgroup"),
) -> ZoneCgroups | None:
    """Create the deployment's cgroup under the caller's own, one child per zone, each capped at
    `pids_max` tasks where given; None (with a warning) where cgroup v2 is not mounted or not writable,
    or `cgroup.kill` is missing (kernels before 5.14)."""
    mount, own = _cgroup2_mount(mountinfo), _own_cgroup(proc_cgroup)
    if mount is None or own is None:
        return _unavailable("no cgroup v2 hierarchy is mounted")
    root = mount / own.lstrip("/") / subtree_name(netns_prefix)
    try:
        for directory in (root, *(root / zone for zone in zones)):
            directory.mkdir(exist_ok=True)
    except OSError as exc:
        return _unavailable(f"cannot create {root}: {exc.strerror}")
    cgroups = ZoneCgroups(root, tuple(zones))
    if not (cgroups.path(zones[0]) / "cgroup.kill").exists():
        cgroups.remove()
        return _unavailable("the kernel has no cgroup.kill (Linux 5.14 or later needed)")
    if pids_max is not None:
        limit_tasks(cgroups, pids_max)
    return cgroups


def limit_tasks(cgroups: ZoneCgroups, pids_max: int) -> bool:
    """Cap every zone at `pids_max` tasks; False (with a warning) where the pids controller is not
    offered to the zones or cannot be enabled (they then run without the cap)."""
    try:
        for directory in (cgroups.root.parent, cgroups.root):  # the zones' grandparent, then parent
            if "pids" not in (directory / "cgroup.controllers").read_text().split():
                return _uncapped(f"{directory} is not offered the pids controller (bound to cgroup v1?)")
            control = directory / "cgroup.subtree_control"
            if "pids" not in control.read_text().split():
                control.write_text("+pids")
        for zone in cgroups.zones:
            (cgroups.path(zone) / "pids.max").write_text(str(pids_max))
    except OSError as exc:
        return _uncapped(f"the pids controller cannot be set up under {cgroups.root}: {exc.strerror or exc}")
    return True


def _uncapped(reason: str) -> bool:
    log.warning(
        "zone_pids_unlimited", reason=reason, effect="a fork bomb in a zone could exhaust the host's pids"
    )
    return False


def persisted(path: str | None, netns_prefix: str, zones: list[str]) -> ZoneCgroups | None:
    """The cgroups a run recorded in its state, if the path is one MedVault creates (never another)."""
    if not path:
        return None
    root = Path(path)
    if root.name != subtree_name(netns_prefix) or not (root / "cgroup.procs").is_file():
        return None
    return ZoneCgroups(root, tuple(zones))


def _unavailable(reason: str) -> ZoneCgroups | None:
    """Warn that the zones have no cgroup, and return None (the caller's answer)."""
    log.warning(
        "cgroup_unavailable",
        reason=reason,
        fallback="zone processes are killed by a repeated pid loop, which a fast forker could outpace",
    )
    return None
