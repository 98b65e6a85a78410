"""What `/proc` says about the processes in a zone: the sandbox checks of `medvault verify`.

Every process in a zone's network namespace is either a bubblewrap helper (bwrap outside the sandbox,
and bwrap as the sandbox's init: root, started by the supervisor) or a workload, which must show all of:
its own mount, PID, IPC and UTS namespaces (not those of the host, that is of the verifying process and
of pid 1), the zone's network namespace, the zone user's uid and gid with no supplementary groups, no
capabilities in any set, no-new-privs, and seccomp filter mode with at least one filter where the
kernel shows the count (`Seccomp_filters`, Linux 5.9 on). A process can add filters but never remove
one, and bubblewrap loads ours before it starts the workload, so a count of at least one is the filter
the workload started under. A process that fails any of them (an admin's `ip netns exec` shell, a
workload started without the sandbox) fails `verify` with the reason.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from medvault.isolation import _sys
from medvault.isolation._workload import WorkloadUser

NAMESPACES = ("mnt", "pid", "ipc", "uts")
_CAPABILITY_SETS = ("CapEff", "CapPrm", "CapBnd", "CapAmb")
_CAP_SYS_PTRACE = 19


@dataclass(frozen=True)
class ZoneFacts:
    """What every workload of one zone must show."""

    zone: str
    netns_file: Path  # /run/netns/<name>: its inode is the namespace's
    user: WorkloadUser


def host_namespaces(proc: Path = Path("/proc")) -> dict[str, set[int]]:
    """The inodes of the host's namespaces of each kind: the caller's own (`verify` runs where the
    supervisor runs) and pid 1's where it may be read (not in every container)."""
    found: dict[str, set[int]] = {kind: set() for kind in NAMESPACES}
    for who in ("self", "1"):
        with contextlib.suppress(PermissionError):
            for kind in NAMESPACES:
                found[kind].add(_ns_inode(proc / who, kind))
    return found


def may_read_every_process(proc: Path = Path("/proc")) -> bool:
    """Whether the caller holds CAP_SYS_PTRACE, without which the namespaces of another user's process
    (every workload's) cannot be read, so the listing of a zone's processes would miss them."""
    return bool(int(_status(proc / "self")["CapEff"], 16) >> _CAP_SYS_PTRACE & 1)


def workload_problems(
    facts: ZoneFacts, pids: list[int], host: dict[str, set[int]], proc: Path = Path("/proc")
) -> tuple[int, list[str]]:
    """(workloads checked, problems) for the processes `pids` of one zone; helpers are not counted."""
    bwrap = shutil.which("bwrap")
    helper_exe = os.path.realpath(bwrap) if bwrap else None
    checked, problems = 0, []
    for pid in pids:
        try:
            found = _problems(proc / str(pid), facts, host, helper_exe)
        except FileNotFoundError:
            continue  # exited while being looked at
        if found is None:
            continue
        checked += 1
        if found:
            problems.append(f"{facts.zone}: pid {pid} ({_sys.process_name(pid)}): {'; '.join(found)}")
    return checked, problems


def _problems(
    process: Path, facts: ZoneFacts, host: dict[str, set[int]], helper_exe: str | None
) -> list[str] | None:
    """What is wrong with one process; None when it is a bubblewrap helper."""
    status = _status(process)
    uids = status["Uid"].split()
    if helper_exe is not None and uids[0] == "0" and os.readlink(process / "exe") == helper_exe:
        return None
    found = [
        f"shares the host's {kind} namespace" for kind in NAMESPACES if _ns_inode(process, kind) in host[kind]
    ]
    if _ns_inode(process, "net") != facts.netns_file.stat().st_ino:
        found.append("is not in its zone's network namespace")
    user = facts.user
    if uids != [str(user.uid)] * 4 or status["Gid"].split() != [str(user.gid)] * 4:
        found.append(f"runs as uid {uids[0]} gid {status['Gid'].split()[0]}, not {user.uid}:{user.gid}")
    if status["Groups"].split():
        found.append(f"has supplementary groups {status['Groups'].strip()}")
    found += [
        f"{name} is {status[name].strip()}, not 0" for name in _CAPABILITY_SETS if int(status[name], 16)
    ]
    if status["NoNewPrivs"].strip() != "1":
        found.append("may gain privileges (NoNewPrivs is 0)")
    if status.get("Seccomp", "0").strip() != "2":
        found.append("runs without the seccomp filter")
    elif int(status.get("Seccomp_filters", "1")) < 1:  # absent before Linux 5.9
        found.append("shows seccomp filter mode without a filter (Seccomp_filters is 0)")
    return found


def _status(process: Path) -> dict[str, str]:
    return dict(line.split(":", 1) for line in (process / "status").read_text().splitlines() if ":" in line)


def _ns_inode(process: Path, kind: str) -> int:
    return os.stat(process / "ns" / kind).st_ino
