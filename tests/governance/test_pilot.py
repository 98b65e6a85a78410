"""The pilot report from a real (migrated) database: hand-checked numbers, the empty case, 20k rows."""

from __future__ import annotations

import csv
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, MetaData, create_engine, insert, text
from typer.testing import CliRunner

from medvault.cli import app
from medvault.errors import StoreError
from medvault.governance import PILOT_SEED
from medvault.governance.pilot import build_report
from medvault.store import Store


def _store(url: str) -> Store:
    store = Store.open(url)
    store.migrate()
    return store


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _rate(
    store: Store, template_id: str, version: str, utility: int, critical: bool, cats: list[str]
) -> None:
    run = store.save_run(user="dr-a", status="ok", template_id=template_id, template_version=version)
    store.save_feedback(run_id=run.id, user="dr-a", utility=utility, critical_error=critical, categories=cats)


@pytest.fixture
def seeded(db_url: str) -> str:
    """Three templates with hand-countable ratings, one run without feedback, four survey answers."""
    store = _store(db_url)
    try:
        # report-correction: utility 2, 5, 7, 8, 10 -> median 7, Q1 5, Q3 8; 1 critical of 5; 2 versions.
        for utility, critical, cats, version in [
            (2, True, ["omission", "laterality"], "sha256:aaaaaaaaaaaa"),
            (5, False, ["other"], "sha256:aaaaaaaaaaaa"),
            (7, False, [], "sha256:aaaaaaaaaaaa"),
            (8, False, [], "sha256:bbbbbbbbbbbb"),
            (10, False, [], "sha256:bbbbbbbbbbbb"),
        ]:
            _rate(store, "report-correction", version, utility, critical, cats)
        # impression-from-findings: utility 1, 4, 6, 9 -> median 5, Q1 3.25, Q3 6.75; 3 critical of 4.
        for utility, critical, cats in [
            (1, True, ["hallucination"]),
            (4, True, ["hallucination", "omission"]),
            (6, True, ["negation"]),
            (9, False, []),
        ]:
            _rate(store, "impression-from-findings", "sha256:cccccccccccc", utility, critical, cats)
        for _ in range(2):  # translation: run, never rated
            store.save_run(user="dr-b", status="ok", template_id="translation", template_version="sha256:d")
        # stability 3, 7, 7, 9 -> median 7, Q1 6, Q3 7.5
        # ease of use 6, 8, 9, 10 -> median 8.5, Q1 7.5, Q3 9.25
        for user, (stability, ease) in zip("abcd", [(3, 8), (7, 10), (7, 6), (9, 9)], strict=True):
            store.save_survey(user=f"dr-{user}", stability=stability, ease_of_use=ease)  # one answer each
    finally:
        store.close()
    return db_url


def test_seeded_numbers(seeded: str, tmp_path: Path) -> None:
    """Runs, utility median/IQR, critical-error rate and Wilson interval, categories match hand counts."""
    summary = build_report(seeded, tmp_path / "out")
    assert (summary.runs, summary.ratings, summary.survey_answers) == (11, 9, 4)
    rows = {row["template_id"]: row for row in _rows(summary.templates_csv)}
    assert list(rows) == ["report-correction", "impression-from-findings", "translation"]  # best first
    rc, imp, tr = rows["report-correction"], rows["impression-from-findings"], rows["translation"]
    assert (rc["title"], rc["runs"], rc["versions"], rc["ratings"]) == ("Report correction", "5", "2", "5")
    assert [float(rc[k]) for k in ("utility_median", "utility_q1", "utility_q3", "utility_iqr")] == [
        7,
        5,
        8,
        3,
    ]
    assert (rc["critical_errors"], float(rc["critical_error_rate"])) == ("1", 0.2)
    # Wilson 95% for 1/5, by hand: centre (0.2 + 1.96²/10) / (1 + 1.96²/5) = 0.3303, half-width 0.2941.
    assert (float(rc["critical_ci_low"]), float(rc["critical_ci_high"])) == (0.0362, 0.6245)
    assert [rc[c] for c in ("omission", "laterality", "other", "hallucination")] == ["1", "1", "1", "0"]
    assert [float(imp[k]) for k in ("utility_median", "utility_q1", "utility_q3", "utility_iqr")] == [
        5,
        3.25,
        6.75,
        3.5,
    ]
    assert (imp["critical_errors"], float(imp["critical_error_rate"])) == ("3", 0.75)
    assert (float(imp["critical_ci_low"]), float(imp["critical_ci_high"])) == (0.3006, 0.9544)
    assert [imp[c] for c in ("hallucination", "omission", "negation")] == ["2", "1", "1"]
    assert (tr["runs"], tr["ratings"], tr["utility_median"], tr["critical_error_rate"]) == ("2", "0", "", "")
    survey = {
        int(r["score"]): (int(r["stability"]), int(r["ease_of_use"])) for r in _rows(summary.survey_csv)
    }
    assert survey[7] == (2, 0) and survey[8] == (0, 1) and sum(e for _, e in survey.values()) == 4


