"""The one boundary to the system tools and syscalls isolation needs: `ip`, `nft`, setns, sysctls.

Every failure of a lower layer becomes an `IsolationError` here, with the command and its stderr, so
callers never see `CalledProcessError` or a bare `OSError`. Work inside another network namespace is
done by threads that setns() into it (setns changes only the calling thread), so the calling process
never moves: that is how the monitor stays in the host role while probing from inside every zone.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import subprocess
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

from medvault.errors import IsolationError

T = TypeVar("T")
_CLONE_NEWNET = 0x40000000
_libc = ctypes.CDLL(None, use_errno=True)
TOOLS = ("ip", "nft", "setpriv", "bwrap")


def netns_path(name: str) -> Path:
    return Path("/run/netns") / name


def netns_exists(name: str) -> bool:
    return netns_path(name).exists()


def missing_tools() -> list[str]:
    """System tools isolation needs that are not on PATH."""
    return [tool for tool in TOOLS if shutil.which(tool) is None]


def run(argv: list[str], *, input_text: str | None = None, check: bool = True, timeout: float = 30) -> str:
    """Run a system tool and return its stdout; a failure becomes an IsolationError naming it."""
    try:
        done = subprocess.run(
            argv, input=input_text, capture_output=True, text=True, check=False, timeout=timeout
        )
    except FileNotFoundError as exc:
        raise IsolationError(f"`{argv[0]}` is not installed; install nftables and iproute2") from exc
    except subprocess.TimeoutExpired as exc:
        raise IsolationError(f"`{' '.join(argv)}` did not finish within {timeout} s") from exc
    if check and done.returncode != 0:
        raise IsolationError(f"`{' '.join(argv)}` failed: {done.stderr.strip() or done.stdout.strip()}")
    return done.stdout


def in_role(netns: str | None, argv: list[str]) -> list[str]:
    """Prefix `argv` so it runs in `netns`, or unchanged for the root namespace (None)."""
    return argv if netns is None else ["ip", "netns", "exec", netns, *argv]


def ip(netns: str | None, *args: str, check: bool = True) -> str:
    """`ip [-n NETNS] ARGS`."""
    return run(["ip", *(["-n", netns] if netns else []), *args], check=check)


def enter_netns(name: str) -> None:
    """Move the calling thread (only) into network namespace `name`."""
    fd = os.open(netns_path(name), os.O_RDONLY)
    try:
        if _libc.setns(fd, _CLONE_NEWNET) != 0:
            err = ctypes.get_errno()
            raise IsolationError(f"setns into {name} failed: {os.strerror(err)}")
    finally:
        os.close(fd)


def netns_executor(name: str | None, workers: int, label: str) -> ThreadPoolExecutor:
    """A thread pool whose threads all live in network namespace `name` (None: the caller's)."""
    if name is None:
        return ThreadPoolExecutor(max_workers=workers, thread_name_prefix=label)
    return ThreadPoolExecutor(
        max_workers=workers, thread_name_prefix=label, initializer=enter_netns, initargs=(name,)
    )


def call_in(netns: str | None, work: Callable[[], T]) -> T:
    """Run `work` once in a short-lived thread inside `netns` and return its result."""
    if netns is None:
        return work()
    with netns_executor(netns, 1, f"mv-{netns}") as pool:
        return pool.submit(work).result()


def _sysctl_path(key: str) -> Path:
    return Path("/proc/sys") / key.replace(".", "/")


def read_sysctls(keys: list[str]) -> dict[str, str | None]:
    """Current values of `keys` in the calling thread's namespace (None: the key does not exist)."""
    values: dict[str, str | None] = {}
    for key in keys:
        try:
            values[key] = _sysctl_path(key).read_text().strip()
        except FileNotFoundError:
            values[key] = None
    return values


def write_sysctls(wanted: dict[str, str]) -> None:
    """Set sysctls in the calling thread's namespace; keys that do not exist here are skipped."""
    for key, value in wanted.items():
        path = _sysctl_path(key)
        if not path.exists():
            continue
        try:
            path.write_text(value)
        except OSError as exc:
            raise IsolationError(f"cannot set sysctl {key}={value}: {exc.strerror}") from exc


def netns_pids(name: str, proc: Path = Path("/proc")) -> list[int]:
    """Processes whose network namespace is `name`, read from `proc` as `ip netns pids` does.

    Left out, as `ip` leaves them out: a process that exits while being looked at, and one whose
    namespaces the caller may not read (root without CAP_SYS_PTRACE for another user's process, or a
    process more privileged than root here, such as a container's init; `verify` checks that it holds
    CAP_SYS_PTRACE, with which root reads every process of its user namespace, non-dumpable ones
    included). Any other failure raises IsolationError: a listing with holes would let a check of every
    zone process pass with some of them never looked at. No tool is started, so the kill loop can call
    this every few milliseconds.
    """
    try:
        wanted = netns_path(name).stat()
    except FileNotFoundError:
        return []  # no such namespace, so nothing runs in it
    except OSError as exc:
        raise IsolationError(f"cannot read network namespace {name}: {exc.strerror}") from exc
    try:
        entries = [entry for entry in os.listdir(proc) if entry.isdigit()]
    except OSError as exc:
        raise IsolationError(f"cannot list the processes in {proc}: {exc.strerror}") from exc
    found = []
    for entry in entries:
        try:
            seen = os.stat(proc / entry / "ns" / "net")
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue  # exited meanwhile (a zombie has no namespaces left), or not ours to read (above)
        except OSError as exc:
            raise IsolationError(
                f"cannot read the network namespace of pid {entry} in {proc}: {exc.strerror}"
            ) from exc
        if (seen.st_dev, seen.st_ino) == (wanted.st_dev, wanted.st_ino):
            found.append(int(entry))
    return sorted(found)


def process_name(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return "?"
