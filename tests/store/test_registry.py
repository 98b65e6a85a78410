"""The model registry: approvals in the database, and migration 0003 up and down on both databases."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, inspect

from medvault.store import ApprovalStatus, Store

DIGEST = "sha256:" + "ab" * 32


def _has_table(url: str) -> bool:
    engine = create_engine(url)
    try:
        return "model_approvals" in inspect(engine).get_table_names()
    finally:
        engine.dispose()


def test_0003_adds_the_registry_and_its_downgrade_removes_it(db_url: str) -> None:
    """Upgrading 0002 -> 0003 creates `model_approvals` (decisions work), downgrading drops only it."""
    store = Store.open(db_url)
    try:
        store.migrate("0002")
        assert not _has_table(db_url)
        store.create_key("alice", "clinician")
        store.migrate()
        assert _has_table(db_url)
        store.decide_model("m", DIGEST, ApprovalStatus.APPROVED, decided_by="root", reason="validated")
        assert [a.status for a in store.model_approvals()] == [ApprovalStatus.APPROVED]
        store.downgrade("0002")
        assert not _has_table(db_url)
        assert [k.user for k in store.list_keys()] == ["alice"]
        store.migrate()
        assert store.model_approvals() == []
    finally:
        store.close()


def test_a_digest_is_noted_pending_once_and_decisions_replace_it(store: Store) -> None:
    """The first sighting records `pending`; a second is no change; approve and retire overwrite the row."""
    noted = store.note_model_digest("m", DIGEST, decided_by="medvault", reason="new weights")
    assert noted is not None and noted.status is ApprovalStatus.PENDING
    assert store.note_model_digest("m", DIGEST, decided_by="medvault", reason="again") is None
    store.decide_model("m", DIGEST, ApprovalStatus.APPROVED, decided_by="root (login alice)", reason="CAB-12")
    (row,) = store.model_approvals()
    assert (row.status, row.decided_by, row.reason) == (
        ApprovalStatus.APPROVED,
        "root (login alice)",
        "CAB-12",
    )
    assert store.note_model_digest("m", DIGEST, decided_by="medvault", reason="restart") is None
    store.decide_model("m", DIGEST, ApprovalStatus.RETIRED, decided_by="root", reason="superseded")
    assert [(a.status, a.reason) for a in store.model_approvals()] == [(ApprovalStatus.RETIRED, "superseded")]


@pytest.mark.parametrize(
    ("digest", "reason", "message"),
    [("sha256 with space", "ok", "not a digest"), (DIGEST, "  ", "reason"), ("x" * 81, "ok", "not a digest")],
)
def test_a_decision_needs_a_digest_and_a_reason(store: Store, digest: str, reason: str, message: str) -> None:
    """A malformed digest or an empty reason is refused before anything is written."""
    with pytest.raises(ValueError, match=message):
        store.decide_model("m", digest, ApprovalStatus.APPROVED, decided_by="root", reason=reason)
    assert store.model_approvals() == []
