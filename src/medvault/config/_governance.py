"""Governance: risk classes in force, the evaluation policy that gates approval, drift monitoring."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from medvault.config._base import _Frozen


class MonitoringSettings(_Frozen):
    """Post-deployment monitoring (docs/governance.md): weekly drift against the approved baseline."""

    baseline_weeks: int = Field(default=2, ge=1, description="first ISO weeks of a digest: its baseline")
    alpha: float = Field(default=0.01, gt=0, lt=1, description="weekly family-wise false-alarm rate")
    critical_rate_margin: float = Field(default=0.05, ge=0, le=1, description="rise that counts, absolute")
    guard_rate_margin: float = Field(default=0.05, ge=0, le=1, description="rise of review/unchecked rates")
    utility_margin: float = Field(default=1.0, ge=0, le=10, description="fall of the utility median, points")
    min_week_count: int = Field(default=10, ge=1, description="fewer ratings (guarded runs): not tested")
    min_baseline_count: int = Field(default=20, ge=1, description="fewer in the baseline: not tested")
    window_weeks: int = Field(default=12, ge=1, description="weeks shown in reports and on the admin page")
    refresh_s: float = Field(default=300.0, gt=0, description="how often the metrics recompute the weeks")
    grace_days: int = Field(
        default=2, ge=0, le=28, description="days after an ISO week ends before it is judged (late ratings)"
    )


class EvaluationPolicySettings(_Frozen):
    """Pass/fail thresholds of `medvault evaluate` (docs/governance.md): absolute floors and ceilings per
    template and language, and how far a candidate may fall behind the approved model's evaluation."""

    min_cases: int = Field(default=10, ge=1, description="cases per template and language, at least")
    max_failed_runs: float = Field(default=0.0, ge=0, le=1, description="share of runs the engine failed")
    max_review_per_100: float = Field(default=30.0, ge=0, le=100)
    max_unchecked_per_100: float = Field(default=30.0, ge=0, le=100)
    min_schema_valid: float = Field(default=0.9, ge=0, le=1, description="JSON templates: valid answers")
    min_quote_valid: float = Field(default=0.9, ge=0, le=1, description="quotes found verbatim")
    min_agreement: float = Field(default=0.9, ge=0, le=1, description="guideline templates vs the calculator")
    max_review_increase_per_100: float = Field(default=5.0, ge=0, description="vs the approved model")
    max_unchecked_increase_per_100: float = Field(default=5.0, ge=0, description="vs the approved model")
    max_rate_drop: float = Field(default=0.05, ge=0, le=1, description="schema, quote, agreement vs approved")
    max_latency_ratio: float | None = Field(
        default=None, gt=0, description="median latency / the approved model's; None: not judged (hardware)"
    )
    allow_capped: bool = Field(
        default=False, description="let an evaluation run with --max-tokens pass (smoke tests only)"
    )


class GovernanceSettings(_Frozen):
    """Risk classification in force (which jurisdictions, whether device-class templates may be used) and
    the evaluation policy that gates model approval."""

    jurisdictions: tuple[Literal["eu", "us", "cn"], ...] = Field(default=("eu",), min_length=1)
    enable_device_templates: bool = Field(
        default=False,
        description="offer templates classified as a medical device in one of `jurisdictions`",
    )
    enabled_templates: list[str] | None = Field(
        default=None, min_length=1, description="template ids this deployment offers; None: every one it has"
    )
    evaluation: EvaluationPolicySettings = EvaluationPolicySettings()
