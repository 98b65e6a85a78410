"""The model registry: the change-control decision for each (model id, weights digest).

A digest the supervisor sees for the first time is recorded `pending`; an admin approves or retires it
(`medvault models approve|retire`). The row holds the current decision only; the audit trail holds every
decision, which the callers record (`medvault.governance` and the CLI), so that the history survives.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, select, update

from medvault.store._evaluations import EvaluationsMixin
from medvault.store._models import model_approvals as _approvals

# A digest as MedVault computes it ("sha256:<hex>") or as an operator declares it for an `openai`
# replica: printable, no spaces, short enough for the audit trail's model_digest column.
_DIGEST = re.compile(r"^[\x21-\x7e]{1,80}$")
_MAX_REASON = 512


class ApprovalStatus(StrEnum):
    """Whether a digest of a model's weights may serve: only `approved` ones do."""

    APPROVED = "approved"
    PENDING = "pending"
    RETIRED = "retired"


@dataclass(frozen=True, slots=True)
class ModelApproval:
    """The current decision on one digest of one model's weights."""

    model_id: str
    digest: str
    status: ApprovalStatus
    decided_by: str
    decided_at: datetime
    reason: str
    combination: str | None = None  # what an approval covered: weights, templates, guard (governance)
    evaluation_id: str | None = None  # the passed evaluation it rests on
    override: bool = False  # approved without one, for the recorded reason


def _approval(row: Any) -> ModelApproval:
    return ModelApproval(
        row.model_id, row.digest, ApprovalStatus(row.status), row.decided_by, row.decided_at, row.reason,
        row.combination, row.evaluation_id, bool(row.override),
    )  # fmt: skip


def check_decision(model_id: str, digest: str, decided_by: str, reason: str) -> None:
    """ValueError naming the fix when a decision's fields are not what the registry holds."""
    if not model_id or len(model_id) > 256:
        raise ValueError("a model id is 1 to 256 characters")
    if not _DIGEST.match(digest):
        raise ValueError(f"{digest!r} is not a digest; copy it from `medvault models list`")
    if not decided_by or len(decided_by) > 128:
        raise ValueError("who decided is 1 to 128 characters")
    if not reason.strip() or len(reason) > _MAX_REASON:
        raise ValueError(f"give a reason of 1 to {_MAX_REASON} characters (--reason)")


class RegistryMixin(EvaluationsMixin):
    """The part of `Store` that holds model approvals (and, through its base, evaluations)."""

    _read: Callable[[str], AbstractContextManager[Connection]]  # provided by Store
    _write: Callable[[str], AbstractContextManager[Connection]]  # provided by Store

    def model_approvals(self) -> list[ModelApproval]:
        """Every decision, by model id and then by time."""
        query = select(_approvals).order_by(_approvals.c.model_id, _approvals.c.decided_at)
        with self._read("reading model approvals") as conn:
            return [_approval(row) for row in conn.execute(query)]

    def note_model_digest(
        self, model_id: str, digest: str, *, decided_by: str, reason: str
    ) -> ModelApproval | None:
        """Record a digest seen for the first time as pending; None (and no change) if it is known."""
        check_decision(model_id, digest, decided_by, reason)
        pending = ModelApproval(
            model_id, digest, ApprovalStatus.PENDING, decided_by, datetime.now(UTC), reason
        )
        key = (_approvals.c.model_id == model_id) & (_approvals.c.digest == digest)
        with self._write("recording a model digest") as conn:
            if conn.execute(select(_approvals.c.status).where(key)).first() is not None:
                return None
            conn.execute(
                _approvals.insert().values(
                    model_id=model_id, digest=digest, status=pending.status.value,
                    decided_by=decided_by, decided_at=pending.decided_at, reason=reason,
                )
            )  # fmt: skip
        return pending

    def decide_model(
        self,
        model_id: str,
        digest: str,
        status: ApprovalStatus,
        *,
        decided_by: str,
        reason: str,
        combination: str | None = None,
        evaluation_id: str | None = None,
        override: bool = False,
    ) -> ModelApproval:
        """Approve, retire (or put back to pending) a digest, known or not yet seen; returns the decision.

        An approval names the combination it covers and the evaluation it rests on (or is an override);
        `medvault.governance.approve_model` checks that before it calls this."""
        check_decision(model_id, digest, decided_by, reason)
        decision = ModelApproval(
            model_id, digest, ApprovalStatus(status), decided_by, datetime.now(UTC), reason,
            combination, evaluation_id, override,
        )  # fmt: skip
        values = {
            "status": decision.status.value, "decided_by": decided_by, "decided_at": decision.decided_at,
            "reason": reason, "combination": combination, "evaluation_id": evaluation_id,
            "override": override,
        }  # fmt: skip
        key = (_approvals.c.model_id == model_id) & (_approvals.c.digest == digest)
        with self._write("recording a model decision") as conn:
            # Under the write lock (SQLite: BEGIN IMMEDIATE; PostgreSQL: the primary key refuses a racing
            # insert), so two admins deciding at once end with one row, the last decision.
            if conn.execute(update(_approvals).where(key).values(**values)).rowcount == 0:
                conn.execute(_approvals.insert().values(model_id=model_id, digest=digest, **values))
        return decision
