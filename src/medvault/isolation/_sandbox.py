"""The bubblewrap sandbox around each zone workload: its own mount, PID, IPC and UTS namespaces.

The chain a workload starts through (built by `Isolation.exec_prefix`):

    sh (joins the zone cgroup) -> ip netns exec ZONE -> sh (opens the seccomp filter on fd 3)
        -> bwrap ... -> setpriv (zone user, no capabilities, no-new-privs) -> the workload

bwrap runs as root in the zone's network namespace (it never unshares the network: the zone is the
network), builds a filesystem from nothing but what `Sandbox` names, loads the seccomp filter and runs
`setpriv`, which becomes the zone user exactly as without a sandbox. bwrap keeps only the capabilities
setpriv needs for that (CAP_SETUID, CAP_SETGID, CAP_SETPCAP) and setpriv drops them.

What a workload sees:
- read-only: `/usr` (and the merged-/usr links `/bin`, `/lib`, ...), the few `/etc` files the dynamic
  loader and glibc's resolver read, the interpreter (`sys.prefix`, `sys.base_prefix`) and the medvault
  package, plus the caller's `read_only` paths (model files, the data directory) where they exist;
- writable: the caller's `writable` paths only (the gateway's database directory);
- devices: the caller's `devices` only, which must be NVIDIA GPU nodes (`/dev/nvidiaN`, `/dev/nvidiactl`,
  `/dev/nvidia-uvm*`): a GPU engine sees exactly its own GPUs, a CPU engine none;
- private and empty: `/tmp` and `/dev/shm` (world-writable, sticky), `/run`; a minimal `/dev`; its own
  `/proc`, which shows only the sandbox's processes.
No host socket is reachable because no host directory that could hold one is mounted: not `/run`,
`/var/run`, `/tmp`, `/dev/log`, D-Bus, nscd or systemd-resolved.

Bind order: a path is mounted after every path that contains it, so a read-only directory inside a
writable one (`run/` inside the data directory) stays read-only, and the other way round.

Fail closed: `--die-with-parent` kills the sandbox's init when bwrap's own parent (the supervisor; the
shells and `ip` before bwrap exec, they do not fork) dies, and when the init of a PID namespace dies the
kernel kills every process in it. bwrap does not pass signals on, so stopping a workload (SIGTERM to
bwrap) ends the whole sandbox at once.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import medvault
from medvault.errors import IsolationError

SECCOMP_FD = 3
# Opens the filter (named by $0) on fd 3 for bwrap's --seccomp, then becomes bwrap.
_OPEN_FILTER = f'exec "$@" {SECCOMP_FD}<"$0"'
# Empty tmpfs mounts, world-writable and sticky like the host's (mount points, not files in them).
_PRIVATE_TMP = ("/tmp", "/dev/shm")  # noqa: S108
_PRIVATE_MOUNTS = ("/usr", "/proc", "/dev", "/run", *_PRIVATE_TMP)
_EMPTY_MOUNTS = ("/run", *_PRIVATE_TMP)
_MERGED_USR = ("bin", "sbin", "lib", "lib32", "lib64", "libx32")
# What glibc reads from /etc in a workload: the loader's cache (without it libraries in multiarch
# directories are not found), and what name resolution consults (the zone's own resolv.conf, which
# `ip netns exec` mounts over /etc/resolv.conf). Missing ones are skipped.
ETC_FILES = ("ld.so.cache", "nsswitch.conf", "host.conf", "hosts", "gai.conf", "resolv.conf")
# setpriv needs these to change uid and gid, clear the groups and empty the bounding set; it drops them.
_KEPT_CAPS = ("CAP_SETUID", "CAP_SETGID", "CAP_SETPCAP")
# The only device nodes a workload may be given: one GPU each, and the driver's control and memory nodes.
_GPU_DEVICE = re.compile(r"^/dev/(nvidia[0-9]+|nvidiactl|nvidia-uvm|nvidia-uvm-tools)$")


@dataclass(frozen=True)
class Sandbox:
    """What one workload may see and write, and the seccomp filter it runs under."""

    seccomp: Path
    hostname: str
    read_only: tuple[Path, ...] = ()
    writable: tuple[Path, ...] = ()
    # The caller's working directory, kept (created empty where no bind provides it) so that relative
    # paths in argv and config (a relative data_dir, template_dirs, gguf) mean inside what they mean
    # outside.
    workdir: Path = Path("/")
    devices: tuple[Path, ...] = ()

    def argv(self, root: Path = Path("/")) -> list[str]:
        """The argv prefix (ending in `--`) that runs a command in this sandbox; `root` is the host's
        root directory, read only to mirror its merged-/usr links (a seam for tests).

        Raises `IsolationError` for a bind that would show a place where host sockets live, and for a
        device that is not an NVIDIA GPU node.
        """
        for path in (*self.read_only, *self.writable):
            _refuse_socket_places(Path(path).resolve())
        for device in self.devices:
            if not _GPU_DEVICE.match(str(device)):
                raise IsolationError(
                    f"a workload may be given GPU device nodes only, not {device}; fix: name GPUs by index "
                    "in the replica's `gpus`"
                )
        binds = _binds(runtime_paths(), self.read_only, self.writable)
        etc = [Path("/etc") / name for name in ETC_FILES]
        return [
            "sh",
            "-c",
            _OPEN_FILTER,
            str(self.seccomp),
            "bwrap",
            *_namespaces(self.hostname),
            *_system_view(root),
            *_directories([*etc, *(path for _, path in binds)], self.workdir.resolve()),
            *(arg for path in etc for arg in ("--ro-bind-try", str(path), str(path))),
            *(arg for flag, path in binds for arg in (flag, str(path), str(path))),
            *(arg for device in self.devices for arg in ("--dev-bind", str(device), str(device))),
            "--seccomp",
            str(SECCOMP_FD),
            "--chdir",
            str(self.workdir.resolve()),
            "--",
        ]


# Where host sockets live (`/dev/log`, D-Bus, nscd, systemd-resolved, X11, anything under /tmp): a bind
# of one of these, of anything inside the kernel's own trees, or of a directory containing one (`/`,
# `/var`) would show them to the workload, read-only or not (connect() needs no write access).
_SOCKET_PLACES = tuple(
    Path(p)
    for p in ("/tmp", "/run", "/var/run", "/var/tmp", "/dev", "/proc", "/sys")  # noqa: S108 — refused, not used
)
_KERNEL_TREES = tuple(Path(p) for p in ("/run", "/var/run", "/dev", "/proc", "/sys"))


def _refuse_socket_places(path: Path) -> None:
    if any(place.is_relative_to(path) for place in _SOCKET_PLACES) or any(
        path.is_relative_to(tree) for tree in _KERNEL_TREES
    ):
        raise IsolationError(
            f"a workload would see {path}, where host sockets live; fix: keep the data directory, the "
            "database, models and template directories in directories of their own (e.g. under /srv or "
            "/var/lib), not /, /tmp, /run, /var or /dev themselves"
        )


def _namespaces(hostname: str) -> list[str]:
    flags = ["--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try"]
    flags += ["--hostname", hostname, "--die-with-parent", "--new-session", "--cap-drop", "ALL"]
    for cap in _KEPT_CAPS:
        flags += ["--cap-add", cap]
    return flags


def _system_view(root: Path) -> list[str]:
    """`/usr`, the merged-/usr links as the host has them, and the private mounts."""
    argv = ["--ro-bind", "/usr", "/usr"]
    for name in _MERGED_USR:
        host = root / name
        if host.is_symlink():
            argv += ["--symlink", str(host.readlink()), f"/{name}"]
        elif host.is_dir():  # an unmerged system: the directory itself
            argv += ["--ro-bind", f"/{name}", f"/{name}"]
    argv += ["--proc", "/proc", "--dev", "/dev", "--tmpfs", "/run"]
    for private in _PRIVATE_TMP:
        argv += ["--perms", "1777", "--tmpfs", private]
    return argv


def runtime_paths() -> list[Path]:
    """What running MedVault's Python needs: the venv, the base interpreter, and the medvault package's
    directory when it is not inside either (an editable install)."""
    package_root = Path(medvault.__file__).resolve().parents[1]
    prefixes = {
        Path(p).resolve() for p in (sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix)
    }
    return sorted(prefixes | {package_root})


def _binds(
    system: Iterable[Path], read_only: Iterable[Path], writable: Iterable[Path]
) -> list[tuple[str, Path]]:
    """(bwrap flag, path) for each bind, each path after every path that contains it (deeper mounts
    win); a path that is both read-only and writable is writable. Paths are bound where they resolve.

    A read-only path is bound if it exists when the workload starts (the TLS directory is written just
    before the gateway starts); a writable one must exist.
    """
    rw = {Path(p).resolve() for p in writable}
    ro = {Path(p).resolve() for p in (*system, *read_only)} - rw
    ordered = sorted(ro | rw, key=lambda p: (len(p.parts), str(p)))
    return [
        ("--bind" if path in rw else "--ro-bind-try", path)
        for path in ordered
        if path in rw or not path.is_relative_to("/usr")  # /usr is already there, read-only
    ]


def _directories(paths: Iterable[Path], workdir: Path) -> list[str]:
    """`--dir` (mode 0755) for the directories leading to `paths`, and for `workdir` itself, that no
    mount provides: bwrap would create them 0700, which the zone user could not traverse."""
    targets = set(paths)
    private = {Path(p) for p in _PRIVATE_MOUNTS}
    # Inside the empty tmpfs mounts (a data directory under /tmp, say) the way to a bind must be made
    # too; inside /usr, /proc, /dev and the binds themselves nothing can or need be.
    fixed = {path for path in private if str(path) not in _EMPTY_MOUNTS} | targets
    wanted = [parent for path in targets for parent in path.parents[:-1]]  # without "/"
    if workdir != Path("/"):
        wanted.append(workdir)
    argv: list[str] = []
    for directory in sorted(set(wanted), key=lambda p: (len(p.parts), str(p))):
        if directory not in private and not any(directory.is_relative_to(mount) for mount in fixed):
            argv += ["--perms", "0755", "--dir", str(directory)]
    return argv
