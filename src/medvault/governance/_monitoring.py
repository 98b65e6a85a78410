"""Post-deployment monitoring: per template x model weights x ISO week, against the approved baseline.

    summary = monitoring_summary(store, settings.monitoring, now)   # computes, records and audits new alerts
    summary.rows, summary.alerts                                   # what the admin page and reports show

Each (template, model id, weights digest) is watched on its own: a new digest was a material change that
had to be approved, so it starts a new baseline. The baseline is the first `baseline_weeks` ISO weeks
(UTC) in which the combination served; every later week is compared with the pooled baseline by the
rule in `_drift` (one-sided tests, Bonferroni over the week, and a margin). Ratings are dated by their
run. A week is judged only once it has ended (plus `grace_days` for late ratings): testing the week in
progress on every refresh and keeping the first alert would be many looks at a growing sample, and the
weekly false-alarm bound holds for one look. Until then its row is provisional: shown, never an alert.
Every alert is stored once (`drift_alerts`) and audited once (`monitoring.drift`), whichever
process finds it first. Only ids, counts, rates and p-values are read or written, never content.
"""

from __future__ import annotations

import base64
import io
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import structlog
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from medvault.config import MonitoringSettings
from medvault.errors import StoreError
from medvault.governance._drift import Comparison, Sample, adjusted_alpha, alerting, compare_week
from medvault.governance._drift import Metric as DriftMetric
from medvault.store import AuditEvent, Store
from medvault.store._monitoring import (
    NO_DIGEST,
    DriftAlert,
    GuardedRun,
    RatedRun,
    claim_drift_alert,
    drift_alerts,
    forget_drift_alert,
    guarded_runs,
    rated_runs,
)

log = structlog.get_logger("medvault.governance")

Key = tuple[str, str, str]  # template id, model id, weights digest ("" when none is pinned)
_NO_TEMPLATE, _NO_MODEL = "(no template)", "(no model)"


def iso_week(at: datetime) -> str:
    """ "2026-W49": the ISO week of `at` in UTC (sorts in time order as text)."""
    year, week, _ = at.astimezone(UTC).isocalendar()
    return f"{year}-W{week:02d}"


def judged_from(week: str, settings: MonitoringSettings) -> datetime:
    """When `week` ("2026-W49") is judged: the Monday after it (UTC) plus the grace for late ratings."""
    year, number = week.split("-W")
    monday = datetime.fromisocalendar(int(year), int(number), 1).replace(tzinfo=UTC)
    return monday + timedelta(weeks=1, days=settings.grace_days)


def _key(template_id: str | None, model_id: str | None, digest: str | None) -> Key:
    return (template_id or _NO_TEMPLATE, model_id or _NO_MODEL, digest or NO_DIGEST)


@dataclass(frozen=True)
class WeekRow:
    """One template on one model's weights in one ISO week."""

    template_id: str
    model_id: str
    model_digest: str
    iso_week: str
    baseline: bool  # part of the baseline (not tested)
    runs: int
    ratings: int
    utility_median: float | None
    critical_error_rate: float | None
    guard_review_rate: float | None
    guard_unchecked_rate: float | None
    tests: tuple[Comparison, ...]
    alpha: float | None  # the Bonferroni-adjusted level of this week's tests
    alerts: tuple[DriftMetric, ...]
    provisional: bool = False  # the week is not over (or within its grace): tested for show, never alerts


@dataclass(frozen=True)
class MonitoringSummary:
    """Every monitored week in the window, the alerts recorded in it, and the rule's parameters."""

    generated_at: datetime
    settings: MonitoringSettings
    rows: tuple[WeekRow, ...]
    alerts: tuple[DriftAlert, ...]  # as recorded (and audited), in the window
    new_alerts: tuple[DriftAlert, ...]  # recorded by this call

    def alerts_of(self, template_id: str) -> list[DriftAlert]:
        return [a for a in self.alerts if a.template_id == template_id]