def test_seeded_html_is_self_contained(seeded: str, tmp_path: Path) -> None:
    """report.html carries its plots inline and loads nothing from elsewhere."""
    html = build_report(seeded, tmp_path).html.read_text(encoding="utf-8")
    # utility, critical, categories, task types, template versions, guard agreement, survey
    assert html.count('src="data:image/png;base64,') == 7
    for external in ("http://", "https://", "<script", "<link", "url("):
        assert external not in html
    assert "Report correction" in html and "20.0% [3.6–62.4%]" in html
    assert "No feedback has been recorded yet" not in html
    assert "<td>stability</td><td>4</td><td>7.0</td>\n        <td>1.50 (6.00–7.50)</td>" in html
    assert "<td>ease of use</td><td>4</td><td>8.5</td>\n        <td>1.75 (7.50–9.25)</td>" in html


def test_empty_database(db_url: str, tmp_path: Path) -> None:
    """A migrated database without any rows gives a report that says there is no feedback yet."""
    _store(db_url).close()
    summary = build_report(db_url, tmp_path)
    html = summary.html.read_text(encoding="utf-8")
    assert (summary.runs, summary.ratings, summary.survey_answers) == (0, 0, 0)
    assert "No feedback has been recorded yet." in html and "No survey answers yet." in html
    assert "data:image/png" not in html
    assert _rows(summary.templates_csv) == []
    assert len(_rows(summary.survey_csv)) == 11


def test_runs_without_feedback(db_url: str, tmp_path: Path) -> None:
    """Runs but no ratings: the table lists the runs and the report says ratings are missing."""
    store = _store(db_url)
    store.save_run(user="dr-a", status="ok", template_id="error-check", template_version="sha256:e")
    store.close()
    summary = build_report(db_url, tmp_path)
    assert "the table lists the runs per template only" in summary.html.read_text(encoding="utf-8")
    assert [(r["template_id"], r["runs"], r["ratings"]) for r in _rows(summary.templates_csv)] == [
        ("error-check", "1", "0")
    ]


def test_database_without_tables_is_a_store_error(tmp_path: Path) -> None:
    """A database that was never migrated fails with a StoreError, not a SQLAlchemy traceback."""
    with pytest.raises(StoreError, match="reading runs"):
        build_report(f"sqlite:///{tmp_path / 'blank.db'}", tmp_path / "out")


