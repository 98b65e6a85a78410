"""State the gateway processes share: workbench sessions, sign-in throttle counts, rate-limit windows.

Every change is one atomic statement or one locked transaction, never a read in one transaction and a
write in another, so two processes (or two hosts on one PostgreSQL) cannot both slip through a limit:

- sessions: a touch is `UPDATE … WHERE still-valid RETURNING`, so an expired or signed-out session
  cannot be revived by a concurrent request;
- sign-in counts: read and written inside one transaction that holds a lock for the whole throttle
  (SQLite: BEGIN IMMEDIATE; PostgreSQL: a transaction-scoped advisory lock). Sign-ins are rare and the
  password check runs outside it, so one lock costs nothing measurable and rules out every interleaving;
- rate windows: `INSERT … ON CONFLICT DO UPDATE SET requests = requests + 1 WHERE requests < limit
  RETURNING`, which counts and checks in one statement under the row's lock.

Times are epoch seconds (`time.time()` of the caller), comparable between processes and hosts whose
clocks are synchronised (NTP), as a hospital's are.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, Table, and_, delete, func, select, true, update
from sqlalchemy.dialects import postgresql, sqlite

from medvault.store._models import rate_windows as _rates
from medvault.store._models import signin_failures as _failures
from medvault.store._models import signin_familiar as _familiar
from medvault.store._models import web_sessions as _sessions

_THROTTLE_LOCK = 0x4D56_5448  # "MVTH": the sign-in throttle's advisory lock on PostgreSQL


@dataclass(frozen=True, slots=True)
class SessionRow:
    """A stored workbench session (its id is known only to the browser and as a hash here)."""

    id_hash: str
    user: str
    role: str
    lang: str
    csrf: str
    stamp: str
    started: float
    last_seen: float
    checked: float


@dataclass(frozen=True, slots=True)
class RateCaller:
    """One window to count a request in: `caller` may make `requests` per minute (0: unlimited) while
    it has used fewer than `tokens` tokens this minute (0: unlimited)."""

    caller: str
    requests: int
    tokens: int


class SigninCounts:
    """The throttle's counts inside one locked transaction (see `SharedStateMixin.signin_counts`)."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def get(self, scope: str, user: str, address: str) -> tuple[int, float] | None:
        """(failures, time of the last) of one count, or None."""
        row = self._conn.execute(
            select(_failures.c.failures, _failures.c.last).where(
                _failures.c.scope == scope, _failures.c.user == user, _failures.c.address == address
            )
        ).first()
        return None if row is None else (int(row.failures), float(row.last))

    def put(self, scope: str, user: str, address: str, failures: int, last: float) -> None:
        """Set one count (insert or overwrite)."""
        _upsert(
            self._conn,
            _failures,
            {"scope": scope, "user": user, "address": address, "failures": failures, "last": last},
            ["scope", "user", "address"],
        )

    def take_back(self, scope: str, user: str, address: str) -> None:
        """One failure fewer (never below zero)."""
        where = (_failures.c.scope == scope) & (_failures.c.user == user) & (_failures.c.address == address)
        self._conn.execute(
            update(_failures).where(where, _failures.c.failures > 0).values(failures=_failures.c.failures - 1)
        )

    def clear(self, scope: str, user: str, address: str) -> None:
        self._conn.execute(
            delete(_failures).where(
                _failures.c.scope == scope, _failures.c.user == user, _failures.c.address == address
            )
        )

    def familiar_since(self, user: str, address: str) -> float | None:
        """When `user` last signed in from `address`, or None."""
        since = self._conn.execute(
            select(_familiar.c.since).where(_familiar.c.user == user, _familiar.c.address == address)
        ).scalar()
        return None if since is None else float(since)

    def make_familiar(self, user: str, address: str, now: float) -> None:
        _upsert(self._conn, _familiar, {"user": user, "address": address, "since": now}, ["user", "address"])


def _upsert(conn: Connection, table: Table, values: dict[str, Any], keys: list[str]) -> None:
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    insert = dialect.insert(table).values(**values)
    changed = {name: insert.excluded[name] for name in values if name not in keys}
    conn.execute(insert.on_conflict_do_update(index_elements=keys, set_=changed))


