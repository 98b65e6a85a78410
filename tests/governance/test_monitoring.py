"""Post-deployment monitoring on a seeded database: 25 raters x 10 templates x 6 ISO weeks, one drifting.

The statistics are recomputed here from the seeded records with scipy, independently of the module's
own bucketing, and must agree to 1e-9 (relative); the p-values are far from every threshold the test
relies on, so the seed does not decide the outcome.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families
from scipy.stats import fisher_exact, mannwhitneyu
from sqlalchemy import insert

from medvault.config import MonitoringSettings
from medvault.governance._drift import Metric
from medvault.governance._monitoring import (
    MonitoringCollector,
    MonitoringSummary,
    iso_week,
    monitoring_chart_svg,
    monitoring_summary,
)
from medvault.store import Store
from medvault.store._models import feedback as feedback_table
from medvault.store._models import runs as runs_table

RATERS, TEMPLATES, WEEKS, RUNS_PER_RATER = 25, 10, 6, 2
DRIFTING, DRIFT_FROM = "tpl-03", 4  # weeks counted from 1
UNGUARDED = "tpl-09"  # its template has no guard: no guard rates, two tests a week instead of four
MODEL, DIGEST = "clinic-llm", "sha256:" + "ab" * 32
MONDAY = datetime(2026, 10, 5, 8, 0, tzinfo=UTC)  # ISO week 2026-W41
# The last week has ended and its grace for late ratings has passed: every week is judged.
NOW = MONDAY + timedelta(weeks=WEEKS, days=MonitoringSettings().grace_days)


@dataclass(frozen=True)
class Seeded:
    """What was written, per (template, week number): the test's own record of the truth."""

    utilities: dict[tuple[str, int], list[int]]
    critical: dict[tuple[str, int], int]
    verdicts: dict[tuple[str, int], list[str | None]]


def _draw(rng: np.random.Generator, template: str, week: int) -> tuple[int, bool, str | None]:
    drifted = template == DRIFTING and week >= DRIFT_FROM
    if drifted:  # a model that got worse: lower utility, many critical errors, the guard flags more
        utility = int(rng.choice([2, 3, 4, 5, 6], p=[0.15, 0.25, 0.3, 0.2, 0.1]))
        critical, review_p = bool(rng.random() < 0.45), 0.40
    else:
        utility = int(rng.choice([5, 6, 7, 8, 9], p=[0.1, 0.2, 0.3, 0.25, 0.15]))
        critical, review_p = bool(rng.random() < 0.04), 0.08
    draw = rng.random()
    verdict = "review" if draw < review_p else "unchecked" if draw < review_p + 0.05 else "ok"
    return utility, critical, None if template == UNGUARDED else verdict


def seed(store: Store, seed_value: int = 20261205) -> Seeded:
    """Write the runs and ratings straight into the tables (the store dates rows `now`; these are past)."""
    rng = np.random.default_rng(seed_value)
    seeded = Seeded(defaultdict(list), defaultdict(int), defaultdict(list))
    runs, ratings = [], []
    for week in range(1, WEEKS + 1):
        for t in range(TEMPLATES):
            template = f"tpl-{t:02d}"
            for rater in range(RATERS):
                for n in range(RUNS_PER_RATER):
                    at = MONDAY + timedelta(weeks=week - 1, days=(rater + n) % 5, minutes=rater)
                    utility, critical, verdict = _draw(rng, template, week)
                    run_id = str(uuid.uuid4())
                    runs.append({
                        "id": run_id, "created_at": at, "expires_at": None, "user": f"rater-{rater:02d}",
                        "template_id": template, "template_version": "sha256:000000000001",
                        "model_id": MODEL, "model_digest": DIGEST, "status": "ok", "guard_verdict": verdict,
                        "guard_counts": {},
                    })  # fmt: skip
                    ratings.append({
                        "run_id": run_id, "user": f"rater-{rater:02d}", "created_at": at + timedelta(days=9),
                        "template_id": template, "model_id": MODEL, "model_digest": DIGEST,
                        "utility": utility, "critical_error": critical, "categories": [],
                    })  # fmt: skip
                    seeded.utilities[(template, week)].append(utility)
                    seeded.critical[(template, week)] += critical
                    seeded.verdicts[(template, week)].append(verdict)
    with store._write("seeding") as conn:
        conn.execute(insert(runs_table), runs)
        conn.execute(insert(feedback_table), ratings)
    return seeded


def week_name(week: int) -> str:
    return iso_week(MONDAY + timedelta(weeks=week - 1))


@pytest.fixture
def store(db_url: str) -> Store:
    store = Store.open(db_url)
    store.migrate()
    return store


SETTINGS = MonitoringSettings()


def _alerts(summary: MonitoringSummary) -> set[tuple[str, str, str]]:
    return {(r.template_id, r.iso_week, str(m)) for r in summary.rows for m in r.alerts}


