"""The database part of the evidence report: audit chain, retention and purges, users per role, models
and their evaluations, incidents. Counts, ids, digests and times only: no user names, no content."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from medvault.config import Settings
from medvault.governance._change_control import material_changes
from medvault.governance._combination import current_combination
from medvault.store import ApprovalStatus, EvaluationRecord, ModelApproval, Store
from medvault.store._monitoring import latest_audit_events, oldest_audit_event_at, overdue_content
from medvault.templates import Template

INCIDENT_ACTIONS = {"isolation.breach": "isolation breach", "isolation.monitor_failed": "monitor failure"}


@dataclass(frozen=True)
class ChainStatus:
    ok: bool
    checked: int
    head_hash: str | None
    problems: tuple[str, ...]
    verified_at: datetime


@dataclass(frozen=True)
class RetentionStatus:
    content_days: int
    audit_days: int
    log_days: int
    last_purge_at: datetime | None
    last_purge_rows: int | None
    last_purge_by: str | None  # the client kind: gateway (hourly) or cli (`medvault purge`)
    overdue_rows: int  # content past the retention in force, not blanked or blanked but not compacted yet
    uncompacted_rows: int  # of those: blanked, but the compaction that wipes the files is still owed
    compaction_owed_since: datetime | None
    oldest_audit_at: datetime | None  # nothing deletes audit events: compared with `audit_days`
    now: datetime

    @property
    def oldest_audit_days(self) -> int | None:
        return None if self.oldest_audit_at is None else (self.now - self.oldest_audit_at).days


@dataclass(frozen=True)
class Incident:
    at: datetime
    kind: str
    reason: str
    open: bool


@dataclass(frozen=True)
class ModelEvidence:
    """A model digest's change-control decision and the evaluations of those weights."""

    approval: ModelApproval
    evaluations: tuple[EvaluationRecord, ...]  # newest first
    configured: bool  # the model id is configured in this deployment
    # Material changes since the approval (approved digests of configured models whose approval recorded
    # a combination); None: not judged (not approved, not configured, or no combination recorded).
    changes: tuple[str, ...] | None = None


def chain_status(store: Store, now: datetime) -> ChainStatus:
    report = store.verify_audit_chain()
    return ChainStatus(report.ok, report.checked, report.head_hash, tuple(report.problems), now)


def retention_status(store: Store, settings: Settings, now: datetime) -> RetentionStatus:
    """The retention settings, the last purge the audit trail records, and content overdue for one."""
    retention = settings.retention
    purges = latest_audit_events(store, ["retention.purge"], limit=1)
    last = purges[0].event if purges else None
    rows = last.detail.get("rows") if last else None
    owed = store.compaction_owed()
    return RetentionStatus(
        retention.content_days, retention.audit_days, retention.log_days,
        last.ts if last else None, rows if isinstance(rows, int) else None,
        last.client_kind if last else None, overdue_content(store, now, retention.content_days),
        owed[1] if owed else 0, owed[0] if owed else None, oldest_audit_event_at(store), now,
    )  # fmt: skip


def roles(store: Store) -> dict[str, dict[str, int]]:
    """Per role: enabled and disabled workbench users, active API keys. Counts only, never names."""
    counts: dict[str, Counter[str]] = {"users": Counter(), "disabled users": Counter(), "API keys": Counter()}
    for user in store.list_users():
        counts["disabled users" if user.disabled else "users"][user.role.value] += 1
    for key in store.list_keys():
        if key.active:
            counts["API keys"][key.role.value] += 1
    everyone = sorted({role for counter in counts.values() for role in counter})
    return {role: {kind: counts[kind][role] for kind in counts} for role in everyone}


def incidents(store: Store, isolation_state: dict[str, Any], limit: int = 20) -> list[Incident]:
    """Breaches and monitor failures from the audit trail, newest first.

    One is open while the isolation state on disk is older than it: nothing (a reset, a new start)
    has happened since. A breach stays open while the state says breached.
    """
    since = isolation_state.get("since")
    changed_at = datetime.fromisoformat(since) if isinstance(since, str) else None
    found = []
    for stored in latest_audit_events(store, list(INCIDENT_ACTIONS), limit):
        event = stored.event
        still = changed_at is None or changed_at <= event.ts
        if event.action == "isolation.breach" and isolation_state.get("state") == "breached":
            still = True
        found.append(
            Incident(event.ts, INCIDENT_ACTIONS[event.action], str(event.detail.get("reason", "")), still)
        )
    return found


def models(
    store: Store, settings: Settings, templates: Sequence[Template], per_digest: int = 3
) -> list[ModelEvidence]:
    """Every recorded digest with its decision, its latest evaluations (numbers and digests only) and,
    for an approved digest of a configured model, what changed materially since the approval: the
    approval covers a combination, and `templates` (those the deployment offers) and the guard may have
    changed since. An approved digest counts whether or not it serves at this moment: approved, it may
    serve again as soon as its files are back (retire it to clear it)."""
    configured = {model.id for model in settings.models}
    found = []
    for approval in store.model_approvals():
        changes = None
        if approval.status is ApprovalStatus.APPROVED and approval.model_id in configured:
            now = current_combination(approval.digest, list(templates))
            listed = material_changes(store, approval, now)
            changes = None if listed is None else tuple(listed)
        # Per digest, so old weights never lose their evaluations behind a newer model's many.
        evaluations = store.evaluations(approval.model_id, limit=per_digest, model_digest=approval.digest)
        found.append(ModelEvidence(approval, tuple(evaluations), approval.model_id in configured, changes))
    return found
