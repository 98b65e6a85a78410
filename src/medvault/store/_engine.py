"""Engine set-up for SQLite and PostgreSQL, write transactions, and the one place SQLAlchemy errors
are translated into `StoreError`.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from medvault.errors import StoreError

# Execution option that asks for a write transaction (SQLite: BEGIN IMMEDIATE, so the write lock is
# taken up front and concurrent writers wait on busy_timeout instead of failing on lock upgrade).
WRITE = "medvault_write"
BUSY_TIMEOUT_MS = 30_000


def _describe(exc: SQLAlchemyError) -> str:
    # Never str(exc): SQLAlchemy appends the bound parameters, which may be content or secrets.
    orig = getattr(exc, "orig", None)
    if orig is not None:
        first_line = str(orig).splitlines()[0] if str(orig) else ""
        return f"{type(orig).__name__}: {first_line}"
    return type(exc).__name__


@contextmanager
def translated(what: str) -> Iterator[None]:
    """Turn any SQLAlchemy error raised inside into a `StoreError` that says what was being done."""
    try:
        yield
    except SQLAlchemyError as exc:
        raise StoreError(f"database error while {what}: {_describe(exc)}") from exc


def _sqlite_hooks(engine: Engine, power_safe: bool) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # The driver's own transaction handling would defer BEGIN; take it over (SQLAlchemy's recipe).
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cur.execute("PRAGMA foreign_keys=ON")
        # NORMAL in WAL mode survives a killed process (the commit is in the OS page cache);
        # FULL also survives power loss at the cost of an fsync per (group) commit.
        cur.execute(f"PRAGMA synchronous={'FULL' if power_safe else 'NORMAL'}")
        # Deleted content is overwritten with zeros, not left on free pages until VACUUM.
        cur.execute("PRAGMA secure_delete=ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        options = conn.get_execution_options()
        if options.get("isolation_level") != "AUTOCOMMIT":  # VACUUM must run outside a transaction
            conn.exec_driver_sql("BEGIN IMMEDIATE" if options.get(WRITE) else "BEGIN")


def sqlite_files(database: Path) -> list[Path]:
    """A SQLite database file and the `-wal` and `-shm` files SQLite keeps beside it."""
    return [database, database.with_name(database.name + "-wal"), database.with_name(database.name + "-shm")]


def _refuse_links(paths: list[Path]) -> None:
    # Isolated, the gateway (an unprivileged workload) owns these files in a directory it may write, and
    # the supervisor and admin commands open them as root: a link planted there would have root write
    # SQLite pages into whatever it points at (/etc/shadow, say). SQLite itself follows such links.
    for path in paths:
        try:
            mode = path.lstat().st_mode
        except FileNotFoundError:
            continue
        if not stat.S_ISREG(mode):
            raise StoreError(
                f"{path} is not a regular file (a symbolic link or something else planted beside the "
                "database?); refusing to open it: investigate, then remove it"
            )


def make_engine(url: str, *, power_safe: bool = False) -> Engine:
    """Create the engine for `url` (sqlite:///abs/path.db or postgresql+psycopg://...)."""
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):  # ValueError: a port that is not a number
        # Neither the URL nor SQLAlchemy's message (which quotes it) is echoed: it may hold a password.
        raise StoreError(
            "the database URL is not valid; expected sqlite:////abs/path.db or "
            "postgresql+psycopg://user:password@host:port/database"
        ) from None
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        if not parsed.database or parsed.database == ":memory:":
            raise StoreError(
                "an in-memory SQLite database cannot be shared; give a file: sqlite:///abs/path.db"
            )
        path = Path(parsed.database)
        if not path.is_absolute():
            raise StoreError(f"SQLite path {parsed.database!r} must be absolute: sqlite:////abs/path.db")
        _private_dir(path.parent)
        _refuse_links(sqlite_files(path))
        engine = create_engine(parsed, hide_parameters=True, pool_size=8, max_overflow=8)
        _sqlite_hooks(engine, power_safe)
    elif backend == "postgresql":
        engine = create_engine(parsed, hide_parameters=True, pool_pre_ping=True, pool_size=8, max_overflow=8)
    else:
        raise StoreError(f"database {backend!r} is not supported; use sqlite:/// or postgresql+psycopg://")
    return engine


def _private_dir(path: Path) -> None:
    if path.is_dir():
        return
    try:
        path.mkdir(mode=0o700, parents=True)
    except OSError as exc:
        raise StoreError(
            f"cannot create the database directory {path}: {os.strerror(exc.errno or 0)}"
        ) from exc
