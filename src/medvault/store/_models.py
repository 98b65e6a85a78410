"""The tables (SQLAlchemy 2 declarative). Alembic migrations in `migrations/versions` create them.

Columns holding content (patient text) are marked in their comment; everything else is metadata.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Integer,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class UtcDateTime(TypeDecorator[datetime]):
    """An aware UTC datetime on both databases (SQLite forgets the zone, so it is put back on reading)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; use an aware UTC datetime")
        value = value.astimezone(UTC)
        # SQLite stores the text as given; dropping the zone keeps its ordering and comparisons plain.
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# SQLite only auto-numbers INTEGER PRIMARY KEY; PostgreSQL gets 64-bit ids.
_BigId = BigInteger().with_variant(Integer, "sqlite")
# The largest id or sequence number either database holds: a number past it is refused, not queried.
ID_MAX = 2**63 - 1


class Base(DeclarativeBase):
    type_annotation_map: dict[Any, Any] = {datetime: UtcDateTime}  # noqa: RUF012 (SQLAlchemy's own hook)


class ApiKeyRow(Base):
    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    prefix: Mapped[str] = mapped_column(String(32), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True, comment="sha256 hex of the key")
    user: Mapped[str] = mapped_column(String(128), index=True)
    role: Mapped[str] = mapped_column(String(16))
    name: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class UserRow(Base):
    __tablename__ = "users"

    username: Mapped[str] = mapped_column(String(128), primary_key=True)
    display_name: Mapped[str | None] = mapped_column(String(256))
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String(256), comment="argon2id")
    created_at: Mapped[datetime]
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    # Migration 0004: "local" (password here) or "ldap" (the directory decides; `external_id` pins the
    # directory entry by its entryUUID/objectGUID).
    source: Mapped[str] = mapped_column(String(8), server_default="local")
    external_id: Mapped[str | None] = mapped_column(String(256))
    # Migration 0011: when the directory last confirmed this directory user (epoch seconds), so the
    # offline grace runs from it in every gateway process and across restarts.
    directory_confirmed: Mapped[float | None] = mapped_column(Float)


