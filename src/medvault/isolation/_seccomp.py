"""The seccomp filter every zone workload runs under: the system calls no workload needs, refused.

Built with libseccomp (through `pyseccomp`), exported once per `up` as classic BPF to a root-owned file,
and loaded by bubblewrap (`--seccomp FD`) just before it runs the workload; the filter then holds for the
workload and everything it starts, and cannot be removed. Anything not named here is allowed: the goal
is to take away kernel attack surface and the ways out that do not go through the zone's network stack,
not to enumerate what Python and llama.cpp call.

Refused with EPERM:
- kernel interfaces no workload needs and an attacker wants: `bpf`, `perf_event_open`, `userfaultfd`,
  the key rings (`keyctl`, `add_key`, `request_key`), module loading, `kexec_*`;
- io_uring, whose socket operations are not seen by seccomp at all;
- every way to change mounts (`mount`, the new mount API, `pivot_root`, `umount2`);
- looking into other processes (`ptrace`, `process_vm_readv`/`writev`, `pidfd_getfd`);
- new namespaces: `setns` always, `unshare` and `clone` with any `CLONE_NEW*` flag. A user namespace
  would hand the workload every capability inside it, and with them nf_tables and veth creation: the
  kernel code that enforces the isolation would become attack surface;
- `socket`/`socketpair` of every address family but `AF_UNIX`, `AF_INET`, `AF_INET6` and `AF_NETLINK`,
  and netlink sockets of any protocol but `NETLINK_ROUTE` (glibc's `getaddrinfo` reads the interface
  addresses through it). So no packet sockets, and no `AF_VSOCK`: on a virtual machine a vsock reaches
  the hypervisor's services without any network namespace in between; the other families (AF_ALG,
  TIPC, CAN, Bluetooth, XDP, ...) are kernel attack surface no workload needs;
- `AF_INET`/`AF_INET6` sockets of any protocol but 0 (the type's default), TCP (6) and UDP (17): asking
  for SCTP, DCCP, L2TP, UDP-Lite or MPTCP would load or reach protocol code no workload uses (the
  kernel autoloads a missing protocol module on the first `socket()`), and raw or ping sockets are
  refused before the kernel looks at capabilities;
- `AF_INET`/`AF_INET6` sockets of any type but `SOCK_STREAM` and `SOCK_DGRAM` (the type's low four
  bits; `SOCK_NONBLOCK`/`SOCK_CLOEXEC` above them may be set): the protocol alone is not enough, since
  `socket(AF_INET, SOCK_PACKET, p)` opens a packet socket in the kernel (the obsolete SOCK_PACKET
  interface), and `SOCK_RAW` with TCP's or UDP's number is a raw socket;
- the host's clock, log, accounting, quota, swap and power: `syslog`, `acct`, `quotactl`,
  `swapon`/`swapoff`, `reboot`, `settimeofday`, `clock_settime`, `adjtimex`/`clock_adjtime` (even a
  read: no workload needs it), `vhangup`, and the legacy `modify_ldt`, `lookup_dcookie`, `nfsservctl`,
  each only where the architecture has it.

`clone3` answers ENOSYS instead: its flags sit in a structure in memory that seccomp cannot read, and
ENOSYS makes glibc fall back to `clone`, whose flags the filter does see. A call made for another
architecture (x86-32 or x32 entry points on x86-64) kills the process, since none of the rules would
apply to its system call numbers. The filter is built only on x86-64 and AArch64, where `clone` takes
its flags first (s390 swaps the first two arguments); elsewhere `build` refuses with an IsolationError
rather than load rules that might compare the wrong argument.

Arguments are compared through masks of their low 32 bits only: the kernel reads `int` arguments from
the low half of the register, so an attacker who sets the high half must not slip past an equality test.
"""

from __future__ import annotations

import errno
import os
import socket
from pathlib import Path
from typing import Any

from medvault.errors import IsolationError