@pytest.mark.slow
def test_twenty_thousand_rows(db_url: str, tmp_path: Path) -> None:
    """20,000 rated runs and 1,000 survey answers are reported quickly, with the right totals."""
    _store(db_url).close()
    engine = create_engine(db_url)
    meta = MetaData()
    meta.reflect(engine, only=["runs", "feedback", "survey"])
    now = datetime.now(UTC).replace(tzinfo=None)  # naive UTC, as the store writes it on both databases
    templates = ["report-correction", "translation", "impression-from-findings", "differential-diagnosis"]
    runs, feedback = [], []
    for i in range(20_000):
        run_id, template, critical = str(uuid.uuid4()), templates[i % 4], i % 10 == 0
        runs.append({
            "id": run_id, "created_at": now, "user": f"dr-{i % 22}", "template_id": template,
            "template_version": "sha256:ffffffffffff", "status": "ok", "guard_counts": {},
        })  # fmt: skip
        feedback.append({
            "run_id": run_id, "user": f"dr-{i % 22}", "created_at": now, "template_id": template,
            "utility": i % 11, "critical_error": critical, "categories": ["omission"] if critical else [],
        })  # fmt: skip
    survey = [
        {"user": f"dr-{i}", "created_at": now, "stability": i % 11, "ease_of_use": 10} for i in range(1000)
    ]
    with engine.begin() as conn:
        conn.execute(insert(meta.tables["runs"]), runs)
        conn.execute(insert(meta.tables["feedback"]), feedback)
        conn.execute(insert(meta.tables["survey"]), survey)
    started = time.monotonic()
    summary = build_report(engine, tmp_path)
    elapsed = time.monotonic() - started
    try:
        direct = _direct_counts(engine)
    finally:
        engine.dispose()
    assert (summary.runs, summary.ratings, summary.survey_answers) == (20_000, 20_000, 1000)
    assert sum(t.critical_errors for t in summary.templates) == 2000
    assert sum(t.categories["omission"] for t in summary.templates) == 2000
    assert elapsed < 30, f"report took {elapsed:.1f} s"
    # Per template, against the database itself: critical errors fall on every tenth run, so only the
    # templates at even positions have them (1000 each), and each template has its own utility spread.
    by_id = {t.template_id: t for t in summary.templates}
    csv_rows = {row["template_id"]: row for row in _rows(summary.templates_csv)}
    assert direct["critical"] == {"report-correction": 1000, "impression-from-findings": 1000}
    for template in templates:
        stats = by_id[template]
        assert stats.runs == direct["runs"][template] == 5000, template
        assert stats.critical_errors == direct["critical"].get(template, 0), template
        assert stats.categories["omission"] == stats.critical_errors, template
        expected = [direct["utility"].get((template, score), 0) for score in range(11)]
        assert stats.utility_counts == expected, template
        assert csv_rows[template]["critical_errors"] == str(stats.critical_errors), template
    assert by_id["translation"].utility_counts != by_id["report-correction"].utility_counts


def _direct_counts(engine: Engine) -> dict[str, dict]:
    """Runs, critical errors and utility histograms per template, counted by SQL alone."""
    with engine.connect() as conn:
        runs = conn.execute(text("SELECT template_id, COUNT(*) FROM runs GROUP BY template_id"))
        critical = conn.execute(
            text("SELECT template_id, COUNT(*) FROM feedback WHERE critical_error GROUP BY template_id")
        )
        utility = conn.execute(
            text("SELECT template_id, utility, COUNT(*) FROM feedback GROUP BY template_id, utility")
        )
        return {
            "runs": {t: n for t, n in runs},
            "critical": {t: n for t, n in critical},
            "utility": {(t, u): n for t, u, n in utility},
        }


def test_cli_writes_report(seeded: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`medvault report pilot --out DIR --database URL` writes the report and prints the totals."""
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["report", "pilot", "--out", str(tmp_path / "r"), "--database", seeded])
    assert result.exit_code == 0, result.output
    assert "11 runs, 9 ratings by 1 rater, 4 survey answers" in result.output.replace("\n", " ")
    assert (tmp_path / "r" / "report.html").is_file() and (tmp_path / "r" / "templates.csv").is_file()


def test_cli_help_shows_the_default_seed() -> None:
    """The help names the seed a report without `--seed` uses, so that its intervals can be reproduced."""
    result = CliRunner().invoke(app, ["report", "pilot", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert f"[default: {PILOT_SEED}]" in result.output


def test_report_without_critical_errors(db_url: str, tmp_path: Path) -> None:
    """Three task types rated, no critical error flagged: the report is written and says why Fisher has
    no p-value (scipy's 2 x 3 sampler refused the zero row before)."""
    store = _store(db_url)
    try:
        for template in ("report-correction", "fleischner-nodule", "impression-from-findings"):
            for utility in (4, 6, 8):
                _rate(store, template, "sha256:eeeeeeeeeeee", utility, False, [])
    finally:
        store.close()
    summary = build_report(db_url, tmp_path)
    test = {t.name: t for t in summary.tests}["Fisher"]
    assert len(test.groups) == 3
    assert (test.note, test.pvalue) == ("no critical errors in any group", None)
    html = summary.html.read_text(encoding="utf-8")
    assert "scipy.stats.fisher_exact: no critical errors in any group" in html
    row = next(r for r in _rows(tmp_path / "tests.csv") if r["test"] == "Fisher")
    assert (row["note"], row["p_value"]) == ("no critical errors in any group", "")
