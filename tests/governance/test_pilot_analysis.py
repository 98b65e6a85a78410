"""Pilot statistics against a seeded database, recomputed independently here with numpy and scipy.

The seeded pilot: 14 raters (one heavy user), five templates of the three task types, six weeks, two
languages, two model digests, two template versions, guard verdicts on guarded templates, unrated runs,
and survey answers with the instrument's fields. Every number the report prints is recomputed from the
Python records that were written, not from the database.
"""

from __future__ import annotations

import contextlib
import csv
import itertools
import math
import uuid
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from scipy import stats
from sqlalchemy import MetaData, create_engine, insert, text
from typer.testing import CliRunner

from medvault.cli import app
from medvault.errors import StoreError
from medvault.governance._pilot_stats import fisher
from medvault.governance.pilot import TASK_TYPES, Window, build_report
from medvault.store import Store
from tests.fixtures_db import _fresh_database

START = datetime(2027, 1, 4, tzinfo=UTC)
TEMPLATES = {  # id -> (task type, mean utility, critical-error probability)
    "report-correction": ("anchored", 7.5, 0.06),
    "translation": ("anchored", 8.0, 0.05),
    "fleischner-nodule": ("semi", 6.5, 0.10),
    "differential-diagnosis": ("open", 5.0, 0.18),
    "impression-from-findings": ("open", 5.5, 0.15),
}
KINDS = ("laterality", "negation", "numbers", "new_findings", "omissions")
KIND_CATEGORY = {"laterality": "laterality", "negation": "negation", "numbers": "number_unit",
                 "new_findings": "hallucination", "omissions": "omission"}  # fmt: skip
# Tolerances: exact computations agree to float precision; Monte Carlo p (9,999 tables) to 0.02
# (its standard error is at most 0.005); bootstrap percentiles from different draws of the same
# resampling scheme to 0.5 points of utility and 3 points of percentage.
EXACT, MONTE_CARLO_P, BOOT_MEDIAN, BOOT_RATE = 1e-9, 0.02, 0.5, 0.03


@dataclass(frozen=True)
class Rec:
    """One run as written, with its rating if rated."""

    template: str
    created: datetime
    language: str
    digest: str
    version: str
    verdict: str | None
    counts: dict[str, int]
    rater: str | None = None
    utility: int | None = None
    critical: bool = False
    categories: tuple[str, ...] = ()


def _pilot(seed: int = 7) -> tuple[list[Rec], list[dict[str, Any]]]:
    rng = np.random.default_rng(seed)
    records: list[Rec] = []
    raters = [f"dr-{i:02d}" for i in range(14)]
    for template, (kind, mean, p_critical) in TEMPLATES.items():
        for rater in raters:
            n = 40 if rater == "dr-00" else int(rng.integers(2, 9))  # dr-00: the heavy user
            bias = float(rng.normal(0, 1.0))  # raters differ: the reason to cluster by rater
            for _ in range(n):
                created = START + timedelta(minutes=int(rng.integers(0, 6 * 7 * 24 * 60)))
                utility = int(np.clip(round(rng.normal(mean + bias, 1.6)), 0, 10))
                critical = bool(rng.random() < p_critical)
                verdict = None if kind == "open" else str(rng.choice(["ok", "ok", "review", "unchecked"]))
                counts = {k: 1 for k in KINDS if verdict == "review" and rng.random() < 0.4}
                cats = tuple(sorted({KIND_CATEGORY[k] for k in counts if rng.random() < 0.6}
                                    | ({"other"} if critical and rng.random() < 0.5 else set())))  # fmt: skip
                language, digest = str(rng.choice(["de", "en"])), str(rng.choice(["sha256:m1", "sha256:m2"]))
                records.append(Rec(
                    template, created, language, digest,
                    "v2" if created >= START + timedelta(weeks=3) else "v1", verdict, counts, rater, utility,
                    critical, cats,
                ))  # fmt: skip
        for _ in range(25):  # runs nobody rated
            created = START + timedelta(minutes=int(rng.integers(0, 6 * 7 * 24 * 60)))
            records.append(Rec(template, created, "de", "sha256:m1", "v1", None, {}))
    survey = [
        {"user": f"dr-{i:02d}", "created_at": START + timedelta(weeks=6, days=i % 3), "stability": 5 + i % 5,
         "ease_of_use": 4 + i % 6, "rater_role": ("resident", "consultant", None)[i % 3],
         "critical_errors_seen": None if i == 4 else i % 4,
         "template_utility": {"translation": 9 - i % 3, "differential-diagnosis": 3 + i % 4}}
        for i in range(12)
    ]  # fmt: skip
    return records, survey


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def pilot(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, list[Rec], list[dict[str, Any]]]]:
    """A migrated database holding the seeded pilot (written with Core inserts for the dates)."""
    with contextlib.ExitStack() as stack:
        if request.param == "sqlite":
            url = f"sqlite:///{tmp_path_factory.mktemp('pilot-analysis') / 'medvault.db'}"
        else:
            url = stack.enter_context(_fresh_database(request.getfixturevalue("pg_cluster")))
        yield _seed(url)