DENIED = (
    "bpf",
    "perf_event_open",
    "userfaultfd",
    "keyctl",
    "add_key",
    "request_key",
    "init_module",
    "finit_module",
    "delete_module",
    "kexec_load",
    "kexec_file_load",
    "io_uring_setup",
    "io_uring_enter",
    "io_uring_register",
    "mount",
    "umount2",
    "pivot_root",
    "move_mount",
    "open_tree",
    "fsopen",
    "fsconfig",
    "fsmount",
    "fspick",
    "mount_setattr",
    "ptrace",
    "process_vm_readv",
    "process_vm_writev",
    "pidfd_getfd",
    "setns",
    "syslog",
    "acct",
    "quotactl",
    "quotactl_fd",
    "swapon",
    "swapoff",
    "reboot",
    "settimeofday",
    "clock_settime",
    "adjtimex",
    "clock_adjtime",
    "vhangup",
    "modify_ldt",
    "lookup_dcookie",
    "nfsservctl",
)
# Every namespace flag clone() can take. CLONE_NEWTIME (0x80) only exists for unshare() and clone3():
# in clone()'s first argument those low bits are the exit signal.
CLONE_NEW = {
    "CLONE_NEWNS": 0x00020000,
    "CLONE_NEWCGROUP": 0x02000000,
    "CLONE_NEWUTS": 0x04000000,
    "CLONE_NEWIPC": 0x08000000,
    "CLONE_NEWUSER": 0x10000000,
    "CLONE_NEWPID": 0x20000000,
    "CLONE_NEWNET": 0x40000000,
}
CLONE_NEWTIME = 0x00000080
_LOW32 = 0xFFFFFFFF
# Address families below AF_NETLINK (16) other than AF_UNIX (1), AF_INET (2) and AF_INET6 (10); every
# family from AF_PACKET (17) up is refused by one "greater or equal" rule.
_REFUSED_LOW_FAMILIES = (*range(3, 10), *range(11, 16))
_FIRST_REFUSED_HIGH_FAMILY = socket.AF_PACKET
# IP protocols other than 0 (the type's default), TCP (6) and UDP (17), compared for AF_INET and
# AF_INET6: each low value by itself, everything from 18 up by one "greater or equal" rule.
_ALLOWED_IP_PROTOCOLS = (0, socket.IPPROTO_TCP, socket.IPPROTO_UDP)
_REFUSED_LOW_IP_PROTOCOLS = tuple(p for p in range(1, socket.IPPROTO_UDP) if p not in _ALLOWED_IP_PROTOCOLS)
_FIRST_REFUSED_HIGH_IP_PROTOCOL = socket.IPPROTO_UDP + 1
# Socket types other than SOCK_STREAM and SOCK_DGRAM, refused for AF_INET and AF_INET6: the kernel reads
# the type from the low four bits (SOCK_TYPE_MASK) and only the SOCK_NONBLOCK/SOCK_CLOEXEC flags above.
_SOCK_TYPE_MASK = 0xF
_REFUSED_IP_TYPES = tuple(
    t for t in range(_SOCK_TYPE_MASK + 1) if t not in (socket.SOCK_STREAM, socket.SOCK_DGRAM)
)
# Netlink protocols are 0..31 (MAX_LINKS; the kernel refuses higher ones): any of the low five bits set
# means a protocol other than NETLINK_ROUTE (0).
_NETLINK_PROTOCOL_BITS = tuple(1 << bit for bit in range(5))


def build() -> Any:
    """The filter, a `pyseccomp.SyscallFilter`: allow by default, the rules above, foreign arches killed."""
    import pyseccomp as sc  # loads libseccomp through ctypes: only where a filter is actually built

    def masked(arg: int, mask: int, value: int) -> Any:
        return sc.Arg(arg, sc.MASKED_EQ, mask, value)

    check_arch(sc.system_arch())
    deny = sc.ERRNO(errno.EPERM)
    flt = sc.SyscallFilter(sc.ALLOW)
    flt.set_attr(sc.Attr.ACT_BADARCH, sc.KILL_PROCESS)
    for name in DENIED:
        if sc.resolve_syscall(sc.Arch.NATIVE, name) < 0:
            continue  # not a system call on this architecture, so nothing can call it
        flt.add_rule(deny, name)
    for flag in CLONE_NEW.values():
        flt.add_rule(deny, "clone", masked(0, flag, flag))
    for flag in (*CLONE_NEW.values(), CLONE_NEWTIME):
        flt.add_rule(deny, "unshare", masked(0, flag, flag))
    flt.add_rule(sc.ERRNO(errno.ENOSYS), "clone3")
    for call in ("socket", "socketpair"):
        for family in _REFUSED_LOW_FAMILIES:
            flt.add_rule(deny, call, masked(0, _LOW32, family))
        # On the whole register: a value with the high half set is refused too (fails closed).
        flt.add_rule(deny, call, sc.Arg(0, sc.GE, _FIRST_REFUSED_HIGH_FAMILY))
        for bit in _NETLINK_PROTOCOL_BITS:
            flt.add_rule(deny, call, masked(0, _LOW32, socket.AF_NETLINK), masked(2, bit, bit))
        for family in (socket.AF_INET, socket.AF_INET6):
            is_family = masked(0, _LOW32, family)
            for protocol in _REFUSED_LOW_IP_PROTOCOLS:
                flt.add_rule(deny, call, is_family, masked(2, _LOW32, protocol))
            # On the whole register, as for the families: a protocol with the high half set fails closed.
            flt.add_rule(deny, call, is_family, sc.Arg(2, sc.GE, _FIRST_REFUSED_HIGH_IP_PROTOCOL))
            for kind in _REFUSED_IP_TYPES:
                flt.add_rule(deny, call, is_family, masked(1, _SOCK_TYPE_MASK, kind))
    return flt


def check_arch(arch: int) -> None:
    """Refuse to build the filter for any architecture but x86-64 and AArch64 (see the module docstring)."""
    import pyseccomp as sc

    if arch not in (sc.Arch.X86_64, sc.Arch.AARCH64):
        raise IsolationError(
            f"the workload seccomp filter is written for x86-64 and AArch64 only, not for this machine's "
            f"architecture (libseccomp token {arch:#x}); run MedVault on one of those"
        )


def export(path: Path) -> Path:
    """Write the filter as BPF to `path` (root's, mode 0600, replaced atomically) and return `path`."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o755)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        with os.fdopen(fd, "wb") as out:
            build().export_bpf(out)
        tmp.replace(path)
    except (OSError, RuntimeError) as exc:  # RuntimeError: pyseccomp found no libseccomp
        tmp.unlink(missing_ok=True)
        raise IsolationError(
            f"cannot write the workload seccomp filter to {path}: {exc}; install the Debian package "
            "libseccomp2"
        ) from exc
    return path