class AuditHeadRow(Base):
    """One row: the last sequence number and hash. Writers lock it, which orders the chain."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger)
    hash: Mapped[str] = mapped_column(String(64))


class AuditRow(Base):
    __tablename__ = "audit_events"

    seq: Mapped[int] = mapped_column(_BigId, primary_key=True, autoincrement=False)
    ts: Mapped[datetime] = mapped_column(index=True)
    user: Mapped[str | None] = mapped_column(String(128), index=True)
    role: Mapped[str | None] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(64), index=True)
    model_id: Mapped[str | None] = mapped_column(String(256))
    model_digest: Mapped[str | None] = mapped_column(String(80))
    template_id: Mapped[str | None] = mapped_column(String(128))
    template_version: Mapped[str | None] = mapped_column(String(64))
    prompt_tokens: Mapped[int | None] = mapped_column(Integer)
    completion_tokens: Mapped[int | None] = mapped_column(Integer)
    latency_ms: Mapped[float | None] = mapped_column(Float)
    status: Mapped[int] = mapped_column(Integer)
    client_kind: Mapped[str] = mapped_column(String(32))
    request_id: Mapped[str] = mapped_column(String(128))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class RunRow(Base):
    __tablename__ = "runs"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(index=True)
    expires_at: Mapped[datetime | None] = mapped_column(index=True)
    user: Mapped[str] = mapped_column(String(128), index=True)
    template_id: Mapped[str | None] = mapped_column(String(128))
    template_version: Mapped[str | None] = mapped_column(String(64))
    model_id: Mapped[str | None] = mapped_column(String(256))
    model_digest: Mapped[str | None] = mapped_column(String(80))
    status: Mapped[str] = mapped_column(String(32))
    latency_ms: Mapped[float | None] = mapped_column(Float)
    prompt_tokens: Mapped[int | None] = mapped_column(Integer)
    completion_tokens: Mapped[int | None] = mapped_column(Integer)
    guard_verdict: Mapped[str | None] = mapped_column(String(32))
    guard_counts: Mapped[dict[str, Any]] = mapped_column(JSON)
    input_json: Mapped[str | None] = mapped_column(Text, comment="CONTENT")
    output_text: Mapped[str | None] = mapped_column(Text, comment="CONTENT")
    reasoning_text: Mapped[str | None] = mapped_column(Text, comment="CONTENT")
    # The UI language the run was made in (migration 0008): the pilot report splits by it.
    language: Mapped[str | None] = mapped_column(String(8))


class FeedbackRow(Base):
    __tablename__ = "feedback"

    id: Mapped[int] = mapped_column(_BigId, primary_key=True, autoincrement=True)
    # One rating per run, one survey answer per user (migration 0002): a new one replaces the old.
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), index=True, unique=True)
    user: Mapped[str] = mapped_column(String(128), index=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime | None] = mapped_column(index=True)
    template_id: Mapped[str | None] = mapped_column(String(128))
    template_version: Mapped[str | None] = mapped_column(String(64))
    model_id: Mapped[str | None] = mapped_column(String(256))
    model_digest: Mapped[str | None] = mapped_column(String(80))
    utility: Mapped[int] = mapped_column(Integer)
    critical_error: Mapped[bool] = mapped_column(Boolean)
    categories: Mapped[list[str]] = mapped_column(JSON)
    comment: Mapped[str | None] = mapped_column(Text, comment="CONTENT")


class SurveyRow(Base):
    __tablename__ = "survey"

    id: Mapped[int] = mapped_column(_BigId, primary_key=True, autoincrement=True)
    user: Mapped[str] = mapped_column(String(128), index=True, unique=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime | None] = mapped_column(index=True)
    stability: Mapped[int] = mapped_column(Integer)
    ease_of_use: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str | None] = mapped_column(Text, comment="CONTENT")
    # The pilot's instrument (migration 0008); None in answers given before it.
    rater_role: Mapped[str | None] = mapped_column(String(16), comment="resident or consultant")
    critical_errors_seen: Mapped[int | None] = mapped_column(Integer)
    template_utility: Mapped[dict[str, int] | None] = mapped_column(JSON, comment="template id -> 0-10")


class ModelApprovalRow(Base):
    """Change control of one model's weights (migration 0003); their history is in the audit trail."""

    __tablename__ = "model_approvals"

    model_id: Mapped[str] = mapped_column(String(256), primary_key=True)
    digest: Mapped[str] = mapped_column(String(80), primary_key=True)
    status: Mapped[str] = mapped_column(String(16), comment="approved, pending or retired")
    decided_by: Mapped[str] = mapped_column(String(128))
    decided_at: Mapped[datetime]
    reason: Mapped[str] = mapped_column(String(512))
    # Migration 0006: what an approval covered (docs/governance.md, "material change") and on what ground.
    combination: Mapped[str | None] = mapped_column(String(80), default=None)
    evaluation_id: Mapped[str | None] = mapped_column(String(32), default=None)
    override: Mapped[bool | None] = mapped_column(Boolean, default=None)


class EvaluationRow(Base):
    """One `medvault evaluate` of a model over the enabled templates (migration 0006): digests and
    numbers only, never the cases' or the answers' text."""

    __tablename__ = "evaluations"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    model_id: Mapped[str] = mapped_column(String(256), index=True)
    model_digest: Mapped[str] = mapped_column(String(80))
    combination: Mapped[str] = mapped_column(String(80), index=True)
    guard_version: Mapped[str] = mapped_column(String(80))
    retrieval_index: Mapped[str | None] = mapped_column(String(80))
    templates: Mapped[dict[str, str]] = mapped_column(JSON, comment="template id.lang -> version")
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime]
    run_by: Mapped[str] = mapped_column(String(128))
    max_tokens: Mapped[int | None] = mapped_column(Integer, comment="a cap on the answers; None: none")
    passed: Mapped[bool] = mapped_column(Boolean)
    reasons: Mapped[list[str]] = mapped_column(JSON, comment="why it failed, per template")
    baseline_id: Mapped[str | None] = mapped_column(String(32), comment="the approved model's evaluation")
    metrics: Mapped[list[dict[str, Any]]] = mapped_column(JSON, comment="per template and language")
    cases: Mapped[list[dict[str, Any]]] = mapped_column(JSON, comment="per case: ids and numbers")


class DriftAlertRow(Base):
    """A post-deployment drift alert (migration 0007): numbers only, one row per key, audited once."""

    __tablename__ = "drift_alerts"
    __table_args__ = (
        UniqueConstraint(
            "template_id", "model_id", "model_digest", "iso_week", "metric", name="uq_drift_alerts_key"
        ),
    )

    id: Mapped[int] = mapped_column(_BigId, primary_key=True, autoincrement=True)
    template_id: Mapped[str] = mapped_column(String(128))
    model_id: Mapped[str] = mapped_column(String(256))
    model_digest: Mapped[str] = mapped_column(String(80), comment="'' when none is pinned")
    iso_week: Mapped[str] = mapped_column(String(8), comment="e.g. 2026-W49")
    metric: Mapped[str] = mapped_column(String(32))
    detected_at: Mapped[datetime]
    baseline_value: Mapped[float] = mapped_column(Float)
    week_value: Mapped[float] = mapped_column(Float)
    p_value: Mapped[float] = mapped_column(Float)
    alpha: Mapped[float] = mapped_column(Float, comment="the Bonferroni-adjusted level it beat")