def _seed(url: str) -> tuple[str, list[Rec], list[dict[str, Any]]]:
    store = Store.open(url)
    store.migrate()
    store.close()
    records, survey = _pilot()
    engine = create_engine(url)
    meta = MetaData()
    meta.reflect(engine, only=["runs", "feedback", "survey"])
    runs, feedback = [], []
    for rec in records:
        run_id, naive = str(uuid.uuid4()), rec.created.replace(tzinfo=None)  # naive UTC, as the store
        runs.append({"id": run_id, "created_at": naive, "user": rec.rater or "dr-x",
                     "template_id": rec.template, "template_version": rec.version, "model_digest": rec.digest,
                     "language": rec.language, "status": "ok", "guard_verdict": rec.verdict,
                     "guard_counts": rec.counts})  # fmt: skip
        if rec.rater is not None:
            feedback.append({"run_id": run_id, "user": rec.rater, "created_at": naive,
                             "template_id": rec.template, "utility": rec.utility,
                             "critical_error": rec.critical, "categories": list(rec.categories)})  # fmt: skip
    rows = [{**s, "created_at": s["created_at"].replace(tzinfo=None)} for s in survey]
    with engine.begin() as conn:
        conn.execute(insert(meta.tables["runs"]), runs)
        conn.execute(insert(meta.tables["feedback"]), feedback)
        conn.execute(insert(meta.tables["survey"]), rows)
    engine.dispose()
    return url, records, survey


@pytest.fixture(scope="module")
def report(
    pilot: tuple[str, list[Rec], list[dict[str, Any]]], tmp_path_factory: pytest.TempPathFactory
) -> Any:
    return build_report(pilot[0], tmp_path_factory.mktemp("pilot-out"), seed=11)


def _csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _rated(records: list[Rec]) -> list[Rec]:
    return [r for r in records if r.rater is not None]


def _rater_medians(records: list[Rec]) -> list[float]:
    by_rater: defaultdict[str, list[int]] = defaultdict(list)
    for rec in _rated(records):
        by_rater[rec.rater].append(rec.utility)  # type: ignore[index, arg-type]
    return [float(np.median(by_rater[r])) for r in sorted(by_rater)]


def _fisher_exact_2xk(table: list[tuple[int, int]]) -> float:
    """Fisher's exact p for a 2 x k table by enumerating every table with its margins (independent of
    scipy's implementation): the summed probability of tables no more probable than the observed one."""
    sizes = [a + b for a, b in table]
    errors = sum(a for a, _ in table)
    total = sum(sizes)

    def log_p(cells: tuple[int, ...]) -> float:
        return sum(math.log(math.comb(n, a)) for n, a in zip(sizes, cells, strict=True)) - math.log(
            math.comb(total, errors)
        )

    observed = log_p(tuple(a for a, _ in table))
    p = 0.0
    for head in itertools.product(*(range(min(n, errors) + 1) for n in sizes[:-1])):
        last = errors - sum(head)
        if 0 <= last <= sizes[-1]:
            lp = log_p((*head, last))
            if lp <= observed + 1e-7:
                p += math.exp(lp)
    return min(p, 1.0)


