"""The offline grace runs from the directory's last confirmation, kept in the users row: a new gateway
process (a restart, another worker) does not start it again."""

from __future__ import annotations

import asyncio

from medvault.config import Settings
from medvault.directory import Authenticator, DirectoryUnavailable, DirectoryUser
from medvault.store import Principal, Role, Store
from medvault.store._directory_users import admit_directory_user

ANNA = DirectoryUser("anna", "uid=anna,ou=people,dc=example", "uuid-anna", Role.CLINICIAN)


class _Directory:
    """Knows anna while `up`; raises DirectoryUnavailable otherwise."""

    def __init__(self) -> None:
        self.up = True

    def look_up(self, username: str) -> DirectoryUser:
        if not self.up:
            raise DirectoryUnavailable("unreachable", "the test's directory is down")
        assert username == ANNA.username
        return ANNA


def _process(store: Store, directory: _Directory, now: list[float]) -> Authenticator:
    """A fresh gateway process's authenticator on the shared database and a hand-moved clock."""
    return Authenticator(store, Settings().directory, client=directory, clock=lambda: now[0])  # type: ignore[arg-type]


def test_a_restart_does_not_restart_the_grace(store: Store) -> None:
    """Confirmed once at t=1000, then the directory is down: a new process within the grace keeps anna
    (control), a new process past it refuses her session and her key, although it never saw her before."""
    grace = Settings().directory.offline_grace_s
    directory, now = _Directory(), [1000.0]
    assert admit_directory_user(store, "anna", Role.CLINICIAN, "uuid-anna") is None
    first = _process(store, directory, now)
    stamp = asyncio.run(first.still_valid("anna"))
    assert stamp is not None
    directory.up = False
    now[0] += grace / 2
    assert asyncio.run(_process(store, directory, now).still_valid("anna")) == stamp
    now[0] = 1000.0 + grace + 1
    late = _process(store, directory, now)
    assert asyncio.run(late.still_valid("anna")) is None
    assert asyncio.run(late.key_still_valid(Principal(user="anna", role=Role.CLINICIAN))) is False
    directory.up = True  # confirmed again: back, and the grace runs from now
    assert asyncio.run(late.still_valid("anna")) == stamp


def test_a_user_the_directory_never_confirmed_gets_no_grace(store: Store) -> None:
    """A row without a confirmation (made before migration 0011) while the directory is down: refused by
    every process, the first included (the review's probe: each of three restarts kept her)."""
    directory, now = _Directory(), [1000.0]
    directory.up = False
    assert admit_directory_user(store, "anna", Role.CLINICIAN, "uuid-anna") is None
    for _ in range(3):
        assert asyncio.run(_process(store, directory, now).still_valid("anna")) is None
        now[0] += 10
