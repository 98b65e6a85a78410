"""The gateway's workload sandbox for the benchmarks (as root): what `medvault up` runs the gateway in,
less the zone's network namespace.

`gateway_sandbox()` asks a dry-run `Isolation` for the argv prefix the supervisor gives the gateway
(`Isolation.gateway_prefix`: bubblewrap with its mount, PID, IPC and UTS namespaces, the seccomp filter,
setpriv to the dmz user without capabilities), after exporting the filter and sharing the data directory
as `up` and the supervisor do; it then drops the leading `ip netns exec ZONE`, so that the gateway stays
on the root namespace's loopback next to the fake engine and wrk. Nothing but the benchmark's own
directory changes: no namespace, firewall rule, cgroup or user is created.
"""

from __future__ import annotations

import os
from pathlib import Path

from medvault.isolation import IsolationPolicy, build_isolation
from medvault.isolation._seccomp import export

# Ids no account on the machine has (a workload needs no passwd entry: `medvault up` resolves names to
# ids before it starts one); two, because the policy refuses one user for both zones.
DMZ_USER, VAULT_USER = "64123:64123", "64124:64124"


def gateway_sandbox(data_dir: Path, database_files: list[Path], shared: list[Path]) -> list[str]:
    """The argv prefix (ending in setpriv's `--`) that runs the gateway as a workload, on this loopback.

    `shared` (the gateway's config and runtime file, in `data_dir/run/`) become readable for the dmz
    user's group only, as the supervisor's `_share` makes them. `data_dir` and every directory above it
    must be traversable for others (a TemporaryDirectory is 0700), as in production.
    """
    policy = IsolationPolicy(dmz_user=DMZ_USER, vault_user=VAULT_USER)
    iso = build_isolation(policy, data_dir=data_dir, dry_run=True)  # dry run: applies no ruleset
    export(data_dir.resolve() / "isolation" / "seccomp.bpf")  # where `up` writes it for exec_prefix
    iso.share_data_dir(database_files)
    gid = iso.zone_user("dmz").gid
    for path in shared:
        os.chown(path, 0, gid)
        path.chmod(0o640)
    prefix = iso.gateway_prefix(database_files)
    netns = ["ip", "netns", "exec", iso.links["dmz"].netns]
    if prefix[: len(netns)] != netns:
        raise RuntimeError(f"the gateway prefix no longer starts with {' '.join(netns)}: {prefix[:6]}")
    return prefix[len(netns) :]


def _parents() -> dict[int, int]:
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:  # exited meanwhile
                continue
            parents[int(entry.name)] = int(stat.rpartition(")")[2].split()[1])
    return parents


def workload_pid(outer_pid: int) -> int:
    """The process the sandbox runs: the deepest descendant of `outer_pid` (bwrap, once the prefix's
    `sh` has exec'ed it; bwrap forks the sandbox's init, which forks the workload)."""
    parents = _parents()
    pid = outer_pid
    while children := [child for child, parent in parents.items() if parent == pid]:
        if len(children) > 1:
            raise RuntimeError(f"process {pid} has several children {children}: which one is the gateway?")
        pid = children[0]
    return pid


def confinement(pid: int) -> dict[str, str]:
    """What /proc says of `pid`'s confinement: seccomp mode (2: filter), no-new-privs, uid, PID namespace
    (compare with this process's); the benchmark checks it before it trusts a sandboxed measurement."""
    fields = dict(
        line.split(":\t", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":\t" in line
    )
    own_ns = os.readlink("/proc/self/ns/pid")
    return {
        "seccomp": fields["Seccomp"].strip(),
        "no_new_privs": fields["NoNewPrivs"].strip(),
        "uid": fields["Uid"].split()[0],
        "own_pid_namespace": str(os.readlink(f"/proc/{pid}/ns/pid") != own_ns),
    }
