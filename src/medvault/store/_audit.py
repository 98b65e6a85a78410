"""The hash-chained audit trail.

Each event's hash is sha256(prev_hash || canonical JSON of its fields, sequence number included).
A single `audit_head` row holds the last sequence number and hash; every writer locks it inside its
transaction (PostgreSQL: SELECT ... FOR UPDATE; SQLite: the write lock of BEGIN IMMEDIATE), so
events from several processes still form one unbroken chain. Verification recomputes every hash and
compares the end of the chain with the head row, which catches edited, deleted, inserted, reordered
and truncated events.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from datetime import UTC
from typing import Any

from sqlalchemy import Connection, Engine, select

from medvault.errors import StoreError
from medvault.store._engine import translated
from medvault.store._models import audit_events as _events
from medvault.store._models import audit_head as _head
from medvault.store._types import AuditEvent, ChainReport, StoredAuditEvent

GENESIS = "0" * 64
_MAX_PROBLEMS = 100
_COLUMNS = [column.name for column in _events.columns]
_LOCK_FOR_UPDATE = "SELECT seq, hash FROM audit_head WHERE id = 1 FOR UPDATE"


def _fields(seq: int, event: AuditEvent) -> dict[str, Any]:
    """The hashed fields, normalised so that what is read back hashes exactly as what was written."""
    return {
        "seq": seq,
        "ts": event.ts.astimezone(UTC).isoformat(timespec="microseconds"),
        "user": event.user,
        "role": None if event.role is None else str(event.role),
        "action": event.action,
        "model_id": event.model_id,
        "model_digest": event.model_digest,
        "template_id": event.template_id,
        "template_version": event.template_version,
        "prompt_tokens": None if event.prompt_tokens is None else int(event.prompt_tokens),
        "completion_tokens": None if event.completion_tokens is None else int(event.completion_tokens),
        "latency_ms": None if event.latency_ms is None else float(event.latency_ms),
        "status": int(event.status),
        "client_kind": event.client_kind,
        "request_id": event.request_id,
        "detail": dict(event.detail),
    }


def chain_hash(prev_hash: str, seq: int, event: AuditEvent) -> str:
    return _hash_of(prev_hash, _fields(seq, event))


def _hash_of(prev_hash: str, fields: dict[str, Any]) -> str:
    canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(prev_hash.encode("ascii") + canonical.encode("utf-8")).hexdigest()


class ChainAppender:
    """Appends batches to the chain over one DBAPI connection of the engine's pool.

    The audit write runs once per request, so it skips SQLAlchemy's per-statement machinery (which
    costs about twenty times the SQLite work itself) and sends fixed SQL straight to the driver,
    converting values with the columns' own bind processors so rows read back exactly as the ORM
    writes them. Not thread-safe: each thread uses its own appender.
    """

    def __init__(self, engine: Engine) -> None:
        dialect = engine.dialect
        self._engine = engine
        self._sqlite = dialect.name == "sqlite"
        self._errors: type[Exception] = dialect.loaded_dbapi.Error
        self._procs = [c.type.dialect_impl(dialect).bind_processor(dialect) for c in _events.columns]
        # The SQL below is assembled from our own column names and the driver's placeholder only.
        mark = "?" if self._sqlite else "%s"
        names = ", ".join(dialect.identifier_preparer.quote(name) for name in _COLUMNS)
        marks = ", ".join([mark] * len(_COLUMNS))
        self._insert = f"INSERT INTO audit_events ({names}) VALUES ({marks})"  # noqa: S608 (see above)
        # SQLite takes its write lock with BEGIN IMMEDIATE; PostgreSQL locks the head row itself.
        self._lock = "SELECT seq, hash FROM audit_head WHERE id = 1" if self._sqlite else _LOCK_FOR_UPDATE
        self._move = f"UPDATE audit_head SET seq = {mark}, hash = {mark} WHERE id = 1"  # noqa: S608 (see above)
        self._conn: Any = None

    def _row(self, fields: dict[str, Any], event: AuditEvent, prev: str, digest: str) -> tuple[Any, ...]:
        fields = {**fields, "ts": event.ts, "prev_hash": prev, "hash": digest}
        return tuple(
            proc(fields[name]) if proc else fields[name]
            for name, proc in zip(_COLUMNS, self._procs, strict=True)
        )

    def append(self, events: Sequence[AuditEvent]) -> None:
        """Append `events` in one committed transaction, or raise `StoreError` and write none."""
        with translated("connecting for the audit trail"):
            if self._conn is None:
                self._conn = self._engine.raw_connection()
        try:
            self._transaction(events)
        except self._errors as exc:
            self._discard()
            first_line = (str(exc).splitlines() or [""])[0]
            raise StoreError(
                f"database error while writing audit events: {type(exc).__name__}: {first_line}"
            ) from exc
        except StoreError:
            self._discard()
            raise

    def _transaction(self, events: Sequence[AuditEvent]) -> None:
        cursor = self._conn.cursor()
        try:
            if self._sqlite:
                cursor.execute("BEGIN IMMEDIATE")
            cursor.execute(self._lock)
            head = cursor.fetchone()
            if head is None:
                raise StoreError("the audit chain has no head row; run `store.migrate()`")
            seq, prev = head
            rows = []
            for event in events:
                seq += 1
                fields = _fields(seq, event)
                digest = _hash_of(prev, fields)
                rows.append(self._row(fields, event, prev, digest))
                prev = digest
            cursor.executemany(self._insert, rows)
            cursor.execute(self._move, (seq, prev))
            self._conn.commit()
        finally:
            cursor.close()

    def _discard(self) -> None:
        # Not returned to the pool: after a failure the connection may be broken or mid-transaction.
        if self._conn is not None:
            conn, self._conn = self._conn, None
            conn.invalidate()

    def close(self) -> None:
        """Give the connection back to the pool."""
        if self._conn is not None:
            conn, self._conn = self._conn, None
            conn.close()


def _to_stored(row: Any) -> StoredAuditEvent:
    event = AuditEvent(
        ts=row.ts,
        user=row.user,
        role=row.role,
        action=row.action,
        status=row.status,
        client_kind=row.client_kind,
        request_id=row.request_id,
        model_id=row.model_id,
        model_digest=row.model_digest,
        template_id=row.template_id,
        template_version=row.template_version,
        prompt_tokens=row.prompt_tokens,
        completion_tokens=row.completion_tokens,
        latency_ms=row.latency_ms,
        detail=row.detail or {},
    )
    return StoredAuditEvent(seq=row.seq, event=event, prev_hash=row.prev_hash, hash=row.hash)


def iter_events(conn: Connection, after_seq: int = 0, limit: int | None = None) -> Iterator[StoredAuditEvent]:
    """Events in chain order, streamed so that a long trail does not have to fit in memory."""
    query = select(_events).where(_events.c.seq > after_seq).order_by(_events.c.seq)
    if limit is not None:
        query = query.limit(limit)
    for row in conn.execution_options(yield_per=1000).execute(query):
        yield _to_stored(row)


def verify(conn: Connection) -> ChainReport:
    """Recompute the chain from the first event and compare its end with the head row."""
    problems: list[str] = []
    expected_seq, prev, checked = 1, GENESIS, 0
    rows = conn.execution_options(yield_per=1000).execute(select(_events).order_by(_events.c.seq))
    for row in rows:
        checked += 1
        seq = row.seq
        if seq != expected_seq:
            problems.append(f"seq {seq}: expected seq {expected_seq} (an event was deleted or inserted)")
        if row.prev_hash != prev:
            problems.append(f"seq {seq}: prev_hash does not match the previous event (deleted or reordered)")
        try:
            recomputed = chain_hash(row.prev_hash, seq, _to_stored(row).event)
        except (ValueError, TypeError) as exc:  # a field edited into something an event cannot hold
            problems.append(f"seq {seq}: unreadable event ({exc})")
            recomputed = ""
        if recomputed != row.hash:
            problems.append(f"seq {seq}: hash does not match the event's fields (edited)")
        expected_seq, prev = seq + 1, row.hash
        if len(problems) >= _MAX_PROBLEMS:
            problems.append("more problems not listed")
            break
    head = conn.execute(select(_head.c.seq, _head.c.hash).where(_head.c.id == 1)).first()
    head_seq, head_hash = (head.seq, head.hash) if head is not None else (0, GENESIS)
    if len(problems) < _MAX_PROBLEMS and (head_seq != expected_seq - 1 or head_hash != prev):
        problems.append(
            f"chain ends at seq {expected_seq - 1} but the head row says seq {head_seq} "
            "(events were removed from or added to the end)"
        )
    return ChainReport(ok=not problems, checked=checked, problems=problems, head_hash=head_hash)
