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

An admin's approval covers a combination (weights, template versions, guard version, retrieval index:
`_combination.py`) and needs a passed evaluation of exactly that combination, or an override with its
reason (`approve_model`); both are audited, and `model_history` lists every decision from the trail.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable, Mapping, Sequence

import structlog

from medvault.backends import Runtime
from medvault.errors import MedVaultError, StoreError
from medvault.governance._combination import Combination
from medvault.store import (
    ApprovalStatus,
    AuditEvent,
    ModelApproval,
    Store,
    StoredAuditEvent,
    check_decision,
)

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
    audit detail is: the row in the registry holds it in full until the next decision); an approval
    also names its combination and its evaluation, or that it was an override."""
    detail: dict[str, str | int | bool] = {"reason": decision.reason[:120]}
    if decision.combination is not None:
        detail["combination"] = decision.combination
    if decision.evaluation_id is not None:
        detail["evaluation"] = decision.evaluation_id
    if decision.override:
        detail["override"] = True
    store.record_audit(
        AuditEvent(
            ts=decision.decided_at, user=decision.decided_by, role=role,
            action=f"model.{decision.status.value}", status=200, client_kind=client_kind,
            request_id=uuid.uuid4().hex, model_id=decision.model_id, model_digest=decision.digest,
            detail=detail,
        )
    )  # fmt: skip


class ApprovalRefused(MedVaultError):
    """An approval without a passed evaluation of exactly the combination it would approve."""


def approve_model(
    store: Store,
    model_id: str,
    combination: Combination,
    *,
    decided_by: str,
    reason: str,
    override: bool = False,
    role: str = "admin",
    client_kind: str = "cli",
) -> ModelApproval:
    """Approve `combination.model_digest` for `model_id` on the ground of a passed evaluation of exactly
    this combination; without one only as an override (its reason recorded); audited either way."""
    check_decision(model_id, combination.model_digest, decided_by, reason)  # a typo says so, first
    # The newest evaluation of this combination decides: an older pass does not outweigh a newer failure.
    latest = store.latest_evaluation(model_id, combination.digest)
    evaluation = latest if latest is not None and latest.passed else None
    if evaluation is None and not override:
        tried = [e for e in store.evaluations(model_id) if e.model_digest == combination.model_digest]
        facts = []
        if latest is not None:
            facts.append(
                f"the newest of their evaluations of this combination failed (evaluation {latest.id}: "
                f"{'; '.join(latest.reasons[:3]) or 'see `medvault models history`'}); fix what it found and "
                "evaluate again"
            )
        other = next((e for e in tried if e.combination != combination.digest), None)
        if other is not None:
            evaluated = Combination(
                other.model_digest, other.templates, other.guard_version, other.retrieval_index
            )
            facts.append(
                "they were evaluated with other templates or another guard version (a material change: "
                f"{'; '.join(combination.changes_from(evaluated))})"
            )
        why = "; ".join(facts) or "these weights were never evaluated"
        raise ApprovalRefused(
            f"{model_id} {combination.model_digest}: no passed evaluation of combination "
            f"{combination.digest}: {why}. Run `medvault evaluate {model_id}`, or approve anyway with "
            "--override --reason '...' (recorded and audited)"
        )
    decision = store.decide_model(
        model_id, combination.model_digest, ApprovalStatus.APPROVED, decided_by=decided_by, reason=reason,
        combination=combination.digest, evaluation_id=evaluation.id if evaluation else None,
        override=evaluation is None,
    )  # fmt: skip
    record_decision(store, decision, role=role, client_kind=client_kind)
    return decision


def material_changes(store: Store, approval: ModelApproval, current: Combination) -> list[str] | None:
    """What changed materially since `approval` (empty: nothing); None when the approval recorded no
    combination (the bundled model's first-sight approval, or one made before evaluations existed)."""
    if approval.combination is None:
        return None
    if approval.combination == current.digest:
        return []
    evaluation = store.get_evaluation(approval.evaluation_id) if approval.evaluation_id else None
    if evaluation is None:  # an override: only its digest is known
        return [f"combination {approval.combination} -> {current.digest}"]
    approved = Combination(
        evaluation.model_digest, evaluation.templates, evaluation.guard_version, evaluation.retrieval_index
    )
    return current.changes_from(approved)


def model_history(store: Store, model_id: str | None = None) -> list[StoredAuditEvent]:
    """Every change-control event from the audit trail (seen, evaluated, approved, overridden,
    retired), oldest first."""
    found: list[StoredAuditEvent] = []
    after = 0
    while batch := store.audit_events(after_seq=after, limit=1000):
        after = batch[-1].seq
        found += [
            e for e in batch
            if e.event.action.startswith("model.") and model_id in (None, e.event.model_id)
        ]  # fmt: skip
    return found


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

    Every gateway process (each of `gateway.workers`) keeps its own, so for up to `ttl_s` after a
    decision one worker may serve by it while another does not yet; after that, all do.
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
                # Counted from the read's start: a decision committed while it ran is then seen by
                # every request `ttl_s` after the decision, however long the read took.
                began = time.monotonic()
                self._held = await asyncio.to_thread(self._read)
                self._expires = began + self._ttl
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