def test_drift_alerts_from_its_first_week_only_and_only_for_the_drifting_template(store: Store) -> None:
    """The drifting template alerts in week 4, 5 and 6 (critical errors, utility, guard reviews), never
    in weeks 1-3, and no other template ever alerts."""
    seed(store)
    summary = monitoring_summary(store, SETTINGS, NOW)
    fired = _alerts(summary)
    assert {template for template, _, _ in fired} == {DRIFTING}
    assert {week for _, week, _ in fired} == {week_name(w) for w in range(DRIFT_FROM, WEEKS + 1)}
    for week in range(DRIFT_FROM, WEEKS + 1):
        for metric in (Metric.CRITICAL_ERROR_RATE, Metric.UTILITY_MEDIAN, Metric.GUARD_REVIEW_RATE):
            assert (DRIFTING, week_name(week), str(metric)) in fired
    rows = {(r.template_id, r.iso_week): r for r in summary.rows}
    assert rows[(DRIFTING, week_name(1))].baseline and rows[(DRIFTING, week_name(2))].baseline
    week3 = rows[(DRIFTING, week_name(3))]
    assert not week3.baseline and len(week3.tests) == 4 and week3.alerts == ()  # tested, quiet


def test_statistics_match_scipy_computed_from_the_seeded_records(store: Store) -> None:
    """Medians, rates, p-values and the Bonferroni level equal what scipy gives on the test's own data."""
    seeded = seed(store)
    summary = monitoring_summary(store, SETTINGS, NOW)
    rows = {(r.template_id, r.iso_week): r for r in summary.rows}
    base_weeks = range(1, SETTINGS.baseline_weeks + 1)
    for template in (DRIFTING, "tpl-00", UNGUARDED):
        base_utilities = [u for w in base_weeks for u in seeded.utilities[(template, w)]]
        base_critical = sum(seeded.critical[(template, w)] for w in base_weeks)
        base_verdicts = [v for w in base_weeks for v in seeded.verdicts[(template, w)]]
        for week in range(SETTINGS.baseline_weeks + 1, WEEKS + 1):
            row = rows[(template, week_name(week))]
            utilities, critical = seeded.utilities[(template, week)], seeded.critical[(template, week)]
            tests = {t.metric: t for t in row.tests}
            assert row.utility_median == np.median(utilities)
            assert row.critical_error_rate == pytest.approx(critical / len(utilities), rel=1e-12)
            expected_u = mannwhitneyu(utilities, base_utilities, alternative="less").pvalue
            assert tests[Metric.UTILITY_MEDIAN].p_value == pytest.approx(expected_u, rel=1e-9)
            table = [
                [critical, len(utilities) - critical],
                [base_critical, len(base_utilities) - base_critical],
            ]
            expected_f = fisher_exact(table, alternative="greater").pvalue
            assert tests[Metric.CRITICAL_ERROR_RATE].p_value == pytest.approx(expected_f, rel=1e-9)
            if template == UNGUARDED:
                assert row.guard_review_rate is None and set(tests) == {
                    Metric.UTILITY_MEDIAN,
                    Metric.CRITICAL_ERROR_RATE,
                }
                continue
            verdicts = seeded.verdicts[(template, week)]
            review, base_review = verdicts.count("review"), base_verdicts.count("review")
            table = [[review, len(verdicts) - review], [base_review, len(base_verdicts) - base_review]]
            expected_r = fisher_exact(table, alternative="greater").pvalue
            assert tests[Metric.GUARD_REVIEW_RATE].p_value == pytest.approx(expected_r, rel=1e-9)
            assert row.guard_unchecked_rate == pytest.approx(verdicts.count("unchecked") / len(verdicts))
    # Bonferroni over the week: 9 guarded templates x 4 tests + 1 unguarded x 2.
    assert rows[(DRIFTING, week_name(4))].alpha == pytest.approx(SETTINGS.alpha / (9 * 4 + 2))


def test_each_alert_is_stored_and_audited_once(store: Store) -> None:
    """A second check records nothing new; the audit trail holds one `monitoring.drift` event per alert,
    with numbers only, and the chain verifies."""
    seed(store)
    first = monitoring_summary(store, SETTINGS, NOW)
    second = monitoring_summary(store, SETTINGS, NOW + timedelta(hours=1))
    assert first.new_alerts and not second.new_alerts
    assert len(second.alerts) == len(first.new_alerts) == len(_alerts(first))
    events = [e.event for e in store.audit_events(limit=10_000) if e.event.action == "monitoring.drift"]
    assert len(events) == len(first.new_alerts)
    keys = {(e.template_id, str(e.detail["week"]), str(e.detail["metric"])) for e in events}
    assert keys == _alerts(first)
    assert all(e.model_digest == DIGEST and float(str(e.detail["p_value"])) < 1e-3 for e in events)
    assert store.verify_audit_chain().ok


def _gauges(store: Store, **collector: Any) -> Callable[..., float]:
    """The collector's samples, read as `value(name, template, **labels)` for MODEL and DIGEST, or as
    `value(name)` for a sample without labels."""
    registry = CollectorRegistry()
    registry.register(MonitoringCollector(store, SETTINGS, **collector))
    samples = {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(generate_latest(registry).decode())
        for sample in family.samples
    }

    def value(name: str, template: str | None = None, **extra: str) -> float:
        labels = {"template": template, "model": MODEL, "digest": DIGEST, **extra} if template else extra
        return samples[(name, tuple(sorted(labels.items())))]

    return value


