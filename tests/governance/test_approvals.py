"""Start-up registration of digests and the gateway's cached, fail-closed view of the approvals."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

from medvault.backends import ModelSpec, ReplicaSpec, Runtime
from medvault.errors import StoreError
from medvault.governance import ApprovalGate, register_digests
from medvault.store import ApprovalStatus, ModelApproval, Store

BUNDLED, OTHER = "sha256:" + "aa" * 32, "sha256:" + "bb" * 32


def _runtime(**digests: str | None) -> Runtime:
    return Runtime(
        models=[
            ModelSpec(id=m, replicas=[ReplicaSpec(name=f"{m}#0", url="http://127.0.0.1:9/v1", digest=d)])
            for m, d in digests.items()
        ]
    )


def _store(tmp_path: Path) -> Store:
    store = Store.open(f"sqlite:///{tmp_path / 'medvault.db'}")
    store.migrate()
    return store


def test_bundled_weights_are_approved_once_and_others_wait(tmp_path: Path) -> None:
    """First sight: bundled weights approved, others pending, undeclared ones ignored; a retired bundled
    digest stays retired at the next start, and each decision is audited once."""
    store = _store(tmp_path)
    try:
        held = register_digests(store, _runtime(a=BUNDLED, b=OTHER, c=None), lambda: BUNDLED)
        assert len(held) == 1 and held[0].startswith(f"model b has weights with digest {OTHER} awaiting")
        assert {(a.model_id, a.status) for a in store.model_approvals()} == {
            ("a", ApprovalStatus.APPROVED),
            ("b", ApprovalStatus.PENDING),
        }
        store.decide_model("a", BUNDLED, ApprovalStatus.RETIRED, decided_by="root", reason="withdrawn")
        held = register_digests(store, _runtime(a=BUNDLED, b=OTHER, c=None), lambda: BUNDLED)
        assert [reason.split(" has ")[0] for reason in held] == ["model a", "model b"]
        actions = [s.event.action for s in store.audit_events()]
        assert actions == ["model.approved", "model.pending"]
    finally:
        store.close()


def test_the_gate_rereads_after_its_ttl_and_holds_everything_pinned_when_blind() -> None:
    """A decision shows after the cache time, not before; an unreadable registry holds every pinned model."""
    approvals: list[ModelApproval] = []
    broken = False

    def lookup() -> list[ModelApproval]:
        if broken:
            raise StoreError("database error while reading model approvals: OperationalError")
        return list(approvals)

    async def scenario() -> None:
        nonlocal broken
        gate = ApprovalGate(lookup, {"a": [OTHER], "open": [None]}, ttl_s=0.2)
        assert list(await gate.held()) == ["a"]
        approvals.append(ModelApproval("a", OTHER, ApprovalStatus.APPROVED, "root", datetime.now(UTC), "ok"))
        assert list(await gate.held()) == ["a"]  # still cached
        await asyncio.sleep(0.25)
        assert await gate.held() == {}
        broken = True
        await asyncio.sleep(0.25)
        assert list(await gate.held()) == ["a"]

    asyncio.run(scenario())
