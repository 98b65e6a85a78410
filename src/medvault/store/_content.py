"""Workbench runs, feedback and the usability survey, and the purge of expired content.

Content (a run's input, output and reasoning; free-text comments) is written only when the store
was opened with `content_days` > 0, and then carries an expiry. `purge_expired` blanks content past
its expiry or older than the `content_days` in force now (so lowering the setting, even to 0, shortens
what is already stored) and compacts the database, so the text cannot be read back from the files
afterwards. The blanking records in its own transaction that a compaction is owed (table
`compaction_owed`); only a successful compaction clears that, so a compaction that failed (a reader
held SQLite's write-ahead log, VACUUM FULL timed out on a lock) is retried by the next purge of any
process, and the evidence report counts the rows as overdue until then.

There is one rating per run and one survey answer per user (unique indexes, migration 0002): saving
again replaces the earlier one in a single `INSERT ... ON CONFLICT DO UPDATE`, so two racing saves
cannot both land. The audit trail keeps every submission's numbers; see docs/workbench.md for why.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Connection, Engine, Table, and_, delete, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from medvault.errors import StoreError
from medvault.store._engine import BUSY_TIMEOUT_MS, translated
from medvault.store._models import compaction_owed as _owed
from medvault.store._models import feedback as _feedback
from medvault.store._models import runs as _runs
from medvault.store._models import survey as _survey
from medvault.store._models import users as _users
from medvault.store._types import FEEDBACK_CATEGORIES, Feedback, Run, Survey

_RUN_CONTENT = ("input_json", "output_text", "reasoning_text")
# Every table that holds content, with its content columns.
CONTENT_TABLES: tuple[tuple[Table, tuple[str, ...]], ...] = (
    (_runs, _RUN_CONTENT), (_feedback, ("comment",)), (_survey, ("comment",)),
)  # fmt: skip
_OWED = "content"  # the one row of `compaction_owed`
# A reader's snapshot pins the old pages in SQLite's write-ahead log, so the checkpoint that empties it
# waits for readers (the busy handler) this long per try, a few times, before the purge gives up.
_CHECKPOINT_TRIES = 3
_CHECKPOINT_WAIT_MS = 2000
_CHECKPOINT_PAUSE_S = 0.5
# VACUUM FULL queues for an exclusive lock, and every query on the table queues behind it: waiting for a
# long reader would stall the gateway, so it gives up after this and the next purge retries.
PG_LOCK_TIMEOUT_MS = 10_000


class CompactionFailed(StoreError):
    """The purge blanked `rows` rows (committed) but the compaction failed; it stays owed."""

    def __init__(self, message: str, rows: int) -> None:
        super().__init__(message)
        self.rows = rows


def content_due(
    table: Table, columns: Sequence[str], now: datetime, content_days: int | None
) -> ColumnElement[bool]:
    """Rows that still hold content the retention in force no longer allows: past the expiry they were
    stored with, or older than `content_days` now (0: every row; None: the stored expiry only)."""
    holding = or_(*(table.c[name].is_not(None) for name in columns))
    expired = table.c.expires_at <= now
    if content_days is None:
        return and_(holding, expired)
    return and_(holding, or_(expired, table.c.created_at <= now - timedelta(days=content_days)))


def _score(name: str, value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 10:
        raise ValueError(f"{name} must be a whole number from 0 to 10, got {value!r}")
    return value


def _run(row: Any) -> Run:
    return Run(**{name: getattr(row, name) for name in Run.__slots__})


def _feedback_of(row: Any) -> Feedback:
    return Feedback(**{name: getattr(row, name) for name in Feedback.__slots__})


def _survey_of(row: Any) -> Survey:
    return Survey(**{name: getattr(row, name) for name in Survey.__slots__})


class ContentMixin:
    """The part of `Store` that holds workbench data; see the module docstring for retention."""

    content_days: int
    _engine: Engine

    _read: Callable[[str], AbstractContextManager[Connection]]  # provided by Store
    _write: Callable[[str], AbstractContextManager[Connection]]  # provided by Store

    def _expiry(self, now: datetime) -> datetime | None:
        return now + timedelta(days=self.content_days) if self.content_days > 0 else None

    def _keep(self, text: str | None) -> str | None:
        return text if self.content_days > 0 else None

    def save_run(
        self,
        *,
        user: str,
        status: str,
        template_id: str | None = None,
        template_version: str | None = None,
        model_id: str | None = None,
        model_digest: str | None = None,
        latency_ms: float | None = None,
        prompt_tokens: int | None = None,
        completion_tokens: int | None = None,
        guard_verdict: str | None = None,
        guard_counts: Mapping[str, int] | None = None,
        input_json: str | None = None,
        output_text: str | None = None,
        reasoning_text: str | None = None,
        language: str | None = None,
    ) -> Run:
        """Store a run; its content is dropped here unless content retention is on."""
        if not user or not status:
            raise ValueError("a run needs a user and a status")
        counts = dict(guard_counts or {})
        if any(isinstance(v, bool) or not isinstance(v, int) for v in counts.values()):
            raise ValueError("guard_counts values must be whole numbers")
        now = datetime.now(UTC)
        values: dict[str, Any] = {
            "id": str(uuid.uuid4()), "created_at": now, "expires_at": self._expiry(now), "user": user,
            "template_id": template_id, "template_version": template_version, "model_id": model_id,
            "model_digest": model_digest, "status": status, "latency_ms": latency_ms,
            "prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
            "guard_verdict": guard_verdict, "guard_counts": counts, "input_json": self._keep(input_json),
            "output_text": self._keep(output_text), "reasoning_text": self._keep(reasoning_text),
            "language": language,
        }  # fmt: skip
        with self._write("saving a run") as conn:
            conn.execute(_runs.insert().values(**values))
        return Run(**values)

    def get_run(self, run_id: str) -> Run | None:
        with self._read("reading a run") as conn:
            row = conn.execute(select(_runs).where(_runs.c.id == run_id)).first()
        return None if row is None else _run(row)

    def list_runs(self, user: str | None = None, limit: int = 100) -> list[Run]:
        """The newest runs first, of one user or of everyone."""
        query = select(_runs).order_by(_runs.c.created_at.desc()).limit(limit)
        if user is not None:
            query = query.where(_runs.c.user == user)
        with self._read("listing runs") as conn:
            return [_run(row) for row in conn.execute(query)]

    def save_feedback(
        self,
        *,
        run_id: str,
        user: str,
        utility: int,
        critical_error: bool,
        categories: Sequence[str] = (),
        comment: str | None = None,
    ) -> Feedback:
        """Rate a run; the run's template and model are copied so analytics need no join."""
        _score("utility", utility)
        if not isinstance(critical_error, bool):
            raise ValueError("critical_error must be true or false")
        unknown = sorted(set(categories) - FEEDBACK_CATEGORIES)
        if unknown:
            raise ValueError(f"unknown feedback categories {unknown}; use {sorted(FEEDBACK_CATEGORIES)}")
        now = datetime.now(UTC)
        with self._write("saving feedback") as conn:
            run = conn.execute(select(_runs).where(_runs.c.id == run_id)).first()
            if run is None:
                raise StoreError(f"no run {run_id!r} to give feedback on")
            values: dict[str, Any] = {
                "run_id": run_id, "user": user, "created_at": now, "template_id": run.template_id,
                "template_version": run.template_version, "model_id": run.model_id,
                "model_digest": run.model_digest, "utility": utility, "critical_error": critical_error,
                "categories": sorted(set(categories)), "comment": self._keep(comment),
            }  # fmt: skip
            new_id = self._upsert(conn, _feedback, "run_id", {"expires_at": self._expiry(now), **values})
        return Feedback(id=new_id, **values)

    def get_feedback(self, run_id: str) -> Feedback | None:
        """The rating of a run, if it has one (there is at most one)."""
        with self._read("reading feedback") as conn:
            row = conn.execute(select(_feedback).where(_feedback.c.run_id == run_id)).first()
        return None if row is None else _feedback_of(row)

    def list_feedback(self, limit: int = 1000) -> list[Feedback]:
        with self._read("listing feedback") as conn:
            rows = conn.execute(select(_feedback).order_by(_feedback.c.id).limit(limit)).all()
        return [_feedback_of(row) for row in rows]

    def save_survey(
        self, *, user: str, stability: int, ease_of_use: int, comment: str | None = None
    ) -> Survey:
        """Store a user's survey answer, replacing any earlier one of theirs."""
        _score("stability", stability)
        _score("ease_of_use", ease_of_use)
        now = datetime.now(UTC)
        values: dict[str, Any] = {
            "user": user, "created_at": now, "stability": stability, "ease_of_use": ease_of_use,
            "comment": self._keep(comment),
        }  # fmt: skip
        with self._write("saving a survey answer") as conn:
            new_id = self._upsert(conn, _survey, "user", {"expires_at": self._expiry(now), **values})
        return Survey(id=new_id, **values)

    def get_survey(self, user: str) -> Survey | None:
        """The user's survey answer, if any (there is at most one)."""
        with self._read("reading a survey answer") as conn:
            row = conn.execute(select(_survey).where(_survey.c.user == user)).first()
        return None if row is None else _survey_of(row)

    def user_stamp(self, username: str) -> str | None:
        """A fingerprint of what a sign-in rests on (role, password hash), or None if the user is gone
        or disabled: a session opened under another stamp is no longer valid."""
        with self._read("checking a user") as conn:
            row = conn.execute(
                select(_users.c.role, _users.c.password_hash, _users.c.disabled).where(
                    _users.c.username == username
                )
            ).first()
        if row is None or row.disabled:
            return None
        return hashlib.sha256(f"{row.role}\0{row.password_hash}".encode()).hexdigest()

    def _upsert(self, conn: Connection, table: Table, key: str, values: dict[str, Any]) -> int:
        """Insert `values`, or overwrite the row with the same `key`; the row's id either way."""
        dialect = postgresql if self._engine.dialect.name == "postgresql" else sqlite
        insert = dialect.insert(table).values(**values)
        changed = {name: insert.excluded[name] for name in values if name != key}
        statement = insert.on_conflict_do_update(index_elements=[key], set_=changed)
        return int(conn.execute(statement.returning(table.c.id)).scalar_one())

    def purge_expired(self, now: datetime | None = None, *, shorten: bool = True) -> int:
        """Blank content the retention no longer allows, then compact when rows were blanked now or a
        compaction is still owed; returns how many rows lost content. Raises `CompactionFailed` (which
        carries that count) when the compaction fails: the blanking stands and the compaction stays owed.
        With `shorten`, the store's `content_days` also cuts what was stored to be kept longer (a store
        opened with 0, the default, blanks every row's content); without, only stored expiries count."""
        now = now or datetime.now(UTC)
        days = self.content_days if shorten else None
        purged = 0
        with self._write("purging expired content") as conn:
            for table, columns in CONTENT_TABLES:
                result = conn.execute(
                    update(table)
                    .where(content_due(table, columns, now, days))
                    .values(expires_at=None, **dict.fromkeys(columns))
                )
                purged += result.rowcount
            if purged:
                self._owe_compaction(conn, purged)
        # VACUUM rewrites the whole file and holds the write lock: only when there is a reason.
        if purged or self.compaction_owed() is not None:
            try:
                self.compact()
            except StoreError as exc:
                raise CompactionFailed(
                    f"{exc}; content of {purged} rows was blanked now, the compaction is owed and the next "
                    "purge retries it",
                    purged,
                ) from exc
        return purged

    def content_kept_longer(self, now: datetime | None = None) -> int:
        """Rows whose stored expiry still allows their content but the store's `content_days` does not:
        what only a purge with `shorten` blanks (the setting was lowered, or this process reads another
        configuration than the service's)."""
        now = now or datetime.now(UTC)
        total = 0
        with self._read("counting content kept longer than the setting allows") as conn:
            for table, columns in CONTENT_TABLES:
                due = content_due(table, columns, now, self.content_days)
                query = select(func.count()).select_from(table).where(due, table.c.expires_at > now)
                total += int(conn.execute(query).scalar_one())
        return total

    def _owe_compaction(self, conn: Connection, rows: int) -> None:
        dialect = postgresql if self._engine.dialect.name == "postgresql" else sqlite
        insert = dialect.insert(_owed).values(name=_OWED, since=datetime.now(UTC), rows=rows, generation=1)
        conn.execute(
            insert.on_conflict_do_update(
                index_elements=["name"],
                set_={"rows": _owed.c.rows + rows, "generation": _owed.c.generation + 1},
            )
        )

    def compaction_owed(self) -> tuple[datetime, int] | None:
        """(since, rows) of content blanked but not yet compacted out of the files, or None."""
        with self._read("checking for an owed compaction") as conn:
            row = conn.execute(select(_owed.c.since, _owed.c.rows).where(_owed.c.name == _OWED)).first()
        return None if row is None else (row.since, int(row.rows))

    def compact(self) -> None:
        """Rewrite the database so deleted text is gone from its files, not just unreferenced; then clear
        the owed compaction of every blanking committed before it started."""
        with self._read("checking for an owed compaction") as conn:
            owed = conn.execute(select(_owed.c.generation).where(_owed.c.name == _OWED)).scalar()
        with translated("compacting the database"), self._engine.connect() as conn:
            autocommit = conn.execution_options(isolation_level="AUTOCOMMIT")
            if self._engine.dialect.name == "sqlite":
                _compact_sqlite(autocommit)
            else:
                _compact_postgresql(autocommit)
        if owed is not None:  # a blanking committed meanwhile has a higher generation and stays owed
            with self._write("clearing the owed compaction") as conn:
                conn.execute(delete(_owed).where(_owed.c.name == _OWED, _owed.c.generation <= owed))


def _compact_sqlite(conn: Connection) -> None:
    conn.exec_driver_sql("VACUUM")
    conn.exec_driver_sql(f"PRAGMA busy_timeout={_CHECKPOINT_WAIT_MS}")
    try:
        for attempt in range(_CHECKPOINT_TRIES):
            if attempt:
                time.sleep(_CHECKPOINT_PAUSE_S)
            busy, _log, _done = conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").one()
            if not busy:
                return
    finally:
        conn.exec_driver_sql(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    raise StoreError(
        f"could not truncate the write-ahead log: a reader held it through {_CHECKPOINT_TRIES} tries"
    )


def _compact_postgresql(conn: Connection) -> None:
    # VACUUM FULL writes new table files and unlinks the old ones with the dead rows.
    conn.exec_driver_sql(f"SET lock_timeout = {int(PG_LOCK_TIMEOUT_MS)}")
    try:
        for table, _columns in CONTENT_TABLES:
            conn.exec_driver_sql(f"VACUUM FULL {table.name}")
    finally:
        conn.exec_driver_sql("RESET lock_timeout")