def test_gauges_and_chart_show_the_latest_week(store: Store) -> None:
    """The collector exports the drifting template's alert and rates; the chart is an SVG per template."""
    seed(store)
    value = _gauges(store)

    assert value("medvault_monitoring_drift", DRIFTING, metric="critical_error_rate") == 1.0
    assert value("medvault_monitoring_drift", "tpl-00", metric="critical_error_rate") == 0.0
    assert value("medvault_monitoring_week_runs", DRIFTING) == RATERS * RUNS_PER_RATER
    assert value("medvault_monitoring_utility_median", DRIFTING) < 7
    assert value("medvault_monitoring_ok") == 1.0
    summary = monitoring_summary(store, SETTINGS, NOW)
    svg = monitoring_chart_svg(summary, DRIFTING)
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg


def test_too_few_ratings_are_not_tested(store: Store) -> None:
    """Weeks below the minimum count are shown but not tested, and so cannot alert."""
    seed(store)
    strict = MonitoringSettings(min_week_count=RATERS * RUNS_PER_RATER + 1)
    summary = monitoring_summary(store, strict, NOW)
    assert all(not r.tests and not r.alerts for r in summary.rows)
    assert not summary.new_alerts


def test_gauges_are_recomputed_only_after_the_refresh_interval(store: Store) -> None:
    """A scrape within `refresh_s` reuses the last computation; after it, new data (and alerts) appear."""
    now = [0.0]
    collector = MonitoringCollector(store, MonitoringSettings(refresh_s=60), clock=lambda: now[0])
    registry = CollectorRegistry()
    registry.register(collector)
    assert b"medvault_monitoring_drift{" not in generate_latest(registry)  # an empty database
    seed(store)
    now[0] = 59.0
    assert b"medvault_monitoring_drift{" not in generate_latest(registry)  # not recomputed yet
    now[0] = 61.0
    assert b"medvault_monitoring_drift{" in generate_latest(registry)
    assert any(e.event.action == "monitoring.drift" for e in store.audit_events(limit=10_000))


def test_the_week_in_progress_is_provisional_and_never_alerts(store: Store) -> None:
    """Peeking: the drifting template's last week is tested on every look while it runs (Wednesday,
    Sunday, within the grace) but records no alert and the drift gauge stays on the last judged week;
    control: the same data once the week and its grace are over alerts, stored and audited once."""
    seed(store)
    last = week_name(WEEKS)
    looks = [
        MONDAY + timedelta(weeks=WEEKS - 1, days=2),  # Wednesday of the last week
        MONDAY + timedelta(weeks=WEEKS, days=-1),  # its Sunday
        MONDAY + timedelta(weeks=WEEKS, days=SETTINGS.grace_days, hours=-9),  # the grace's last hour
    ]
    for at in looks:
        summary = monitoring_summary(store, SETTINGS, at)
        row = next(r for r in summary.rows if (r.template_id, r.iso_week) == (DRIFTING, last))
        assert row.provisional and row.tests and row.alerts == (), at
        assert min(t.p_value for t in row.tests) < 1e-4  # it would alert, were it judged
        assert all(a.iso_week != last for a in summary.alerts), at
        assert all(r.provisional == (r.iso_week == last) for r in summary.rows)
    assert not [
        e for e in store.audit_events(limit=10_000)
        if e.event.action == "monitoring.drift" and e.event.detail["week"] == last
    ]  # fmt: skip
    judged = monitoring_summary(store, SETTINGS, MONDAY + timedelta(weeks=WEEKS, days=SETTINGS.grace_days))
    row = next(r for r in judged.rows if (r.template_id, r.iso_week) == (DRIFTING, last))
    assert not row.provisional and Metric.CRITICAL_ERROR_RATE in row.alerts
    assert {a.metric for a in judged.new_alerts if a.iso_week == last} == {str(m) for m in row.alerts}
    events = [
        e for e in store.audit_events(limit=10_000)
        if e.event.action == "monitoring.drift" and e.event.detail["week"] == last
    ]  # fmt: skip
    assert len(events) == len(row.alerts)


def test_gauges_mark_the_week_in_progress_and_keep_the_last_judged_alert(store: Store) -> None:
    """While the drifting template's last week runs, the gauges show it as provisional and the drift
    gauge reports the last judged week (week 5, which alerted); a non-drifting template reads 0."""
    seed(store)
    during = MONDAY + timedelta(weeks=WEEKS, days=-1)
    value = _gauges(store, wall=lambda: during)

    assert value("medvault_monitoring_week_provisional", DRIFTING) == 1.0
    assert value("medvault_monitoring_drift", DRIFTING, metric="critical_error_rate") == 1.0  # week 5
    assert value("medvault_monitoring_drift", "tpl-00", metric="critical_error_rate") == 0.0