def weekly_samples(rated: Iterable[RatedRun], guarded: Iterable[GuardedRun]) -> dict[Key, dict[str, Sample]]:
    """Ratings and runs bucketed per (template, model, digest) and ISO week."""
    samples: defaultdict[Key, defaultdict[str, Sample]] = defaultdict(lambda: defaultdict(Sample))
    for run in guarded:
        sample = samples[_key(run.template_id, run.model_id, run.model_digest)][iso_week(run.at)]
        sample.runs += 1
        if run.guard_verdict is not None:
            sample.guarded += 1
            sample.review += run.guard_verdict == "review"
            sample.unchecked += run.guard_verdict == "unchecked"
    for rating in rated:
        sample = samples[_key(rating.template_id, rating.model_id, rating.model_digest)][iso_week(rating.at)]
        sample.utilities.append(rating.utility)
        sample.critical += rating.critical_error
    return {key: dict(weeks) for key, weeks in samples.items()}


def compute(
    samples: dict[Key, dict[str, Sample]], settings: MonitoringSettings, now: datetime
) -> list[WeekRow]:
    """Every week of every combination, with its tests and the alerts the rule raises for the weeks
    judged by `now` (pure)."""
    tested: dict[tuple[Key, str], list[Comparison]] = {}
    for key, weeks in samples.items():
        ordered = sorted(weeks)
        baseline = Sample()
        for week in ordered[: settings.baseline_weeks]:
            baseline.add(weeks[week])
        for week in ordered[settings.baseline_weeks :]:
            tested[(key, week)] = compare_week(weeks[week], baseline, settings)
    tests_per_week: defaultdict[str, int] = defaultdict(int)
    for (_, week), comparisons in tested.items():
        tests_per_week[week] += len(comparisons)
    rows = []
    for key, weeks in samples.items():
        for week, sample in sorted(weeks.items()):
            in_baseline = (key, week) not in tested
            tests = tested.get((key, week), [])
            alpha = adjusted_alpha(tests_per_week[week], settings) if tests else None
            provisional = now < judged_from(week, settings)
            alerts = alerting(tests, alpha, settings) if alpha is not None and not provisional else []
            rows.append(
                WeekRow(
                    *key, week, baseline=in_baseline, runs=sample.runs, ratings=sample.ratings,
                    utility_median=sample.value(DriftMetric.UTILITY_MEDIAN),
                    critical_error_rate=sample.value(DriftMetric.CRITICAL_ERROR_RATE),
                    guard_review_rate=sample.value(DriftMetric.GUARD_REVIEW_RATE),
                    guard_unchecked_rate=sample.value(DriftMetric.GUARD_UNCHECKED_RATE),
                    tests=tuple(tests), alpha=alpha, alerts=tuple(t.metric for t in alerts),
                    provisional=provisional,
                )
            )  # fmt: skip
    rows.sort(key=lambda r: (r.template_id, r.model_id, r.model_digest, r.iso_week))
    return rows


def _alert(row: WeekRow, test: Comparison, now: datetime) -> DriftAlert:
    assert row.alpha is not None  # only tested weeks alert
    return DriftAlert(
        row.template_id, row.model_id, row.model_digest, row.iso_week, test.metric.value, now,
        test.baseline_value, test.week_value, test.p_value, row.alpha,
    )  # fmt: skip


def _audit(store: Store, alert: DriftAlert, client_kind: str) -> None:
    store.record_audit(
        AuditEvent(
            ts=alert.detected_at, user="medvault", role="system", action="monitoring.drift", status=200,
            client_kind=client_kind, request_id=uuid.uuid4().hex, model_id=alert.model_id,
            model_digest=alert.model_digest or None, template_id=alert.template_id,
            detail={
                "week": alert.iso_week, "metric": alert.metric, "baseline": f"{alert.baseline_value:.4g}",
                "value": f"{alert.week_value:.4g}", "p_value": f"{alert.p_value:.3g}",
                "alpha": f"{alert.alpha:.3g}",
            },
        )
    )  # fmt: skip