# -- State shared by gateway processes (migration 0005). Times are epoch seconds of the gateway's clock.


class WebSessionRow(Base):
    """A workbench sign-in; the id is kept only as its SHA-256 (a read of the table opens no session)."""

    __tablename__ = "web_sessions"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user: Mapped[str] = mapped_column(String(128), index=True)
    role: Mapped[str] = mapped_column(String(16))
    lang: Mapped[str] = mapped_column(String(8))
    csrf: Mapped[str] = mapped_column(String(64))
    stamp: Mapped[str] = mapped_column(String(128))
    started: Mapped[float] = mapped_column(Float)
    last_seen: Mapped[float] = mapped_column(Float, index=True)
    checked: Mapped[float] = mapped_column(Float)


class SigninFailureRow(Base):
    """A sign-in throttle count: scope pair (user and address), address (user "") or user (address "")."""

    __tablename__ = "signin_failures"

    scope: Mapped[str] = mapped_column(String(8), primary_key=True)
    user: Mapped[str] = mapped_column(String(128), primary_key=True)
    address: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer)
    last: Mapped[float] = mapped_column(Float, index=True)


class SigninFamiliarRow(Base):
    """An address a user signed in from, and when last."""

    __tablename__ = "signin_familiar"

    user: Mapped[str] = mapped_column(String(128), primary_key=True)
    address: Mapped[str] = mapped_column(String(64), primary_key=True)
    since: Mapped[float] = mapped_column(Float, index=True)


class RateWindowRow(Base):
    """Requests and tokens of one caller (`key:<id>` or `user:<name>`) in one minute."""

    __tablename__ = "rate_windows"

    caller: Mapped[str] = mapped_column(String(160), primary_key=True)
    minute: Mapped[int] = mapped_column(_BigId, primary_key=True, autoincrement=False)
    requests: Mapped[int] = mapped_column(Integer)
    tokens: Mapped[int] = mapped_column(_BigId)


class RunClaimRow(Base):
    """A workbench run start claimed under a client-chosen Idempotency-Key (migration 0009)."""

    __tablename__ = "run_claims"

    user: Mapped[str] = mapped_column(String(128), primary_key=True)
    idem_key: Mapped[str] = mapped_column(
        String(64), primary_key=True, comment="the Idempotency-Key (a UUID)"
    )
    run_id: Mapped[str | None] = mapped_column(String(36), comment="NULL while the run streams")
    claimed_at: Mapped[float] = mapped_column(Float, index=True, comment="epoch seconds")
    finished_at: Mapped[float | None] = mapped_column(Float, comment="epoch seconds")


class CompactionOwedRow(Base):
    """Content blanked but not yet compacted out of the database files (migration 0010): set in the
    purge's transaction, removed only after a compaction succeeded. At most one row ("content")."""

    __tablename__ = "compaction_owed"

    name: Mapped[str] = mapped_column(String(16), primary_key=True)
    since: Mapped[datetime] = mapped_column(comment="the first blanking the compaction still owes")
    rows: Mapped[int] = mapped_column(BigInteger, comment="rows blanked since then")
    generation: Mapped[int] = mapped_column(BigInteger, comment="counts blankings; a compaction clears <=")


def _table(model: type[Base]) -> Table:
    return cast(Table, model.__table__)


api_keys = _table(ApiKeyRow)
users = _table(UserRow)
audit_head = _table(AuditHeadRow)
audit_events = _table(AuditRow)
runs = _table(RunRow)
feedback = _table(FeedbackRow)
survey = _table(SurveyRow)
model_approvals = _table(ModelApprovalRow)
evaluations = _table(EvaluationRow)
drift_alerts = _table(DriftAlertRow)
web_sessions = _table(WebSessionRow)
signin_failures = _table(SigninFailureRow)
signin_familiar = _table(SigninFamiliarRow)
rate_windows = _table(RateWindowRow)
run_claims = _table(RunClaimRow)
compaction_owed = _table(CompactionOwedRow)
