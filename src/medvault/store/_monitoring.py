"""What post-deployment monitoring and the evidence report read from the database, and the drift alerts.

Only metadata leaves these functions: times, template and model ids, digests, guard verdicts, ratings
and counts. Run content and free-text comments are never selected. The functions take the `Store`
and use its connections, so errors leave as `StoreError` like every other store call.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite

from medvault.store._audit import _to_stored
from medvault.store._content import CONTENT_TABLES, content_due
from medvault.store._models import audit_events as _events
from medvault.store._models import drift_alerts as _alerts
from medvault.store._models import feedback as _feedback
from medvault.store._models import runs as _runs
from medvault.store._types import StoredAuditEvent

if TYPE_CHECKING:
    from medvault.store._store import Store

NO_DIGEST = ""  # how an alert names weights without a pinned digest (the key must not hold NULL)


@dataclass(frozen=True, slots=True)
class RatedRun:
    """One rating, dated by its run (drift is in the answers, whenever they were rated)."""

    at: datetime
    template_id: str | None
    model_id: str | None
    model_digest: str | None
    utility: int
    critical_error: bool


@dataclass(frozen=True, slots=True)
class GuardedRun:
    """One run's time, template, model and guard verdict (None: the template has no guard)."""

    at: datetime
    template_id: str | None
    model_id: str | None
    model_digest: str | None
    guard_verdict: str | None


@dataclass(frozen=True, slots=True)
class DriftAlert:
    """A week of one template on one model's weights that departed from its baseline on one metric."""

    template_id: str
    model_id: str
    model_digest: str
    iso_week: str
    metric: str
    detected_at: datetime
    baseline_value: float
    week_value: float
    p_value: float
    alpha: float


def rated_runs(store: Store) -> list[RatedRun]:
    """Every rating with its run's time, template and model (no comment, no content)."""
    query = (
        select(
            _runs.c.created_at, _runs.c.template_id, _runs.c.model_id, _runs.c.model_digest,
            _feedback.c.utility, _feedback.c.critical_error,
        )
        .join(_runs, _runs.c.id == _feedback.c.run_id)
        .execution_options(yield_per=5000)
    )  # fmt: skip
    with store._read("reading ratings for monitoring") as conn:
        return [RatedRun(*row) for row in conn.execute(query)]


def guarded_runs(store: Store) -> list[GuardedRun]:
    """Every run's time, template, model and guard verdict (no content)."""
    query = select(
        _runs.c.created_at, _runs.c.template_id, _runs.c.model_id, _runs.c.model_digest, _runs.c.guard_verdict
    ).execution_options(yield_per=5000)
    with store._read("reading runs for monitoring") as conn:
        return [GuardedRun(*row) for row in conn.execute(query)]


_KEY = ("template_id", "model_id", "model_digest", "iso_week", "metric")


def claim_drift_alert(store: Store, alert: DriftAlert) -> bool:
    """Record `alert`; False when it was recorded before (by this or another process), so that the
    caller audits each alert exactly once."""
    dialect = postgresql if store.dialect == "postgresql" else sqlite
    values = {name: getattr(alert, name) for name in DriftAlert.__slots__}
    # ON CONFLICT DO NOTHING: of two processes racing for the same alert, exactly one inserts the row.
    statement = (
        dialect.insert(_alerts)
        .values(**values)
        .on_conflict_do_nothing(index_elements=list(_KEY))
        .returning(_alerts.c.id)
    )
    with store._write("recording a drift alert") as conn:
        return conn.execute(statement).first() is not None


def forget_drift_alert(store: Store, alert: DriftAlert) -> None:
    """Remove a claimed alert whose audit event could not be written, so that a later check audits it."""
    key = [_alerts.c[name] == getattr(alert, name) for name in _KEY]
    with store._write("removing an unaudited drift alert") as conn:
        conn.execute(_alerts.delete().where(*key))


def drift_alerts(store: Store, since_week: str | None = None) -> list[DriftAlert]:
    """Recorded alerts, oldest week first; from `since_week` ("2026-W40") on when given."""
    query = select(*(_alerts.c[f] for f in DriftAlert.__slots__)).order_by(
        _alerts.c.iso_week, _alerts.c.template_id, _alerts.c.model_id, _alerts.c.metric
    )
    if since_week is not None:
        query = query.where(_alerts.c.iso_week >= since_week)
    with store._read("reading drift alerts") as conn:
        return [DriftAlert(*row) for row in conn.execute(query)]


def latest_audit_events(store: Store, actions: Sequence[str], limit: int = 20) -> list[StoredAuditEvent]:
    """The newest audit events of the given actions, newest first (the action column is indexed)."""
    query = select(_events).where(_events.c.action.in_(actions)).order_by(_events.c.seq.desc()).limit(limit)
    with store._read("reading audit events") as conn:
        return [_to_stored(row) for row in conn.execute(query)]


def overdue_content(store: Store, now: datetime, content_days: int | None = None) -> int:
    """Rows whose content the retention in force (`content_days`, by default the store's) no longer
    allows but which may still be read from the database files: not blanked yet, or blanked while the
    compaction that wipes the text from the files is still owed."""
    days = store.content_days if content_days is None else content_days
    owed = store.compaction_owed()
    total = owed[1] if owed else 0
    with store._read("counting expired content") as conn:
        for table, columns in CONTENT_TABLES:
            query = select(func.count()).where(content_due(table, columns, now, days))
            total += int(conn.execute(query).scalar_one())
    return total


def oldest_audit_event_at(store: Store) -> datetime | None:
    """When the oldest audit event still stored was recorded (None: the trail is empty)."""
    query = select(_events.c.ts).order_by(_events.c.seq).limit(1)
    with store._read("reading the oldest audit event") as conn:
        return conn.execute(query).scalar()