def record_alerts(store: Store, rows: Iterable[WeekRow], now: datetime, client_kind: str) -> list[DriftAlert]:
    """Store and audit every alert of `rows` not recorded before; returns the new ones."""
    new = []
    for row in rows:
        for test in row.tests:
            if test.metric not in row.alerts:
                continue
            alert = _alert(row, test, now)
            if not claim_drift_alert(store, alert):
                continue
            try:
                _audit(store, alert, client_kind)
            except StoreError:
                forget_drift_alert(store, alert)  # unaudited: the next check finds it again
                raise
            log.warning("drift_alert", template=alert.template_id, model=alert.model_id, week=alert.iso_week,
                        metric=alert.metric)  # fmt: skip
            new.append(alert)
    return new


def monitoring_summary(
    store: Store,
    settings: MonitoringSettings,
    now: datetime | None = None,
    *,
    client_kind: str = "cli",
) -> MonitoringSummary:
    """Compute every week, record and audit new alerts, and keep the last `window_weeks` weeks."""
    now = now or datetime.now(UTC)
    rows = compute(weekly_samples(rated_runs(store), guarded_runs(store)), settings, now)
    new = record_alerts(store, rows, now, client_kind)
    weeks = sorted({r.iso_week for r in rows})
    first = weeks[-settings.window_weeks] if len(weeks) >= settings.window_weeks else None
    shown = tuple(r for r in rows if first is None or r.iso_week >= first)
    return MonitoringSummary(now, settings, shown, tuple(drift_alerts(store, first)), tuple(new))


# -- for the admin page and the reports -----------------------------------------------------------

_RATE_COLOURS = ("#1f5f8b", "#b3261e", "#e07b39", "#7b5ea7", "#2e8b57")


def monitoring_chart_svg(summary: MonitoringSummary, template_id: str) -> str:
    """An SVG chart of one template: utility median and critical-error rate per week and model, with
    the alerts marked (red circles) and the baseline weeks shaded."""
    # Imported here, like scipy in `_drift`: gateway workers load this module but never draw.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    rows = [r for r in summary.rows if r.template_id == template_id]
    weeks = sorted({r.iso_week for r in rows})
    fig = Figure(figsize=(7.5, 3.2))
    FigureCanvasAgg(fig)
    utility_ax, critical_ax = fig.subplots(1, 2)
    by_model: defaultdict[tuple[str, str], list[WeekRow]] = defaultdict(list)
    for row in rows:
        by_model[(row.model_id, row.model_digest)].append(row)
    for index, ((model_id, digest), series) in enumerate(sorted(by_model.items())):
        colour = _RATE_COLOURS[index % len(_RATE_COLOURS)]
        label = f"{model_id} {digest[:15]}".strip()
        for ax, attr, metric in (
            (utility_ax, "utility_median", DriftMetric.UTILITY_MEDIAN),
            (critical_ax, "critical_error_rate", DriftMetric.CRITICAL_ERROR_RATE),
        ):
            points = [
                (weeks.index(r.iso_week), getattr(r, attr)) for r in series if getattr(r, attr) is not None
            ]
            if points:
                ax.plot(*zip(*points, strict=True), marker="o", color=colour, label=label, linewidth=1.5)
            alerts = [(weeks.index(r.iso_week), getattr(r, attr)) for r in series if metric in r.alerts]
            if alerts:
                ax.scatter(
                    *zip(*alerts, strict=True), s=160, facecolors="none", edgecolors="#b3261e", zorder=3
                )
            for r in series:
                if r.baseline:
                    ax.axvspan(weeks.index(r.iso_week) - 0.5, weeks.index(r.iso_week) + 0.5, color="#eeeeee")
    for ax, title in ((utility_ax, "utility median (0-10)"), (critical_ax, "critical-error rate")):
        ax.set_title(title, fontsize=9)
        ax.set_xticks(range(len(weeks)), weeks, rotation=45, fontsize=7)
        ax.tick_params(axis="y", labelsize=7)
    utility_ax.set_ylim(0, 10.5)
    critical_ax.set_ylim(bottom=0)
    if by_model:
        critical_ax.legend(fontsize=6, loc="upper left")
    fig.tight_layout()
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg")
    return buffer.getvalue()


