"""Who zone workloads run as, and what of the data directory they may touch.

Workloads (the gateway in the dmz, the engines in the vault) never run as uid 0: a uid-0 process
without capabilities can still write every root-owned file (cron, the venv, the isolation state,
`admin.key`) and signal the supervisor. Each zone has its own user: `isolation.dmz_user` (default
`medvault-gw`) for the gateway and `isolation.vault_user` (default `medvault-inf`) for the engines,
system users `medvault up` creates when missing, or numeric `UID:GID`s. Both run with no supplementary
groups, no capabilities at all and no-new-privs. Distinct uids mean a compromised engine cannot signal
or ptrace the gateway (nor the other way round); distinct gids keep it out of the data directory.

The data directory becomes `root:<gateway gid>` with mode 1770: the gateway can create its SQLite
`-wal`/`-shm` files next to the database, but the sticky bit stops it from renaming or deleting
anything root owns there (`isolation/`, `admin.key`, `run/`, `logs/`); the engine's user cannot even
enter it. Only the database files are handed to the gateway's user; SQLite running as root (the
supervisor's audit writes) gives new `-wal`/`-shm` files the owner of the database file, so they stay
writable for the gateway. The engine's user needs only to read the model files and the venv, which
`readable_for` checks before an engine starts.
"""

from __future__ import annotations

import grp
import os
import pwd
import stat
from dataclasses import dataclass
from pathlib import Path

from medvault.errors import IsolationError
from medvault.isolation import _sys

SHELL = "/usr/sbin/nologin"


@dataclass(frozen=True)
class WorkloadUser:
    """The unprivileged identity of every zone workload."""

    name: str
    uid: int
    gid: int

    def setpriv(self) -> list[str]:
        """`setpriv` argv (ending in `--`) that becomes this user with no groups and no capabilities."""
        return [
            "setpriv",
            f"--reuid={self.uid}",
            f"--regid={self.gid}",
            "--clear-groups",
            "--bounding-set=-all",
            "--inh-caps=-all",
            "--ambient-caps=-all",
            "--no-new-privs",
            "--",
        ]


def resolve(spec: str, *, create: bool) -> WorkloadUser:
    """The workload user for `spec` (a user name, or `UID:GID`); create a missing name when `create`."""
    if ":" in spec:
        uid, gid = (int(part) for part in spec.split(":", 1))
        user = WorkloadUser(spec, uid, gid)
    else:
        try:
            entry = pwd.getpwnam(spec)
        except KeyError:
            if not create:
                raise IsolationError(
                    f"workload user {spec!r} does not exist; `medvault up` creates it, or run "
                    f"`useradd --system --user-group --no-create-home --shell {SHELL} {spec}`"
                ) from None
            _create(spec)
            entry = pwd.getpwnam(spec)
        user = WorkloadUser(spec, entry.pw_uid, entry.pw_gid)
    if user.uid == 0 or user.gid == 0:
        raise IsolationError(f"workload user {spec!r} has uid or gid 0; workloads must not run as root")
    return user


def check_distinct(users: dict[str, WorkloadUser]) -> None:
    """Refuse zone users that share a uid or a gid (names may differ and still map to one account)."""
    for attr in ("uid", "gid"):
        seen: dict[int, str] = {}
        for zone, user in users.items():
            other = seen.setdefault(getattr(user, attr), zone)
            if other != zone:
                raise IsolationError(
                    f"the {other} user and the {zone} user share {attr} {getattr(user, attr)}; each zone "
                    "needs its own uid and gid; fix: name two different users in isolation.dmz_user "
                    "and isolation.vault_user"
                )


def _create(name: str) -> None:
    _sys.run(
        [
            "useradd",
            "--system",
            "--user-group",
            "--no-create-home",
            "--home-dir",
            "/nonexistent",
            "--shell",
            SHELL,
            name,
        ]
    )
    try:
        grp.getgrnam(name)
    except KeyError:
        raise IsolationError(f"`useradd` created user {name} without its group") from None


def _reachable(path: Path, user: WorkloadUser) -> bool:
    """Whether `user` may traverse `path` (a directory), judged from its owner, group and mode."""
    st = path.stat()
    if st.st_uid == user.uid:
        return bool(st.st_mode & stat.S_IXUSR)
    if st.st_gid == user.gid:
        return bool(st.st_mode & stat.S_IXGRP)
    return bool(st.st_mode & stat.S_IXOTH)


def readable_for(user: WorkloadUser, python: Path, files: list[Path]) -> None:
    """Raise unless `user` can run `python` (the venv's interpreter) and read each of `files`.

    Asked of the kernel (the interpreter run as that user opens each file), not judged from modes:
    ACLs, mount options and path traversal all count, exactly as they will for the engine.
    """
    opener = "import sys\nfor path in sys.argv[1:]:\n    open(path, 'rb').close()"
    try:
        _sys.run([*user.setpriv(), str(python), "-I", "-c", opener, *map(str, files)])
    except IsolationError as exc:
        raise IsolationError(
            f"the vault user {user.name} cannot run {python} or read one of "
            f"{', '.join(map(str, files))} ({str(exc)[-200:]}); fix: keep models and the venv "
            "world-readable (`chmod -R o+rX`) in directories it can traverse, outside the data directory"
        ) from None


def share_data_dir(data_dir: Path, user: WorkloadUser, owned: list[Path]) -> None:
    """Give `user` (the gateway's) exactly the access it needs to `data_dir`; hand it the `owned` files.

    `owned` are the SQLite database and its `-wal`/`-shm` files (those that do not exist yet are
    skipped: SQLite creates them with the database's owner). Everything else stays root's.
    """
    data_dir = data_dir.resolve()
    blocked = [str(p) for p in data_dir.parents if not _reachable(p, user)]
    if blocked:
        raise IsolationError(
            f"the dmz user {user.name} cannot reach the data directory {data_dir}: "
            f"{', '.join(blocked)} is not traversable for it; fix: `chmod o+x` it, or choose a data "
            "directory outside such private directories"
        )
    os.chown(data_dir, 0, user.gid)
    os.chmod(data_dir, 0o1770)  # noqa: S103 — group rwx for the gateway's gid only, sticky: see above
    # run/: the gateway reads runtime.json; isolation/: it reads state.json; logs/: root's only (the
    # supervisor opens the log files and hands the workloads file descriptors).
    for name, gid, mode in (("run", user.gid, 0o750), ("isolation", 0, 0o755), ("logs", 0, 0o700)):
        sub = data_dir / name
        sub.mkdir(exist_ok=True)
        os.chown(sub, 0, gid)
        os.chmod(sub, mode)
    for path in owned:
        _hand_over(path, user)


def _hand_over(path: Path, user: WorkloadUser) -> None:
    """chown and chmod `path` to `user`, through a descriptor that cannot have followed a link.

    The gateway could have swapped the file for a link (to /etc/shadow, say) during an earlier run;
    root must never follow one into a chown.
    """
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC  # NONBLOCK: a planted FIFO
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        return  # not created yet: SQLite gives it the database's owner
    except OSError as exc:  # ELOOP: a symbolic link
        raise IsolationError(
            f"{path} cannot be opened as a plain file ({exc.strerror}; a link planted by a workload?); "
            f"refusing to hand it to {user.name}: investigate, then remove it"
        ) from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise IsolationError(f"{path} is not a regular file; refusing to hand it to {user.name}")
        os.fchown(fd, user.uid, user.gid)
        os.fchmod(fd, 0o600)
    finally:
        os.close(fd)