def test_templates_raters_coverage_and_rater_level_medians(pilot: Any, report: Any) -> None:
    """Per template: runs, ratings, coverage, raters and the median of rater-level medians."""
    _url, records, _survey = pilot
    rows = {row["template_id"]: row for row in _csv(report.files["templates"])}
    assert set(rows) == set(TEMPLATES)
    for template, (kind, _mean, _p) in TEMPLATES.items():
        mine = [r for r in records if r.template == template]
        rated = _rated(mine)
        row = rows[template]
        assert row["task_type"] == kind
        assert (int(row["runs"]), int(row["ratings"]), int(row["raters"])) == (len(mine), len(rated), 14)
        assert float(row["coverage"]) == pytest.approx(len(rated) / len(mine), abs=1e-4)
        assert float(row["rater_median"]) == pytest.approx(float(np.median(_rater_medians(mine))), abs=EXACT)
        assert float(row["utility_median"]) == float(np.median([r.utility for r in rated]))
        assert int(row["critical_errors"]) == sum(r.critical for r in rated)
    assert report.raters == 14 and report.ratings == len(_rated(records)) and report.runs == len(records)


def test_cluster_bootstrap_matches_scipy_and_is_reproducible(pilot: Any, report: Any, tmp_path: Path) -> None:
    """The intervals over raters agree with scipy.stats.bootstrap over raters, and a seed fixes them."""
    url, records, _survey = pilot
    template = "differential-diagnosis"
    mine = _rated([r for r in records if r.template == template])
    stats_row = next(t for t in report.templates if t.template_id == template)
    boot = stats_row.bootstrap
    medians = np.array(_rater_medians(mine))
    rng = np.random.default_rng(99)
    expected = stats.bootstrap((medians,), np.median, n_resamples=4000, method="percentile", rng=rng)
    assert boot.rater_median.low == pytest.approx(expected.confidence_interval.low, abs=BOOT_MEDIAN)
    assert boot.rater_median.high == pytest.approx(expected.confidence_interval.high, abs=BOOT_MEDIAN)
    raters = sorted({r.rater for r in mine if r.rater})
    errors = np.array([sum(r.critical for r in mine if r.rater == who) for who in raters], dtype=float)
    sizes = np.array([sum(1 for r in mine if r.rater == who) for who in raters], dtype=float)
    rate = stats.bootstrap(
        (errors, sizes), lambda c, n, axis=-1: c.sum(axis=axis) / n.sum(axis=axis), paired=True,
        n_resamples=4000, method="percentile", rng=rng,
    )  # fmt: skip
    assert boot.critical_rate.low == pytest.approx(rate.confidence_interval.low, abs=BOOT_RATE)
    assert boot.critical_rate.high == pytest.approx(rate.confidence_interval.high, abs=BOOT_RATE)
    # The interval is wider than Wilson's, which treats the heavy user's 40 ratings as 40 raters.
    wilson_low, wilson_high = stats_row.critical_ci
    assert boot.critical_rate.high - boot.critical_rate.low > 0
    assert (wilson_low, wilson_high) != (boot.critical_rate.low, boot.critical_rate.high)
    again = build_report(url, tmp_path / "same", seed=11)
    other = build_report(url, tmp_path / "other", seed=12)
    same = {t.template_id: t.bootstrap for t in again.templates}
    assert all(same[t.template_id] == t.bootstrap for t in report.templates)
    changed = {t.template_id: t.bootstrap for t in other.templates}
    assert any(changed[t.template_id] != t.bootstrap for t in report.templates)


def test_task_type_tests_match_scipy(pilot: Any, report: Any) -> None:
    """Kruskal–Wallis H and p (ratings; rater-level medians) and Fisher's p per task type, recomputed."""
    _url, records, _survey = pilot
    groups = {kind: [r for r in _rated(records) if TEMPLATES[r.template][0] == kind] for kind in TASK_TYPES}
    groups = {kind: recs for kind, recs in groups.items() if recs}
    assert list(groups) == ["anchored", "semi", "open"]
    tests = {t.data: t for t in report.tests}
    pooled = stats.kruskal(*([r.utility for r in recs] for recs in groups.values()))
    kw = tests["utility, all ratings"]
    assert (kw.statistic, kw.pvalue, kw.df) == (
        pytest.approx(pooled.statistic, rel=EXACT), pytest.approx(pooled.pvalue, rel=1e-6), 2,
    )  # fmt: skip
    by_rater = stats.kruskal(*(_rater_medians(recs) for recs in groups.values()))
    kw = tests["utility, rater-level medians"]
    assert kw.statistic == pytest.approx(by_rater.statistic, rel=EXACT)
    assert kw.pvalue == pytest.approx(by_rater.pvalue, rel=1e-6)
    table = [(sum(r.critical for r in recs), sum(not r.critical for r in recs)) for recs in groups.values()]
    exact = _fisher_exact_2xk(table)
    assert tests["critical errors, all ratings"].pvalue == pytest.approx(exact, abs=MONTE_CARLO_P)
    assert "Monte Carlo" in tests["critical errors, all ratings"].method
    rows = {row["task_type"]: row for row in _csv(report.files["task_types"])}
    for kind, recs in groups.items():
        assert int(rows[kind]["ratings"]) == len(recs)
        assert float(rows[kind]["rater_median"]) == pytest.approx(float(np.median(_rater_medians(recs))))
        assert int(rows[kind]["raters"]) == 14


