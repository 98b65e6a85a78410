"""Database fixtures: `db_url` runs a test once on SQLite and once on a real PostgreSQL server.

The PostgreSQL server is one throw-away cluster per test session: initdb into a temporary
directory (as the `postgres` OS user when running as root, since initdb refuses root), trust
authentication, listening only on a Unix socket inside that directory. Each test gets a fresh
database. Outside CI a missing PostgreSQL installation skips those cases; in CI it fails them.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from medvault.store import Store
from tests.conftest import require


@dataclass(frozen=True)
class PgCluster:
    """A running throw-away PostgreSQL server reachable through the socket in `socket_dir`."""

    bin_dir: Path
    socket_dir: Path

    @property
    def data_dir(self) -> Path:
        return self.socket_dir / "data"

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://postgres@/{database}?host={self.socket_dir}"

    def admin(self, sql: str) -> None:
        """Run one statement in the maintenance database, outside a transaction."""
        import psycopg

        with psycopg.connect(
            host=str(self.socket_dir), user="postgres", dbname="postgres", autocommit=True
        ) as c:
            c.execute(sql)  # type: ignore[arg-type]  # our own fixed statements, no user input


def _pg_bin_dir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True)
    if found:
        return Path(found[0]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _as_owner(owner: pwd.struct_passwd | None) -> dict[str, Any]:
    return {"user": owner.pw_uid, "group": owner.pw_gid, "extra_groups": []} if owner else {}


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PgCluster]:
    """Start one PostgreSQL cluster for the whole session and remove it afterwards."""
    bin_dir = _pg_bin_dir()
    require(bin_dir is not None, "PostgreSQL server binaries (initdb, pg_ctl) are not installed")
    assert bin_dir is not None
    owner = pwd.getpwnam("postgres") if os.geteuid() == 0 else None
    require(os.geteuid() != 0 or owner is not None, "running as root needs the `postgres` OS user")
    base = Path(tempfile.mkdtemp(prefix="mvpg-"))
    if owner is not None:
        os.chown(base, owner.pw_uid, owner.pw_gid)
    data, log = base / "data", base / "server.log"
    env = {**os.environ, "LC_ALL": "C", "TZ": "UTC"}
    run = {"check": True, "capture_output": True, "env": env, "cwd": base, **_as_owner(owner)}
    subprocess.run(
        [bin_dir / "initdb", "-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync"], **run
    )
    # fsync off: this cluster is thrown away; durability tests kill the client, never the server.
    options = f"-c listen_addresses='' -k {base} -c fsync=off -c max_connections=200"
    subprocess.run([bin_dir / "pg_ctl", "-D", data, "-l", log, "-o", options, "-w", "start"], **run)
    try:
        yield PgCluster(bin_dir=bin_dir, socket_dir=base)
    finally:
        subprocess.run(
            [bin_dir / "pg_ctl", "-D", data, "-m", "immediate", "-w", "stop"], **{**run, "check": False}
        )
        shutil.rmtree(base, ignore_errors=True)


@contextlib.contextmanager
def _fresh_database(cluster: PgCluster) -> Iterator[str]:
    name = f"t_{uuid.uuid4().hex[:16]}"
    cluster.admin(f"CREATE DATABASE {name}")
    try:
        yield cluster.url(name)
    finally:
        cluster.admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL of an empty database: a SQLite file, or a fresh database on the session's PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'medvault.db'}"
        return
    with _fresh_database(request.getfixturevalue("pg_cluster")) as url:
        yield url


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    """A migrated store on each database, keeping no content (the default retention)."""
    opened = Store.open(db_url)
    opened.migrate()
    yield opened
    opened.close()


@pytest.fixture
def pg_url(pg_cluster: PgCluster) -> Iterator[str]:
    """A URL of a fresh database on the session's PostgreSQL, for what only PostgreSQL can show."""
    with _fresh_database(pg_cluster) as url:
        yield url
