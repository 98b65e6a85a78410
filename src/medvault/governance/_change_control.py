"""Model change control: a model serves only while every digest of its weights is approved.

The supervisor computes each replica's digest at start-up (`medvault.config.model_digest`) and
`register_digests` records the ones never seen before as pending, or, for the model bundled with
MedVault, approves them on first sight with an audited note (so `make run` keeps working). An admin
decides with `medvault models approve|retire`. The gateway asks an `ApprovalGate`, which re-reads the
decisions every few seconds, so an approval takes effect without a restart.

A model is held when any of its replicas has weights that are not approved: the router sends each request
to whichever replica is free, so one unapproved replica would make the answer depend on chance. An
`openai` replica without a declared `digest` has nothing to pin; it stays outside change control, as
docs/model-change-control.md explains.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable, Mapping, Sequence

import structlog

from medvault.backends import Runtime
from medvault.errors import StoreError
from medvault.store import ApprovalStatus, AuditEvent, ModelApproval, Store

log = structlog.get_logger("medvault.governance")

SYSTEM = "medvault"  # who decides what MedVault decides by itself (first sight, the bundled model)
APPROVAL_TTL_S = 3.0  # how long the gateway trusts what it read; an approval or retirement lands within it
BUNDLED_NOTE = "the model bundled with MedVault, approved on first start"
_SEEN_NOTE = "new weights seen at start-up"

Decisions = Mapping[tuple[str, str], ApprovalStatus]


def approve_command(model_id: str, digest: str) -> str:
    """The command an admin runs to let these weights serve."""
    return f"medvault models approve {model_id} --digest {digest} --reason '...'"


def held_reason(model_id: str, digests: Sequence[str | None], decisions: Decisions) -> str | None:
    """Why `model_id` may not serve with these replica digests, or None when it may."""
    for digest in digests:
        if digest is None:  # an `openai` replica without a declared digest: nothing to pin
            continue
        status = decisions.get((model_id, digest), ApprovalStatus.PENDING)
        if status is ApprovalStatus.RETIRED:
            return (
                f"model {model_id} has weights with digest {digest}, which are retired; serve other "
                f"weights, or approve these again: {approve_command(model_id, digest)}"
            )
        if status is not ApprovalStatus.APPROVED:
            return (
                f"model {model_id} has weights with digest {digest} awaiting approval: "
                f"{approve_command(model_id, digest)}"
            )
    return None


def decisions_of(approvals: Sequence[ModelApproval]) -> dict[tuple[str, str], ApprovalStatus]:
    return {(a.model_id, a.digest): a.status for a in approvals}


def record_decision(store: Store, decision: ModelApproval, *, role: str, client_kind: str) -> None:
    """Audit a decision: who, the model and digest, the new status, and the reason (capped, as every
    audit detail is: the row in the registry holds it in full until the next decision)."""
    store.record_audit(
        AuditEvent(
            ts=decision.decided_at, user=decision.decided_by, role=role,
            action=f"model.{decision.status.value}", status=200, client_kind=client_kind,
            request_id=uuid.uuid4().hex, model_id=decision.model_id, model_digest=decision.digest,
            detail={"reason": decision.reason[:120]},
        )
    )  # fmt: skip


def register_digests(store: Store, runtime: Runtime, bundled_digest: Callable[[], str | None]) -> list[str]:
    """Record every digest the registry has not seen (audited), and say which models are held and why.

    `bundled_digest` is asked only when a new digest turns up (hashing the bundled file is then cached).
    """
    known = decisions_of(store.model_approvals())
    for model in runtime.models:
        for digest in dict.fromkeys(r.digest for r in model.replicas if r.digest is not None):
            if (model.id, digest) in known:
                continue
            decision: ModelApproval | None
            if digest == bundled_digest():
                decision = store.decide_model(
                    model.id, digest, ApprovalStatus.APPROVED, decided_by=SYSTEM, reason=BUNDLED_NOTE
                )
            else:  # None: another process recorded it in the meantime, and audited it
                decision = store.note_model_digest(model.id, digest, decided_by=SYSTEM, reason=_SEEN_NOTE)
            if decision is not None:
                record_decision(store, decision, role="system", client_kind="supervisor")
    known = decisions_of(store.model_approvals())
    found = (held_reason(m.id, [r.digest for r in m.replicas], known) for m in runtime.models)
    return [reason for reason in found if reason is not None]


class ApprovalGate:
    """The gateway's view of the registry: which models are held and why, re-read every `ttl_s`.

    Fail closed: when the registry cannot be read, every model with pinned weights is held.
    """

    def __init__(
        self,
        lookup: Callable[[], list[ModelApproval]],
        digests: Mapping[str, Sequence[str | None]],
        ttl_s: float = APPROVAL_TTL_S,
    ) -> None:
        self._lookup = lookup
        self._digests = dict(digests)
        self._ttl = ttl_s
        self._held: dict[str, str] = {}
        self._expires = float("-inf")
        self._lock = asyncio.Lock()

    @property
    def last_held(self) -> dict[str, str]:
        """What the last read found, without reading again (for choices that need no database round)."""
        return self._held

    async def held(self) -> dict[str, str]:
        """Model id -> the reason it may not serve, for every held model."""
        if time.monotonic() < self._expires:
            return self._held
        async with self._lock:
            if time.monotonic() >= self._expires:
                self._held = await asyncio.to_thread(self._read)
                self._expires = time.monotonic() + self._ttl
        return self._held

    def _read(self) -> dict[str, str]:
        try:
            decisions = decisions_of(self._lookup())
        except StoreError as exc:
            log.error("model_registry_unreadable", error=str(exc))
            reason = "the model registry cannot be read (see the gateway log); pinned models wait"
            return {m: reason for m, digests in self._digests.items() if any(d is not None for d in digests)}
        found = {m: held_reason(m, digests, decisions) for m, digests in self._digests.items()}
        return {m: reason for m, reason in found.items() if reason is not None}
