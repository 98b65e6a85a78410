"""The directory lab: the isolation lab of tests/isolation (host role, lan, fake internet, zones up),
with a real slapd on the hospital LAN side, reached from the dmz only through its airlock."""

from __future__ import annotations

import asyncio
import ctypes
import os
import shutil
import tempfile
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import pytest

from medvault.directory import DirectorySettings
from medvault.isolation import Isolation, IsolationPolicy
from medvault.store import Role, Store
from tests.conftest import require, require_root
from tests.directory.slapd import (
    ADMINS,
    AUDITORS,
    CLINICIANS,
    PEOPLE,
    SERVER_NAME,
    SERVICE_DN,
    SERVICE_PW,
    USER_FILTER,
    Certs,
    Slapd,
    make_ca,
)
from tests.isolation.conftest import DMZ_USER, LAN_HOST, VAULT_USER, Lab, _build, _teardown, free_port, sh

DIRECTORY = "198.51.100.20"  # on the hospital LAN, beside the lan client
LDAPS, LDAP = 636, 389
BREAKGLASS, BREAKGLASS_PW = "breakglass", "Local-Admin-Never-Locked-7"
T = TypeVar("T")
_CLONE_NEWNET = 0x40000000


def enter_netns(name: str) -> None:
    """Move the calling thread (only it) into network namespace `name`: its new sockets live there."""
    libc = ctypes.CDLL(None, use_errno=True)
    fd = os.open(f"/run/netns/{name}", os.O_RDONLY)
    try:
        if libc.setns(fd, _CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), f"setns {name}")
    finally:
        os.close(fd)


def run_in(netns: str, work: Callable[[], Awaitable[T]]) -> T:
    """Run `work` with every `asyncio.to_thread` call (so every LDAP socket) inside `netns`."""

    async def main() -> T:
        executor = ThreadPoolExecutor(4, initializer=enter_netns, initargs=(netns,))
        asyncio.get_running_loop().set_default_executor(executor)
        return await work()

    return asyncio.run(main())


@dataclass
class DirectoryLab:
    lab: Lab
    iso: Isolation
    slapd: Slapd
    certs: Certs
    work: Path

    @property
    def dmz(self) -> str:
        return self.iso.links["dmz"].netns

    def settings(self, **changes: object) -> DirectorySettings:
        """Directory settings for the lab's slapd, through the airlock (LDAPS on 636)."""
        values: dict[str, object] = {
            "enabled": True, "address": DIRECTORY, "port": LDAPS, "server_name": SERVER_NAME,
            "ca_file": str(self.certs.ca), "bind_dn": SERVICE_DN, "bind_password": SERVICE_PW,
            "user_base": PEOPLE.split(",", 1)[1], "user_filter": USER_FILTER,
            "roles": {"clinician": [CLINICIANS], "admin": [ADMINS], "auditor": [AUDITORS]},
            "connect_timeout_s": 1.5, "timeout_s": 2, "recheck_s": 30.0, "offline_grace_s": 60.0,
        }  # fmt: skip
        return DirectorySettings.model_validate({**values, **changes})


@pytest.fixture(scope="module")
def dirlab() -> Iterator[DirectoryLab]:
    require_root()
    tools = ("ip", "nft", "setpriv", "slapd", "ldapadd", "ldapmodify")
    require(all(shutil.which(t) for t in tools), "needs iproute2, nftables, util-linux, slapd, ldap-utils")
    tag = os.urandom(3).hex()
    data_dir = Path(tempfile.mkdtemp(prefix=f"mvd-{tag}-data-", dir="/tmp"))
    work = Path(tempfile.mkdtemp(prefix=f"mvd-{tag}-ldap-", dir="/tmp"))
    policy = IsolationPolicy.model_validate(
        {
            "netns_prefix": f"mvd-{tag}",
            "vault_ports": [8100],
            "dmz_user": DMZ_USER,
            "vault_user": VAULT_USER,
            "ingress": {"address": LAN_HOST, "port": free_port(), "clients": ["198.51.100.0/24"]},
            "airlocks": [{"name": "directory", "address": DIRECTORY, "port": LDAPS}],
            "monitor": {"targets": ["203.0.113.10"]},
        }
    )
    lab = Lab(
        tag=tag, host=f"mvd-{tag}-host", lan=f"mvd-{tag}-lan", internet=f"mvd-{tag}-inet",
        hits=data_dir / "hits.jsonl", data_dir=data_dir, policy=policy,
    )  # fmt: skip
    certs = make_ca(work, "hospital", [SERVER_NAME])
    slapd = Slapd(work, certs)
    iso = lab.isolation()
    try:
        _build(lab)
        sh("ip", "-n", lab.lan, "addr", "add", f"{DIRECTORY}/24", "dev", "eth0")
        slapd.start(lab.lan, DIRECTORY)
        iso.preflight()
        iso.up()
        yield DirectoryLab(lab, iso, slapd, certs, work)
    finally:
        slapd.stop()
        _teardown(lab)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """A migrated SQLite store with a local break-glass admin."""
    store = Store.open(f"sqlite:///{tmp_path / 'medvault.db'}")
    store.migrate()
    store.create_user(BREAKGLASS, BREAKGLASS_PW, Role.ADMIN)
    yield store
    store.close()
