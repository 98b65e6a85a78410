"""Proof that a supervisor runs: the locks it holds for its whole run, and its heartbeat.

Exclusive `flock` locks, taken before anything is built or cleaned up:

- one per data directory (`DATA_DIR/run/supervisor.lock`): one supervisor per database and state;
- with isolation, one per `isolation.netns_prefix` on a host-wide path (`/run/medvault/<prefix>.lock`):
  two data directories may share a prefix, and the prefix names the namespaces and cgroups that an
  `up` would otherwise tear down as "leftovers" of a crashed run;
- with isolation, one per host role (`/run/medvault/host-<netns or root>.lock`): the zone links
  (`mv-dmz`, `mv-vault`) and the firewall tables are fixed names in the host role, so two instances with
  different prefixes in one host role would still tear down each other's links and rules.

The kernel drops a flock when its holder dies, SIGKILL included, so a lock that is free means no
supervisor is left, and leftovers may be cleaned. Whether a lock is held is read from `/proc/locks`,
which takes nothing: `status` never competes with an `up` starting at the same moment.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import threading
from dataclasses import dataclass
from pathlib import Path

import structlog

from medvault.errors import MedVaultError
from medvault.isolation._state import HEARTBEAT_INTERVAL_S, beat, stop_beating

log = structlog.get_logger("medvault.supervisor")

PREFIX_LOCK_DIR = Path("/run/medvault")


class InstanceRunning(MedVaultError):
    """Another supervisor holds a lock this one needs: it refuses and touches nothing."""


@dataclass(frozen=True)
class Holder:
    """What a lock file says about the supervisor that took it."""

    pid: int | None
    data_dir: str


def data_dir_lock(data_dir: Path) -> Path:
    return data_dir / "run" / "supervisor.lock"


def prefix_lock(prefix: str) -> Path:
    return PREFIX_LOCK_DIR / f"{prefix}.lock"


def host_role_lock(host_netns: str | None) -> Path:
    return PREFIX_LOCK_DIR / f"host-{host_netns or 'root'}.lock"


def isolation_locks(prefix: str, host_netns: str | None) -> list[tuple[Path, str]]:
    """The host-wide locks an isolated run takes, each with the words that name it in a refusal."""
    where = f"namespace {host_netns}" if host_netns else "the root namespace"
    return [
        (prefix_lock(prefix), f"netns prefix {prefix!r}"),
        (host_role_lock(host_netns), f"host role {where}"),
    ]


def first_holder(locks: list[tuple[Path, str]]) -> str | None:
    """A description of the first of `locks` some process holds (what, pid, data dir), or None."""
    for path, what in locks:
        if lock_held(path):
            holder = read_holder(path)
            return (
                f"{what} (pid {holder.pid if holder else 'unknown'}, "
                f"data dir {holder.data_dir if holder else 'unknown'})"
            )
    return None


class InstanceLock:
    """An exclusive, non-blocking flock on `path`, written with the holder's pid and data directory."""

    def __init__(self, path: Path, what: str) -> None:
        self.path = path
        self._what = what  # names the lock in the refusal: "data directory …", "netns prefix …"
        self._fd: int | None = None

    def acquire(self, data_dir: Path) -> None:
        """Take the lock, or raise `InstanceRunning` naming the holder's pid and data directory."""
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o755)
        # 0600 and O_NOFOLLOW: nobody else can hold a (shared) lock on it to keep MedVault from starting,
        # and a link planted in its place is refused.
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            holder = read_holder(self.path)
            raise InstanceRunning(
                f"MedVault already runs for {self._what} (pid {holder.pid if holder else 'unknown'}, "
                f"data dir {holder.data_dir if holder else 'unknown'}); nothing was changed. Stop it with "
                "`medvault down` (with its config); one host role holds one isolated MedVault"
            ) from None
        record = json.dumps({"pid": os.getpid(), "data_dir": str(data_dir.resolve())}).encode()
        os.ftruncate(fd, 0)
        os.pwrite(fd, record, 0)
        self._fd = fd

    def release(self) -> None:
        """Drop the lock. The file stays: removing it would let two runs lock two different files."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def read_holder(path: Path) -> Holder | None:
    """The pid and data directory written into a lock file, or None if there is none to read."""
    try:
        record = json.loads(path.read_text())
        return Holder(pid=int(record["pid"]), data_dir=str(record["data_dir"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def lock_held(path: Path) -> bool:
    """Whether any process holds a flock on `path` (read from /proc/locks; nothing is taken)."""
    try:
        st = os.stat(path)
        table = Path("/proc/locks").read_text()
    except OSError:
        return False
    wanted = (os.major(st.st_dev), os.minor(st.st_dev), st.st_ino)
    for line in table.splitlines():
        fields = line.split()
        # "1: FLOCK  ADVISORY  WRITE 4242 fd:01:123456 0 EOF"; lines with "->" are waiters, not holders.
        if len(fields) < 6 or fields[1] != "FLOCK":
            continue
        major, minor, inode = fields[5].split(":")
        if (int(major, 16), int(minor, 16), int(inode)) == wanted:
            return True
    return False


class Heartbeat:
    """A thread that refreshes the isolation heartbeat every second until `stop()`.

    A thread, not a task on the supervisor's event loop: a model load or a slow start-up step must not
    make a live supervisor look dead. It dies with the process, which is what the heartbeat proves.
    """

    def __init__(self, data_dir: Path) -> None:
        self._data_dir = data_dir
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="heartbeat", daemon=True)

    def start(self) -> Heartbeat:
        beat(self._data_dir)  # the first beat before anything is built: see isolation/_state.py
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(HEARTBEAT_INTERVAL_S):
            try:
                beat(self._data_dir)
            except OSError as exc:  # a full disk: say so; the state then reads `down`, which is honest
                log.error("heartbeat_failed", error=str(exc))

    def stop(self) -> None:
        """Stop beating and remove the heartbeat (the state left behind is final)."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)
        with contextlib.suppress(OSError):
            stop_beating(self._data_dir)