class SharedStateMixin:
    """The part of `Store` holding what gateway processes share; see the module docstring."""

    _engine: Engine
    _read: Callable[[str], AbstractContextManager[Connection]]  # provided by Store
    _write: Callable[[str], AbstractContextManager[Connection]]  # provided by Store

    # -- workbench sessions ------------------------------------------------------------------------

    def session_create(self, row: SessionRow) -> None:
        with self._write("opening a session") as conn:
            conn.execute(_sessions.insert().values(**_as_dict(row)))

    def session_get(
        self, id_hash: str, now: float, idle_s: float, max_s: float, *, touch: bool
    ) -> SessionRow | None:
        """The session if still valid at `now` (touched, unless `touch` is false); an expired one is
        deleted. Valid means: seen within `idle_s` and started within `max_s`."""
        valid = (
            (_sessions.c.id_hash == id_hash)
            & (_sessions.c.last_seen >= now - idle_s)
            & (_sessions.c.started >= now - max_s)
        )
        with self._write("reading a session") if touch else self._read("reading a session") as conn:
            if touch:
                query: Any = update(_sessions).where(valid).values(last_seen=now).returning(*_sessions.c)
            else:
                query = select(_sessions).where(valid)
            found = conn.execute(query).first()
            if found is None and touch:  # gone or expired: an expired row is removed now
                conn.execute(delete(_sessions).where(_sessions.c.id_hash == id_hash))
        return None if found is None else SessionRow(**found._asdict())

    def session_update(self, id_hash: str, **values: str | float) -> None:
        """Change a session's language or the time its user was last re-checked."""
        with self._write("updating a session") as conn:
            conn.execute(update(_sessions).where(_sessions.c.id_hash == id_hash).values(**values))

    def session_drop(self, id_hash: str) -> None:
        with self._write("ending a session") as conn:
            conn.execute(delete(_sessions).where(_sessions.c.id_hash == id_hash))

    def session_count(self) -> int:
        with self._read("counting sessions") as conn:
            return int(conn.execute(select(func.count()).select_from(_sessions)).scalar_one())

    def sessions_prune(self, now: float, idle_s: float, max_s: float) -> int:
        """Delete the sessions that expired; returns how many."""
        expired = (_sessions.c.last_seen < now - idle_s) | (_sessions.c.started < now - max_s)
        with self._write("pruning sessions") as conn:
            return int(conn.execute(delete(_sessions).where(expired)).rowcount)

    # -- sign-in throttle --------------------------------------------------------------------------

    @contextmanager
    def signin_counts(self) -> Iterator[SigninCounts]:
        """The throttle's counts in one transaction that excludes every other throttle transaction."""
        with self._write("counting a sign-in attempt") as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(select(func.pg_advisory_xact_lock(_THROTTLE_LOCK)))
            yield SigninCounts(conn)

    def signin_prune(self, forget_before: float, familiar_before: float) -> int:
        """Forget counts last failed at or before `forget_before` and familiar addresses from at or before
        `familiar_before`; returns how many rows went."""
        with self._write("pruning sign-in counts") as conn:
            gone = conn.execute(delete(_failures).where(_failures.c.last <= forget_before)).rowcount
            gone += conn.execute(delete(_familiar).where(_familiar.c.since <= familiar_before)).rowcount
        return int(gone)

    def signin_rows(self) -> int:
        """How many counts and familiar addresses are held (they must not grow without bound)."""
        with self._read("counting sign-in counts") as conn:
            counts = conn.execute(select(func.count()).select_from(_failures)).scalar_one()
            familiar = conn.execute(select(func.count()).select_from(_familiar)).scalar_one()
        return int(counts) + int(familiar)

    # -- rate windows ------------------------------------------------------------------------------

    def rate_admit(self, callers: Sequence[RateCaller], minute: int) -> RateCaller | None:
        """Count one request in minute `minute` for every caller, or for none: returns the first
        caller whose limit is reached (nothing counted), or None (counted everywhere)."""
        # In one order in every process, so two transactions never wait on each other's rows.
        ordered = sorted(callers, key=lambda c: c.caller)
        try:
            self._admit(ordered, minute)
        except _Refused as refused:
            return refused.caller
        return None

    def _admit(self, ordered: Sequence[RateCaller], minute: int) -> None:
        with self._write("counting a request") as conn:
            dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
            for caller in ordered:
                insert = dialect.insert(_rates).values(
                    caller=caller.caller, minute=minute, requests=1, tokens=0
                )
                room = []
                if caller.requests:
                    room.append(_rates.c.requests < caller.requests)
                if caller.tokens:
                    room.append(_rates.c.tokens < caller.tokens)
                counted = conn.execute(
                    insert.on_conflict_do_update(
                        index_elements=["caller", "minute"],
                        set_={"requests": _rates.c.requests + 1},
                        where=and_(*room) if room else true(),
                    ).returning(_rates.c.requests)
                ).first()
                if counted is None:
                    raise _Refused(caller)

    def rate_add_tokens(self, callers: Sequence[str], minute: int, tokens: int) -> None:
        """Add the tokens of a finished request to its callers' windows."""
        with self._write("counting tokens") as conn:
            conn.execute(
                update(_rates)
                .where(_rates.c.caller.in_(sorted(callers)), _rates.c.minute == minute)
                .values(tokens=_rates.c.tokens + tokens)
            )

    def rate_used(self, caller: str, minute: int) -> tuple[int, int]:
        """(requests, tokens) of `caller` in `minute`."""
        with self._read("reading a rate window") as conn:
            row = conn.execute(
                select(_rates.c.requests, _rates.c.tokens).where(
                    _rates.c.caller == caller, _rates.c.minute == minute
                )
            ).first()
        return (0, 0) if row is None else (int(row.requests), int(row.tokens))

    def rate_prune(self, before_minute: int) -> int:
        with self._write("pruning rate windows") as conn:
            return int(conn.execute(delete(_rates).where(_rates.c.minute < before_minute)).rowcount)


class _Refused(Exception):
    """Leaves `rate_admit`'s transaction, which rolls back what it had counted."""

    def __init__(self, caller: RateCaller) -> None:
        self.caller = caller


def _as_dict(row: SessionRow) -> dict[str, Any]:
    return {name: getattr(row, name) for name in SessionRow.__slots__}