@pytest.mark.parametrize("table", [[(3, 10), (9, 4)], [(0, 12), (5, 5)], [(1, 30), (2, 2)]])
def test_two_group_fisher_is_exact(table: list[tuple[int, int]]) -> None:
    """With two groups the test is the exact 2x2 one: equal to enumeration to float precision."""
    result = fisher("x", {"a": table[0], "b": table[1]}, seed=1)
    assert result.pvalue == pytest.approx(_fisher_exact_2xk(table), abs=1e-9)
    assert "exact" in result.method


def test_splits_by_language_digest_and_version(pilot: Any, report: Any) -> None:
    """Each split cell's runs, ratings, coverage and rater-level median match the records."""
    _url, records, _survey = pilot
    rows = _csv(report.files["splits"])
    attribute = {"language": "language", "model_digest": "digest", "template_version": "version"}
    seen = 0
    for row in rows:
        mine = [
            r for r in records
            if r.template == row["template_id"] and getattr(r, attribute[row["dimension"]]) == row["value"]
        ]  # fmt: skip
        rated = _rated(mine)
        assert (int(row["runs"]), int(row["ratings"])) == (len(mine), len(rated)), row
        if rated:
            assert float(row["rater_median"]) == pytest.approx(float(np.median(_rater_medians(mine))))
            assert float(row["coverage"]) == pytest.approx(len(rated) / len(mine), abs=1e-4)
        seen += 1
    # five templates x (2 languages + 2 digests + 2 versions)
    assert seen == 5 * 6
    assert {row["value"] for row in rows if row["dimension"] == "language"} == {"de", "en"}


def test_guard_agreement_table(pilot: Any, report: Any) -> None:
    """Verdict x critical error, and per category flagged x named, counted from the records."""
    _url, records, _survey = pilot
    rated = _rated(records)
    agreement = report.data.agreement
    for verdict in ("review", "unchecked", "ok"):
        mine = [r for r in rated if r.verdict == verdict]
        assert agreement.verdicts[verdict] == [
            sum(r.critical for r in mine),
            sum(not r.critical for r in mine),
        ]
    unguarded = [r for r in rated if r.verdict is None]
    assert agreement.verdicts["no guard"] == [
        sum(r.critical for r in unguarded),
        sum(not r.critical for r in unguarded),
    ]
    guarded = [r for r in rated if r.verdict is not None]
    for kind, category in KIND_CATEGORY.items():
        flagged = [bool(r.counts.get(kind)) for r in guarded]
        named = [category in r.categories for r in guarded]
        pairs = list(zip(flagged, named, strict=True))
        expected = [pairs.count((True, True)), pairs.count((True, False)), pairs.count((False, True)),
                    pairs.count((False, False))]  # fmt: skip
        assert agreement.categories[category] == expected, category
    assert agreement.categories["omission"][0] > 0  # the seeded data has agreeing flags to count
    csv_rows = {(r["table"], r["row"]): r for r in _csv(report.files["agreement"])}
    assert int(csv_rows[("verdict", "review")]["critical_error"]) == agreement.verdicts["review"][0]


