"""The written pass/fail policy of an evaluation, its baseline, and the stored, audited record.

An evaluation passes when every template and language meets the absolute thresholds of
`governance.evaluation` and falls behind the approved model's evaluation (the baseline) by no more
than the allowed margins; every failed rule is one line in `reasons`, naming the template and numbers.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from medvault.config import EvaluationPolicySettings
from medvault.governance._combination import Combination
from medvault.governance._evaluation import CaseResult, TemplateMetrics, metrics_by_key
from medvault.store import ApprovalStatus, AuditEvent, EvaluationRecord, Store


def _pct(value: float) -> str:
    return f"{100 * value:.0f}%"


def _absolute(m: TemplateMetrics, policy: EvaluationPolicySettings) -> list[str]:
    """Floors and ceilings that hold whatever the baseline."""
    key, problems = m.template, []
    if m.runs < policy.min_cases:
        problems.append(f"{key}: {m.runs} case(s) run, the policy asks for {policy.min_cases}")
    if m.runs and m.failed / m.runs > policy.max_failed_runs:
        problems.append(f"{key}: the engine failed {m.failed} of {m.runs} runs")
    ceilings = (
        ("review", m.review_per_100, policy.max_review_per_100),
        ("unchecked", m.unchecked_per_100, policy.max_unchecked_per_100),
    )
    for name, value, ceiling in ceilings:
        if value is not None and value > ceiling:
            problems.append(f"{key}: guard {name} {value:.1f} per 100 runs, above {ceiling:g}")
    floors = (
        ("schema-valid answers", m.schema_valid, policy.min_schema_valid),
        ("verbatim quotes", m.quote_valid, policy.min_quote_valid),
        ("agreement with the calculator", m.agreement, policy.min_agreement),
    )
    for name, value, floor in floors:
        if value is not None and value < floor:
            problems.append(f"{key}: {name} {_pct(value)}, below {_pct(floor)}")
    # A model that stops quoting gives no quote to check. For a template that asks for quotes, no quote
    # in any answer counts as 0% verbatim (one answer without a quote, e.g. "no errors found", is fine).
    if m.quoting and m.quote_valid is None and m.runs > m.failed and policy.min_quote_valid > 0:
        problems.append(f"{key}: no answer carried a verbatim quote, though the template asks for them")
    return problems


def _relative(m: TemplateMetrics, base: Mapping[str, Any], policy: EvaluationPolicySettings) -> list[str]:
    """How far the candidate may fall behind the approved model on the same template."""
    key, problems = m.template, []
    increases = (
        ("review", m.review_per_100, base.get("review_per_100"), policy.max_review_increase_per_100),
        (
            "unchecked",
            m.unchecked_per_100,
            base.get("unchecked_per_100"),
            policy.max_unchecked_increase_per_100,
        ),
    )
    for name, value, before, margin in increases:
        if value is not None and before is not None and value - before > margin:
            problems.append(
                f"{key}: guard {name} {value:.1f} per 100 runs vs {before:.1f} for the approved model "
                f"(at most +{margin:g})"
            )
    drops = (
        ("schema-valid answers", m.schema_valid, base.get("schema_valid")),
        ("verbatim quotes", m.quote_valid, base.get("quote_valid")),
        ("agreement with the calculator", m.agreement, base.get("agreement")),
    )
    for name, value, before in drops:
        if value is not None and before is not None and before - value > policy.max_rate_drop:
            problems.append(
                f"{key}: {name} {_pct(value)} vs {_pct(before)} for the approved model "
                f"(at most -{_pct(policy.max_rate_drop)})"
            )
    before_quotes = base.get("quote_valid")
    if m.quote_valid is None and before_quotes is not None and before_quotes > policy.max_rate_drop:
        problems.append(
            f"{key}: no answer carried a verbatim quote; the approved model's quotes were "
            f"{_pct(before_quotes)} verbatim"
        )
    before_latency = base.get("latency_s")
    if policy.max_latency_ratio is not None and m.latency_s is not None and before_latency:
        ratio = m.latency_s / before_latency
        if ratio > policy.max_latency_ratio:
            problems.append(f"{key}: median latency {ratio:.2f}x the approved model's")
    return problems


def judge(
    metrics: Sequence[TemplateMetrics],
    baseline: EvaluationRecord | None,
    policy: EvaluationPolicySettings,
    max_tokens: int | None,
) -> list[str]:
    """Why the evaluation fails under the policy; empty: it passes."""
    reasons: list[str] = [] if metrics else ["no template was evaluated"]
    if max_tokens is not None and not policy.allow_capped:
        reasons.append(f"answers were capped at {max_tokens} tokens (--max-tokens); only a full run can pass")
    base = metrics_by_key(baseline.metrics) if baseline is not None else {}
    for m in metrics:
        reasons += _absolute(m, policy)
        if m.template in base:
            reasons += _relative(m, base[m.template], policy)
    return reasons


def baseline_for(store: Store, model_id: str) -> EvaluationRecord | None:
    """The evaluation the currently approved weights of `model_id` rest on: the one the approval names,
    else the latest passed evaluation of those weights; None when there is none (bundled, override)."""
    approved = [
        a for a in store.model_approvals() if a.model_id == model_id and a.status is ApprovalStatus.APPROVED
    ]
    for approval in sorted(approved, key=lambda a: a.decided_at, reverse=True):
        if approval.evaluation_id is not None:
            found = store.get_evaluation(approval.evaluation_id)
            if found is not None:
                return found
        passed = [e for e in store.evaluations(model_id) if e.passed and e.model_digest == approval.digest]
        if passed:
            return passed[0]
    return None


@dataclass(frozen=True)
class Outcome:
    """A finished evaluation: the stored record and the objects it was built from (for the report)."""

    record: EvaluationRecord
    metrics: list[TemplateMetrics]
    results: list[CaseResult]
    baseline: EvaluationRecord | None


def record_evaluation(
    store: Store,
    *,
    model_id: str,
    combination: Combination,
    metrics: list[TemplateMetrics],
    results: list[CaseResult],
    baseline: EvaluationRecord | None,
    policy: EvaluationPolicySettings,
    max_tokens: int | None,
    started_at: datetime,
    finished_at: datetime,
    run_by: str,
    client_kind: str = "cli",
) -> Outcome:
    """Judge, store and audit an evaluation (`model.evaluated`: ids, digests, counts, never text)."""
    reasons = judge(metrics, baseline, policy, max_tokens)
    record = EvaluationRecord(
        id=uuid.uuid4().hex, model_id=model_id, model_digest=combination.model_digest,
        combination=combination.digest, guard_version=combination.guard_version,
        retrieval_index=combination.retrieval_index, templates=dict(combination.templates),
        started_at=started_at, finished_at=finished_at, run_by=run_by, max_tokens=max_tokens,
        passed=not reasons, reasons=reasons, baseline_id=baseline.id if baseline else None,
        metrics=[m.to_dict() for m in metrics], cases=[vars(r).copy() for r in results],
    )  # fmt: skip
    store.save_evaluation(record)
    store.record_audit(
        AuditEvent(
            ts=finished_at, user=run_by, role="admin", action="model.evaluated", status=200,
            client_kind=client_kind, request_id=uuid.uuid4().hex, model_id=model_id,
            model_digest=combination.model_digest,
            detail={
                "evaluation": record.id, "passed": record.passed, "combination": combination.digest,
                "templates": len(metrics), "cases": len(results), "failed_rules": len(reasons),
            },
        )
    )  # fmt: skip
    return Outcome(record, metrics, results, baseline)
