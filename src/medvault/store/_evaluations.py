"""Stored evaluations: one row per `medvault evaluate` (migration 0006), digests and numbers only.

Change control reads them back: an approval needs a passed evaluation of exactly the combination it
approves (`medvault.governance`), and the next evaluation of another model compares itself with the
evaluation the approved model passed.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from medvault.store._models import evaluations as _evaluations


@dataclass(frozen=True)
class EvaluationRecord:
    """One evaluation as stored: what was evaluated (digests), by whom, the verdict and the numbers."""

    id: str
    model_id: str
    model_digest: str
    combination: str
    guard_version: str
    retrieval_index: str | None
    templates: dict[str, str]  # "<template id>.<lang>" -> template version
    started_at: datetime
    finished_at: datetime
    run_by: str
    max_tokens: int | None
    passed: bool
    reasons: list[str]
    baseline_id: str | None
    metrics: list[dict[str, Any]] = field(default_factory=list)  # per template and language
    cases: list[dict[str, Any]] = field(default_factory=list)  # per case: ids and numbers, no text


def _record(row: Any) -> EvaluationRecord:
    return EvaluationRecord(**{name: getattr(row, name) for name in EvaluationRecord.__dataclass_fields__})


class EvaluationsMixin:
    """The part of `Store` that holds evaluations (mixed in through `RegistryMixin`)."""

    _read: Callable[[str], AbstractContextManager[Connection]]  # provided by Store
    _write: Callable[[str], AbstractContextManager[Connection]]  # provided by Store

    def save_evaluation(self, record: EvaluationRecord) -> None:
        """Store a finished evaluation (ids are unique: a second save of one id fails)."""
        with self._write("recording an evaluation") as conn:
            conn.execute(_evaluations.insert().values(**asdict(record)))

    def evaluations(
        self, model_id: str | None = None, limit: int = 100, *, model_digest: str | None = None
    ) -> list[EvaluationRecord]:
        """The latest evaluations first, of one model (and of one weights digest of it) or of all."""
        query = select(_evaluations).order_by(_evaluations.c.finished_at.desc()).limit(limit)
        if model_id is not None:
            query = query.where(_evaluations.c.model_id == model_id)
        if model_digest is not None:
            query = query.where(_evaluations.c.model_digest == model_digest)
        with self._read("reading evaluations") as conn:
            return [_record(row) for row in conn.execute(query)]

    def get_evaluation(self, evaluation_id: str) -> EvaluationRecord | None:
        query = select(_evaluations).where(_evaluations.c.id == evaluation_id)
        with self._read("reading an evaluation") as conn:
            row = conn.execute(query).first()
        return _record(row) if row is not None else None

    def latest_evaluation(self, model_id: str, combination: str) -> EvaluationRecord | None:
        """The newest evaluation of exactly this combination of this model, passed or failed, if any."""
        query = (
            select(_evaluations)
            .where((_evaluations.c.model_id == model_id) & (_evaluations.c.combination == combination))
            .order_by(_evaluations.c.finished_at.desc(), _evaluations.c.started_at.desc())
            .limit(1)
        )
        with self._read("reading evaluations") as conn:
            row = conn.execute(query).first()
        return _record(row) if row is not None else None