def test_date_window(pilot: Any, tmp_path: Path) -> None:
    """--since/--until keep runs (and their ratings) and survey answers inside [since, until)."""
    url, records, survey = pilot
    since, until = START + timedelta(weeks=2), START + timedelta(weeks=4)
    summary = build_report(url, tmp_path, window=Window(since, until), seed=11)
    inside = [r for r in records if since <= r.created < until]
    assert (summary.runs, summary.ratings) == (len(inside), len(_rated(inside)))
    assert 0 < summary.runs < len(records)
    rows = {row["template_id"]: row for row in _csv(summary.files["templates"])}
    for template in TEMPLATES:
        mine = [r for r in inside if r.template == template]
        assert float(rows[template]["rater_median"]) == pytest.approx(float(np.median(_rater_medians(mine))))
    assert summary.survey_answers == 0  # the survey was answered after week 6
    late = build_report(url, tmp_path / "late", window=Window(since=START + timedelta(weeks=6)), seed=11)
    assert late.survey_answers == len(survey)
    assert late.runs == sum(r.created >= START + timedelta(weeks=6) for r in records)
    assert "Window: runs and survey answers from 2027-01-18" in summary.html.read_text(encoding="utf-8")


def test_survey_instrument_in_the_report(pilot: Any, report: Any) -> None:
    """Roles, critical errors seen and utility per template after the pilot, from the answers."""
    _url, _records, survey = pilot
    roles = {row["role"]: row for row in _csv(report.files["survey_roles"])}
    for role, label in (("resident", "resident"), ("consultant", "consultant"), (None, "not stated")):
        mine = [s for s in survey if s["rater_role"] == role]
        seen = [s["critical_errors_seen"] for s in mine if s["critical_errors_seen"] is not None]
        row = roles[label]
        assert int(row["answers"]) == len(mine)
        assert float(row["stability_median"]) == float(np.median([s["stability"] for s in mine]))
        assert (int(row["critical_errors_seen_n"]), int(row["critical_errors_seen_total"])) == (
            len(seen),
            sum(seen),
        )
        assert float(row["critical_errors_seen_median"]) == float(np.median(seen))
    templates = {row["template_id"]: row for row in _csv(report.files["survey_templates"])}
    assert set(templates) == {"translation", "differential-diagnosis"}
    for template, row in templates.items():
        scores = [s["template_utility"][template] for s in survey]
        assert float(row["median"]) == float(np.median(scores))
        assert float(row["q1"]) == float(np.percentile(scores, 25))
    html = report.html.read_text(encoding="utf-8")
    assert 'id="survey-roles"' in html and 'id="survey-templates"' in html
    # templates: 3; task types; one per split (language, digest, version); agreement; survey: 2
    assert html.count('src="data:image/png;base64,') == 10
    for name in (s["user"] for s in survey):
        assert name not in html  # no rater is named


def test_database_from_before_the_language_column(tmp_path: Path) -> None:
    """A database the report's columns are missing from fails with a StoreError that says what to do."""
    url = f"sqlite:///{tmp_path / 'old.db'}"
    store = Store.open(url)
    store.migrate()
    store.close()
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("ALTER TABLE runs DROP COLUMN language"))
    engine.dispose()
    with pytest.raises(StoreError, match="start `medvault up` once"):
        build_report(url, tmp_path / "out")


def test_cli_window_and_missing_database(pilot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI takes days (--until includes its day), refuses nonsense, and names a missing database."""
    url, records, _survey = pilot
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    out = tmp_path / "r"
    result = runner.invoke(app, ["report", "pilot", "--out", str(out), "--database", url,
                                 "--since", "2027-01-11", "--until", "2027-01-17"])  # fmt: skip
    assert result.exit_code == 0, result.output
    inside = [r for r in records if START + timedelta(weeks=1) <= r.created < START + timedelta(weeks=2)]
    assert f"{len(inside)} runs, {len(_rated(inside))} ratings by 14 raters" in result.output.replace(
        "\n", " "
    )
    bad = runner.invoke(app, ["report", "pilot", "--out", str(out), "--database", url, "--since", "soon"])
    assert bad.exit_code == 2 and "is not a day" in bad.output
    backwards = runner.invoke(app, ["report", "pilot", "--out", str(out), "--database", url,
                                    "--since", "2027-02-01", "--until", "2027-01-01"])  # fmt: skip
    assert backwards.exit_code == 2 and "--since must be before --until" in backwards.output
    missing = runner.invoke(app, ["report", "pilot", "--out", str(out), "--database",
                                  f"sqlite:///{tmp_path / 'nothing' / 'medvault.db'}"])  # fmt: skip
    assert missing.exit_code == 2 and "no MedVault database at" in missing.output
    assert "sqlalchemy" not in missing.output.lower() and "Traceback" not in missing.output
    listed = runner.invoke(app, ["report", "--help"])
    assert all(name in listed.output for name in ("pilot", "evidence", "monitoring"))
