"""Directory users in the `users` table (migration 0004): rows the directory sign-in keeps, never a
password.

A directory user's row pins the name to one directory entry (`external_id`) and holds the role the
directory's groups gave at the last look, so `medvault users list` shows them, `users disable` blocks
them here whatever the directory says, and a local user can never be created under their name (nor a
directory user take a local user's name: the local row wins, see `medvault.directory`).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select, update

from medvault.store._models import users as _users
from medvault.store._types import Role

if TYPE_CHECKING:
    from medvault.store._store import Store

LOCAL, LDAP = "local", "ldap"
# Never a valid argon2 hash: `Store.verify_password` can never accept a password for a directory user.
NO_PASSWORD = "!directory"  # noqa: S105 — a marker, not a secret


@dataclass(frozen=True, slots=True)
class UserRecord:
    """What sign-in needs to know about a row: where the user comes from, and whether it may."""

    username: str
    source: str
    role: Role
    disabled: bool
    external_id: str | None
    confirmed: float | None = None  # when the directory last confirmed a directory user (epoch seconds)


_RECORD = select(
    _users.c.username, _users.c.source, _users.c.role, _users.c.disabled, _users.c.external_id,
    _users.c.directory_confirmed,
)  # fmt: skip


def name_key(username: str) -> str:
    """How names are compared when deciding who owns one: "Admin", "ADMIN" and a full-width "ａｄｍｉｎ"
    are all "admin". Stored names are ASCII (the store's rule and the directory's), so SQL `lower`
    agrees with this on them."""
    return unicodedata.normalize("NFKC", username).casefold()


def find_user(store: Store, username: str) -> UserRecord | None:
    """The row for exactly `username`, or None."""
    with store._read("reading a user") as conn:
        row = conn.execute(_RECORD.where(_users.c.username == username)).first()
    return None if row is None else _record(row)


def name_holder(store: Store, username: str) -> UserRecord | None:
    """The row that owns `username` up to case and Unicode look-alikes (see `name_key`), a local one
    first should rows differ only in case; None when no row does."""
    with store._read("reading a user") as conn:
        rows = conn.execute(_RECORD.where(func.lower(_users.c.username) == name_key(username))).all()
    ordered = sorted(rows, key=lambda row: (row.source != LOCAL, row.username != username))
    return _record(ordered[0]) if ordered else None


def _record(row: Any) -> UserRecord:
    return UserRecord(
        row.username, row.source, Role(row.role), bool(row.disabled), row.external_id, row.directory_confirmed
    )


def admit_directory_user(
    store: Store, username: str, role: Role, external_id: str, confirmed: float | None = None
) -> str | None:
    """Create or update the row of a directory user who just proved who they are; `confirmed` (epoch
    seconds) records when the directory vouched for them, which the offline grace runs from.

    Returns None when the user may go on, else the reason why not: `name_taken` (a local user has the
    name, also in another case), `identity_changed` (the name, or one differing only in case, belongs to
    another directory entry or is spelt differently now: an admin must look at it, since the old owner's
    runs are under that name), `disabled` (disabled here by an admin).
    """
    with store._write("admitting a directory user") as conn:
        rows = conn.execute(select(_users).where(func.lower(_users.c.username) == name_key(username))).all()
        if any(row.source != LDAP for row in rows):
            return "name_taken"
        if any(row.username != username for row in rows):
            return "identity_changed"
        row = rows[0] if rows else None
        if row is None:
            conn.execute(
                _users.insert().values(
                    username=username, display_name=None, role=role.value, password_hash=NO_PASSWORD,
                    created_at=datetime.now(UTC), disabled=False, source=LDAP, external_id=external_id,
                    directory_confirmed=confirmed,
                )
            )  # fmt: skip
            return None
        if row.external_id != external_id:
            return "identity_changed"
        if row.disabled:
            return "disabled"
        changes: dict[str, object] = {"role": role.value} if row.role != role.value else {}
        if confirmed is not None:
            changes["directory_confirmed"] = confirmed
        if changes:
            conn.execute(update(_users).where(_users.c.username == username).values(**changes))
    return None