def svg_data_uri(svg: str) -> str:
    """An SVG as an <img> source (WeasyPrint and browsers render it; no external asset)."""
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")


class MonitoringCollector(Collector):
    """Prometheus gauges of the latest monitored week of each template on each model's weights.

    Recomputed at most every `refresh_s` (a scrape must not read every rating each time); a refresh also
    records and audits new alerts, so a deployment that is scraped audits its drift without a cron job.
    Register it in the gateway's own registry: `registry.register(MonitoringCollector(store, settings))`.
    """

    def __init__(
        self,
        store: Store,
        settings: MonitoringSettings,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._store, self._settings, self._clock, self._wall = store, settings, clock, wall
        self._lock = threading.Lock()
        self._summary: MonitoringSummary | None = None
        self._at = float("-inf")
        self._ok = True

    def _current(self) -> MonitoringSummary | None:
        with self._lock:
            if self._clock() - self._at >= self._settings.refresh_s:
                self._at = self._clock()
                try:
                    self._summary = monitoring_summary(
                        self._store, self._settings, self._wall(), client_kind="gateway"
                    )
                    self._ok = True
                except StoreError as exc:  # the scrape still answers; the failure shows as a gauge
                    log.error("monitoring_failed", error=str(exc))
                    self._ok = False
            return self._summary

    def collect(self) -> Iterable[Metric]:
        summary = self._current()
        up = GaugeMetricFamily("medvault_monitoring_ok", "1 if the last monitoring refresh succeeded")
        up.add_metric([], 1.0 if self._ok else 0.0)
        yield up
        labels = ["template", "model", "digest"]
        gauges = {
            "runs": GaugeMetricFamily(
                "medvault_monitoring_week_runs", "runs in the latest week", labels=labels
            ),
            "utility_median": GaugeMetricFamily(
                "medvault_monitoring_utility_median", "utility median of the latest week", labels=labels
            ),
            "critical_error_rate": GaugeMetricFamily(
                "medvault_monitoring_critical_error_rate",
                "critical-error rate of the latest week",
                labels=labels,
            ),
            "guard_review_rate": GaugeMetricFamily(
                "medvault_monitoring_guard_review_rate", "guard review rate of the latest week", labels=labels
            ),
            "guard_unchecked_rate": GaugeMetricFamily(
                "medvault_monitoring_guard_unchecked_rate",
                "guard unchecked rate of the latest week",
                labels=labels,
            ),
        }
        provisional = GaugeMetricFamily(
            "medvault_monitoring_week_provisional",
            "1 while the latest week is not judged yet (not over, or within monitoring.grace_days)",
            labels=labels,
        )
        drift = GaugeMetricFamily(
            "medvault_monitoring_drift", "1 while the latest judged week has a drift alert on the metric",
            labels=[*labels, "metric"],
        )  # fmt: skip
        latest: dict[Key, WeekRow] = {}
        judged: dict[Key, WeekRow] = {}
        for row in summary.rows if summary else ():  # rows are in week order
            key = (row.template_id, row.model_id, row.model_digest)
            latest[key] = row
            if not row.provisional:
                judged[key] = row
        for key, row in sorted(latest.items()):
            for attr, gauge in gauges.items():
                value = getattr(row, attr)
                if value is not None:
                    gauge.add_metric(list(key), float(value))
            provisional.add_metric(list(key), 1.0 if row.provisional else 0.0)
            alerts = judged[key].alerts if key in judged else ()
            for metric in DriftMetric:
                drift.add_metric([*key, metric.value], 1.0 if metric in alerts else 0.0)
        yield from gauges.values()
        yield provisional
        yield drift
