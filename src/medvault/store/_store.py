"""`Store`: the one object through which MedVault reads and writes its database.

Synchronous on purpose: the gateway calls it from threads (and caches authentication itself), the
CLI and the supervisor call it directly, and `AuditWriter` drives it from one dedicated thread.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from alembic import command
from alembic.config import Config
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection, select, update

from medvault.errors import StoreError
from medvault.store import _audit
from medvault.store._content import ContentMixin
from medvault.store._engine import WRITE, make_engine, translated
from medvault.store._models import api_keys as _keys
from medvault.store._models import feedback as _feedback
from medvault.store._models import runs as _runs
from medvault.store._models import survey as _survey
from medvault.store._models import users as _users
from medvault.store._passwords import check_password
from medvault.store._registry import RegistryMixin
from medvault.store._shared import SharedStateMixin
from medvault.store._types import (
    AuditEvent,
    ChainReport,
    KeyInfo,
    Principal,
    Role,
    StoredAuditEvent,
    UserInfo,
)

if TYPE_CHECKING:
    from medvault.config import Settings

_MIGRATIONS = Path(__file__).with_name("migrations")
_MIGRATION_LOCK = 0x4D56_5354  # "MVST": serialises `migrate()` of several processes on PostgreSQL
_USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,127}$")
_MIN_SEED = 16
# Who owns the bootstrap admin keys (`ensure_admin_key`): a name the username rule (here and in the
# directory client) refuses, so no local or directory account can ever be that owner, disable its key,
# or have the directory judge it (`medvault.directory.Authenticator.key_still_valid`). Migration 0011
# moves keys made as "admin" before.
ADMIN_KEY_OWNER = "~admin"
ADMIN_KEY_NAMES = ("MEDVAULT_ADMIN_KEY", "generated admin key")


def _key_hash(raw_key: str) -> str:
    return hashlib.sha256(raw_key.encode("utf-8")).hexdigest()


def _role(role: Role | str) -> Role:
    try:
        return Role(role)
    except ValueError:
        raise ValueError(f"role {role!r} is not one of {', '.join(r.value for r in Role)}") from None


def _key_info(row: Any) -> KeyInfo:
    return KeyInfo(
        key_id=row.id, prefix=row.prefix, user=row.user, role=Role(row.role), name=row.name,
        created_at=row.created_at, revoked_at=row.revoked_at,
    )  # fmt: skip


class Store(ContentMixin, RegistryMixin, SharedStateMixin):
    """Users, API keys, the audit trail, workbench runs, model approvals and the state gateway processes
    share (sessions, sign-in and rate counts) over SQLite (WAL) or PostgreSQL."""

    def __init__(self, url: str, *, content_days: int = 0, power_safe: bool = False) -> None:
        if content_days < 0:
            raise ValueError("content_days must be 0 (never keep content) or more")
        self.url = url
        self.content_days = content_days
        self._engine = make_engine(url, power_safe=power_safe)
        self._write_engine = self._engine.execution_options(**{WRITE: True})
        self._hasher = PasswordHasher()

    @cached_property
    def _dummy_hash(self) -> str:
        # Verified against when a username is unknown, so that answer takes as long as a wrong password.
        return self._hasher.hash(secrets.token_urlsafe(16))

    @classmethod
    def open(cls, url: str, *, content_days: int = 0, power_safe: bool = False) -> Store:
        """Open (not migrate) the database at `url`; content is kept only when `content_days` > 0."""
        return cls(url, content_days=content_days, power_safe=power_safe)

    @classmethod
    def from_settings(cls, settings: Settings) -> Store:
        """Open the configured database with the configured content retention."""
        return cls(settings.resolved_database_url, content_days=settings.retention.content_days)

    @property
    def dialect(self) -> str:
        return self._engine.dialect.name

    def close(self) -> None:
        self._engine.dispose()

    @contextmanager
    def _read(self, what: str) -> Iterator[Connection]:
        with translated(what), self._engine.connect() as conn:
            yield conn

    @contextmanager
    def _write(self, what: str) -> Iterator[Connection]:
        with translated(what), self._write_engine.begin() as conn:
            yield conn

    # -- schema ----------------------------------------------------------------------------------

    def _alembic(self, upgrade: bool, revision: str) -> None:
        cfg = Config()
        cfg.set_main_option("script_location", str(_MIGRATIONS))
        with self._write("migrating the schema") as conn:
            if self.dialect == "postgresql":
                conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_MIGRATION_LOCK})")
            cfg.attributes["connection"] = conn
            (command.upgrade if upgrade else command.downgrade)(cfg, revision)

    def migrate(self, revision: str = "head") -> None:
        """Bring the schema up to `revision` (idempotent; safe from several processes at once)."""
        self._alembic(True, revision)

    def downgrade(self, revision: str) -> None:
        """Take the schema down to `revision` ("base" removes every table)."""
        self._alembic(False, revision)

    # -- API keys --------------------------------------------------------------------------------

    def _insert_key(
        self, conn: Connection, raw_key: str, prefix: str, user: str, role: Role, name: str | None
    ) -> str:
        key_id = secrets.token_hex(8)
        conn.execute(
            _keys.insert().values(
                id=key_id, prefix=prefix, key_hash=_key_hash(raw_key), user=user, role=role.value, name=name,
                created_at=datetime.now(UTC), revoked_at=None,
            )
        )  # fmt: skip
        return key_id

    def create_key(self, user: str, role: Role | str, name: str | None = None) -> tuple[str, str]:
        """Make a new API key; returns (key_id, raw_key). Only the key's SHA-256 is stored."""
        if not user or len(user) > 128:
            raise ValueError("user must be 1 to 128 characters")
        raw_key = "mv-" + secrets.token_urlsafe(32)
        with self._write("creating an API key") as conn:
            key_id = self._insert_key(conn, raw_key, raw_key[:11], user, _role(role), name)
        return key_id, raw_key

    def revoke_key(self, key_id_or_prefix: str) -> bool:
        """Revoke an active key by its id or public prefix; False when no active key matches."""
        match = (_keys.c.id == key_id_or_prefix) | (_keys.c.prefix == key_id_or_prefix)
        with self._write("revoking an API key") as conn:
            ids = conn.execute(select(_keys.c.id).where(match, _keys.c.revoked_at.is_(None))).scalars().all()
            if len(ids) > 1:
                raise StoreError(f"{key_id_or_prefix!r} matches {len(ids)} keys; give the key id")
            if not ids:
                return False
            conn.execute(update(_keys).where(_keys.c.id == ids[0]).values(revoked_at=datetime.now(UTC)))
        return True

    def list_keys(self) -> list[KeyInfo]:
        """Every key, revoked ones included, oldest first; never a secret."""
        with self._read("listing API keys") as conn:
            rows = conn.execute(select(_keys).order_by(_keys.c.created_at, _keys.c.id)).all()
        return [_key_info(row) for row in rows]

    def authenticate_key(self, raw_key: str) -> Principal | None:
        """The principal of an active key, or None for an unknown or revoked one, or one whose owner is a
        user disabled here (a key of an owner without a user row, e.g. an API client, is the key's alone)."""
        if not raw_key or len(raw_key) > 512:
            return None
        query = (
            select(_keys.c.id, _keys.c.user, _keys.c.role)
            .select_from(_keys.outerjoin(_users, _users.c.username == _keys.c.user))
            .where(
                _keys.c.key_hash == _key_hash(raw_key),
                _keys.c.revoked_at.is_(None),
                _users.c.disabled.is_not(True),  # also true without a user row (NULL)
            )
        )
        with self._read("checking an API key") as conn:
            row = conn.execute(query).first()
        return None if row is None else Principal(user=row.user, role=Role(row.role), key_id=row.id)

    def ensure_admin_key(self, seed: str | None, key_file: Path) -> str | None:
        """Make sure an admin can get in.

        With `seed` (MEDVAULT_ADMIN_KEY): that key exists as an admin key afterwards. Without it and
        without any active admin key: a new key is generated and written to `key_file` (mode 0600,
        directory 0700); its path is returned. Otherwise nothing changes and None is returned.
        """
        if seed is not None and len(seed) < _MIN_SEED:
            raise StoreError(
                f"MEDVAULT_ADMIN_KEY must be at least {_MIN_SEED} characters; use a random value"
            )
        with self._write("ensuring an admin key") as conn:
            if seed is not None:
                row = conn.execute(select(_keys).where(_keys.c.key_hash == _key_hash(seed))).first()
                if row is None:
                    prefix = "env-" + _key_hash(seed)[:8]
                    self._insert_key(conn, seed, prefix, ADMIN_KEY_OWNER, Role.ADMIN, ADMIN_KEY_NAMES[0])
                elif row.revoked_at is not None or row.role != Role.ADMIN:
                    raise StoreError("MEDVAULT_ADMIN_KEY names a revoked or non-admin key; set a new value")
                return None
            active = select(_keys.c.id).where(_keys.c.role == Role.ADMIN.value, _keys.c.revoked_at.is_(None))
            if conn.execute(active.limit(1)).first() is not None:
                return None
            raw_key = "mv-" + secrets.token_urlsafe(32)
            self._insert_key(conn, raw_key, raw_key[:11], ADMIN_KEY_OWNER, Role.ADMIN, ADMIN_KEY_NAMES[1])
            # Written before the commit: a key that was never handed out must not exist.
            _write_private(key_file, raw_key + "\n")
        return str(key_file)

    # -- users -----------------------------------------------------------------------------------

    def create_user(
        self, username: str, password: str, role: Role | str, display_name: str | None = None
    ) -> UserInfo:
        """Add a workbench user with an argon2id password hash."""
        _check_username(username)
        check_password(password, username)
        info = UserInfo(username, _role(role), display_name, datetime.now(UTC), False)
        password_hash = self._hasher.hash(password)
        with self._write("creating a user") as conn:
            if conn.execute(select(_users.c.username).where(_users.c.username == username)).first():
                raise StoreError(f"user {username!r} already exists")
            conn.execute(
                _users.insert().values(
                    username=username, display_name=display_name, role=info.role.value,
                    password_hash=password_hash, created_at=info.created_at, disabled=False,
                )
            )  # fmt: skip
        return info

    def verify_password(self, username: str, password: str) -> Principal | None:
        """The user's principal if the password is right and the user is enabled, else None."""
        with self._read("checking a password") as conn:
            row = conn.execute(select(_users).where(_users.c.username == username)).first()
        try:
            self._hasher.verify(row.password_hash if row else self._dummy_hash, password)
        except (VerificationError, InvalidHashError):
            return None
        if row is None or row.disabled:
            return None
        if self._hasher.check_needs_rehash(row.password_hash):  # the same password: no policy check
            self._update_user(username, password_hash=self._hasher.hash(password))
        return Principal(user=row.username, role=Role(row.role))

    def set_password(self, username: str, password: str) -> None:
        """Set a new password, which must meet the policy (`medvault.store._passwords`)."""
        check_password(password, username)
        self._update_user(username, password_hash=self._hasher.hash(password))

    def rename_user(self, username: str, new_name: str) -> None:
        """Rename a user, with their runs, ratings, survey answer and API keys (a key belongs to the
        person: left under the old name it would act as whoever is created under that name later); the
        audit trail keeps the old name (it is never rewritten). Sessions signed in under the old name end
        (`user_stamp` finds no one)."""
        _check_username(new_name)
        with self._write("renaming a user") as conn:
            if conn.execute(select(_users.c.username).where(_users.c.username == new_name)).first():
                raise StoreError(f"user {new_name!r} already exists")
            changed = conn.execute(
                update(_users).where(_users.c.username == username).values(username=new_name)
            )
            if changed.rowcount == 0:
                raise StoreError(f"no user {username!r}")
            _move_content(conn, username, new_name)
            conn.execute(update(_keys).where(_keys.c.user == username).values(user=new_name))

    def delete_user(self, username: str) -> None:
        """Delete a user; their sessions end and their API keys are revoked. Their runs, ratings and survey
        answer stay for the pilot report under `~RANDOM~NAME`, a name no user can take: whoever is created
        as NAME later never sees them."""
        with self._write("deleting a user") as conn:
            if conn.execute(_users.delete().where(_users.c.username == username)).rowcount == 0:
                raise StoreError(f"no user {username!r}")
            active = (_keys.c.user == username) & _keys.c.revoked_at.is_(None)
            conn.execute(update(_keys).where(active).values(revoked_at=datetime.now(UTC)))
            _move_content(conn, username, f"~{secrets.token_hex(4)}~{username}"[:128])

    def set_disabled(self, username: str, disabled: bool) -> None:
        self._update_user(username, disabled=disabled)

    def _update_user(self, username: str, **values: object) -> None:
        with self._write("updating a user") as conn:
            result = conn.execute(update(_users).where(_users.c.username == username).values(**values))
            if result.rowcount == 0:
                raise StoreError(f"no user {username!r}")

    def list_users(self) -> list[UserInfo]:
        with self._read("listing users") as conn:
            rows = conn.execute(select(_users).order_by(_users.c.username)).all()
        return [UserInfo(r.username, Role(r.role), r.display_name, r.created_at, r.disabled) for r in rows]

    # -- audit trail -----------------------------------------------------------------------------

    def append_audit(self, events: Sequence[AuditEvent]) -> None:
        """Append events to the hash chain in one transaction (what `AuditWriter` commits per batch)."""
        if events:
            appender = self.audit_appender()
            try:
                appender.append(events)
            finally:
                appender.close()

    def audit_appender(self) -> _audit.ChainAppender:
        """A fast appender holding one connection, for a thread that writes audit events in a loop."""
        return _audit.ChainAppender(self._engine)

    def record_audit(self, event: AuditEvent) -> None:
        """Append one event and commit it before returning (for the CLI and the supervisor)."""
        self.append_audit([event])

    def audit_events(self, after_seq: int = 0, limit: int = 1000) -> list[StoredAuditEvent]:
        """Events after `after_seq` in chain order, at most `limit` of them."""
        with self._read("reading audit events") as conn:
            return list(_audit.iter_events(conn, after_seq, limit))

    def verify_audit_chain(self) -> ChainReport:
        """Recompute the whole chain; a report with problems means the trail was tampered with."""
        with translated("verifying the audit chain"), self._engine.connect() as conn:
            if self.dialect == "postgresql":
                # One snapshot for the events and the head row, while other processes keep writing.
                conn = conn.execution_options(isolation_level="REPEATABLE READ")
            with conn.begin():
                return _audit.verify(conn)


def _move_content(conn: Connection, username: str, new_name: str) -> None:
    """Give a user's runs, ratings and survey answer to `new_name`."""
    for table in (_runs, _feedback, _survey):
        conn.execute(update(table).where(table.c.user == username).values(user=new_name))


def _check_username(username: str) -> None:
    if not _USERNAME.match(username):
        raise ValueError("username: letters, digits and . _ @ - only, at most 128 characters")


def _write_private(path: Path, text: str) -> None:
    """Write `text` to `path` readable by the owner only, atomically (temp file + rename)."""
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        path.parent.chmod(0o700)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".admin-key-")  # mkstemp creates it 0600
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except OSError as exc:
        raise StoreError(f"cannot write the admin key file {path}: {exc.strerror}") from exc
