"""Stored evaluations and the approval's new columns (migration 0006), on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine

from medvault.store import ApprovalStatus, EvaluationRecord, Store
from medvault.store._models import Base

DIGEST = "sha256:" + "ab" * 32


def _record(eid: str, combination: str, passed: bool, minutes: int) -> EvaluationRecord:
    at = datetime(2026, 12, 1, tzinfo=UTC) + timedelta(minutes=minutes)
    return EvaluationRecord(
        id=eid, model_id="m", model_digest=DIGEST, combination=combination, guard_version="sha256:g",
        retrieval_index=None, templates={"translation.en": "sha256:t"}, started_at=at, finished_at=at,
        run_by="root (login alice)", max_tokens=None, passed=passed, reasons=[] if passed else ["x: y"],
        baseline_id=None, metrics=[{"template": "translation.en", "review_per_100": 10.0}],
        cases=[{"case_id": "c1", "ok": True, "latency_s": 0.5}],
    )  # fmt: skip


def test_evaluations_round_trip_and_the_latest_passed_one_is_found(db_url: str) -> None:
    """Records come back whole; `latest_evaluation` picks the newest one of that combination."""
    store = Store.open(db_url)
    try:
        store.migrate()
        for record in (
            _record("e1", "sha256:c1", True, 1),
            _record("e2", "sha256:c1", False, 2),
            _record("e3", "sha256:c2", True, 3),
            _record("e4", "sha256:c1", True, 4),
        ):
            store.save_evaluation(record)
        assert [e.id for e in store.evaluations("m")] == ["e4", "e3", "e2", "e1"]
        assert store.get_evaluation("e2") == _record("e2", "sha256:c1", False, 2)
        found = store.latest_evaluation("m", "sha256:c1")
        assert found is not None and found.id == "e4" and found.passed
        assert store.latest_evaluation("m", "sha256:none") is None
        assert store.latest_evaluation("other", "sha256:c1") is None
        decision = store.decide_model(
            "m", DIGEST, ApprovalStatus.APPROVED, decided_by="root", reason="CAB-1",
            combination="sha256:c1", evaluation_id="e4",
        )  # fmt: skip
        assert store.model_approvals() == [decision]
        assert (decision.evaluation_id, decision.override) == ("e4", False)
        engine = create_engine(db_url)
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
        engine.dispose()
        mine = [d for d in diff if "evaluations" in repr(d) or "model_approvals" in repr(d)]
        assert mine == []
    finally:
        store.close()
