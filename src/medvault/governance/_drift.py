"""The drift rule of post-deployment monitoring: one week of a template on one model against its baseline.

For every monitored week after the baseline, four one-sided tests ask whether the week is worse:

- critical-error rate (ratings with a critical error / ratings): Fisher's exact test, week greater;
- utility (0-10 ratings): Mann-Whitney U, week less (asymptotic with tie correction: scores tie a lot);
- guard review rate and guard unchecked rate (verdicts / runs with a guard): Fisher's exact test, greater.

A metric alerts when its p-value is below alpha / m, where m is the number of tests run in that ISO week
across every template and model (Bonferroni), **and** the week is worse by at least the configured margin
(the test alone would flag clinically meaningless differences once the counts are large). Under the null
hypothesis (the week's ratings and verdicts come from the baseline's distribution) the chance of any false
alarm in a week is at most alpha for the whole deployment; Fisher's test is conservative, so the true
rate is lower. A metric with fewer than the minimum count in the week or in the baseline is not tested
and does not count in m.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np

from medvault.config import MonitoringSettings


class Metric(StrEnum):
    CRITICAL_ERROR_RATE = "critical_error_rate"
    UTILITY_MEDIAN = "utility_median"
    GUARD_REVIEW_RATE = "guard_review_rate"
    GUARD_UNCHECKED_RATE = "guard_unchecked_rate"


@dataclass
class Sample:
    """What one week (or the pooled baseline) of one template on one model's weights holds."""

    utilities: list[int] = field(default_factory=list)
    critical: int = 0
    runs: int = 0
    guarded: int = 0  # runs whose template has a guard
    review: int = 0
    unchecked: int = 0

    def add(self, other: Sample) -> None:
        self.utilities += other.utilities
        self.critical += other.critical
        self.runs += other.runs
        self.guarded += other.guarded
        self.review += other.review
        self.unchecked += other.unchecked

    @property
    def ratings(self) -> int:
        return len(self.utilities)

    def value(self, metric: Metric) -> float | None:
        """The metric's value, None when there is nothing to compute it from."""
        if metric is Metric.UTILITY_MEDIAN:
            return float(np.median(self.utilities)) if self.utilities else None
        count, total = {
            Metric.CRITICAL_ERROR_RATE: (self.critical, self.ratings),
            Metric.GUARD_REVIEW_RATE: (self.review, self.guarded),
            Metric.GUARD_UNCHECKED_RATE: (self.unchecked, self.guarded),
        }[metric]
        return count / total if total else None

    def size(self, metric: Metric) -> int:
        """How many observations the metric rests on."""
        return self.ratings if metric in (Metric.UTILITY_MEDIAN, Metric.CRITICAL_ERROR_RATE) else self.guarded

    def count(self, metric: Metric) -> int:
        return {
            Metric.CRITICAL_ERROR_RATE: self.critical,
            Metric.GUARD_REVIEW_RATE: self.review,
            Metric.GUARD_UNCHECKED_RATE: self.unchecked,
        }[metric]


@dataclass(frozen=True)
class Comparison:
    """One metric of one week tested against the baseline (before the Bonferroni decision)."""

    metric: Metric
    baseline_value: float
    week_value: float
    p_value: float
    worse_by: float  # how much worse the week is, in the metric's unit (negative: better)


def one_sided_p(metric: Metric, week: Sample, baseline: Sample) -> float:
    """The one-sided p-value that the week is worse than the baseline on `metric`."""
    # Imported here: scipy.stats takes ~0.7 s to import, and every gateway worker loads this module at
    # start (for its metrics) long before a week is tested.
    from scipy.stats import fisher_exact, mannwhitneyu

    if metric is Metric.UTILITY_MEDIAN:
        return float(mannwhitneyu(week.utilities, baseline.utilities, alternative="less").pvalue)
    k_week, n_week = week.count(metric), week.size(metric)
    k_base, n_base = baseline.count(metric), baseline.size(metric)
    table = [[k_week, n_week - k_week], [k_base, n_base - k_base]]
    return float(fisher_exact(table, alternative="greater").pvalue)


def compare_week(week: Sample, baseline: Sample, settings: MonitoringSettings) -> list[Comparison]:
    """Every metric with enough observations in the week and in the baseline, tested one-sided."""
    tests = []
    for metric in Metric:
        if week.size(metric) < settings.min_week_count or baseline.size(metric) < settings.min_baseline_count:
            continue
        base_value, week_value = baseline.value(metric), week.value(metric)
        assert base_value is not None and week_value is not None  # sizes above are at least 1
        worse_by = base_value - week_value if metric is Metric.UTILITY_MEDIAN else week_value - base_value
        tests.append(
            Comparison(metric, base_value, week_value, one_sided_p(metric, week, baseline), worse_by)
        )
    return tests


def margin(metric: Metric, settings: MonitoringSettings) -> float:
    """How much worse a week must be for a significant difference to count as drift."""
    if metric is Metric.UTILITY_MEDIAN:
        return settings.utility_margin
    if metric is Metric.CRITICAL_ERROR_RATE:
        return settings.critical_rate_margin
    return settings.guard_rate_margin


def adjusted_alpha(tests_in_week: int, settings: MonitoringSettings) -> float:
    """Bonferroni: the level each of the week's tests must beat."""
    return settings.alpha / max(tests_in_week, 1)


def alerting(tests: Sequence[Comparison], alpha: float, settings: MonitoringSettings) -> list[Comparison]:
    """The tests that are drift: significant at `alpha` and worse by at least the margin."""
    return [t for t in tests if t.p_value < alpha and t.worse_by >= margin(t.metric, settings)]
