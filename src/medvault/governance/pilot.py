"""The pilot analytics report: per-template utility and critical errors, the survey, plots and CSV.

    summary = build_report("sqlite:////var/lib/medvault/medvault.db", Path("pilot-report"))

writes `report.html` (self-contained: inline CSS and base64 PNG plots, no external assets),
`templates.csv` (one row per template) and `survey.csv` (one row per score 0-10). It reads only
ratings and counts, never run content or free-text comments. Definitions are in docs/pilot-report.md.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

from jinja2 import Environment, StrictUndefined
from rich.progress import Progress, TaskID
from sqlalchemy import Engine, create_engine
from sqlalchemy.exc import ArgumentError

from medvault import __version__
from medvault.errors import MedVaultError, StoreError
from medvault.governance import _pilot_plots as plots
from medvault.governance._pilot_data import (
    CATEGORIES,
    PilotData,
    TemplateStats,
    read_feedback,
    read_runs,
    read_survey,
)
from medvault.governance._pilot_stats import SCORES, Spread
from medvault.templates import TemplateLibrary

__all__ = ["ReportSummary", "build_report"]

TEMPLATE_COLUMNS = (
    "template_id", "title", "runs", "versions", "ratings", "utility_median", "utility_q1", "utility_q3",
    "utility_iqr", "critical_errors", "critical_error_rate", "critical_ci_low", "critical_ci_high",
    *CATEGORIES,
)  # fmt: skip


@dataclass(frozen=True)
class ReportSummary:
    """What was written, and the totals it rests on."""

    html: Path
    templates_csv: Path
    survey_csv: Path
    runs: int
    ratings: int
    survey_answers: int
    templates: tuple[TemplateStats, ...]


def _titles() -> dict[str, str]:
    """English titles of the built-in templates; hospital templates show their id."""
    try:
        return {t.id: t.title for t in TemplateLibrary.load().list("en")}
    except MedVaultError:  # a title is a nicety; the report must not fail over it
        return {}


def _csv_value(value: Any) -> Any:
    """Four decimals for rates and quartiles, an empty cell for "not computable"."""
    if value is None:
        return ""
    return round(value, 4) if isinstance(value, float) else value


def _template_row(stats: TemplateStats, title: str) -> dict[str, Any]:
    spread, ci = stats.utility, stats.critical_ci
    return {
        "template_id": stats.template_id, "title": title, "runs": stats.runs, "versions": stats.versions,
        "ratings": stats.ratings,
        "utility_median": spread.median if spread else None, "utility_q1": spread.q1 if spread else None,
        "utility_q3": spread.q3 if spread else None, "utility_iqr": spread.iqr if spread else None,
        "critical_errors": stats.critical_errors, "critical_error_rate": stats.critical_rate,
        "critical_ci_low": ci[0] if ci else None, "critical_ci_high": ci[1] if ci else None,
        **{category: stats.categories.get(category, 0) for category in CATEGORIES},
    }  # fmt: skip


def _write_csv(path: Path, header: tuple[str, ...], rows: list[dict[str, Any]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=header)
        writer.writeheader()
        writer.writerows({key: _csv_value(value) for key, value in row.items()} for row in rows)


def _sort_key(stats: TemplateStats) -> tuple[float, int, str]:
    """Best-rated first; unrated templates last, busiest first among them."""
    spread = stats.utility
    return (-(spread.median if spread else -1.0), -stats.runs, stats.template_id)


def _render_html(data: PilotData, rows: list[dict[str, Any]], figures: dict[str, str], source: str) -> str:
    env = Environment(autoescape=True, undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    text = (resources.files("medvault.governance") / "pilot_report.html.j2").read_text(encoding="utf-8")
    return env.from_string(text).render(
        data=data, rows=rows, figures=figures, source=source, categories=CATEGORIES, scores=list(SCORES),
        survey=[
            (name, counts, Spread.of(counts))
            for name, counts in (("stability", data.stability_counts), ("ease of use", data.ease_counts))
        ],
        generated=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"), version=__version__,
    )  # fmt: skip


def _engine(engine_or_url: Engine | str) -> tuple[Engine, bool]:
    if isinstance(engine_or_url, Engine):
        return engine_or_url, False
    try:
        return create_engine(engine_or_url), True
    except (ArgumentError, ImportError) as exc:
        raise StoreError(f"cannot open the database URL (not shown: it may hold a password): {exc}") from exc


def _figures(data: PilotData, labels: list[str]) -> dict[str, str]:
    """The plots that have data: rated templates only, the survey only once someone answered."""
    figures: dict[str, str] = {}
    rated = [(t, label) for t, label in zip(data.templates, labels, strict=True) if t.ratings]
    if rated:
        stats, names = [t for t, _ in rated], [label for _, label in rated]
        figures["utility"] = plots.utility_plot(stats, names)
        figures["critical"] = plots.critical_plot(stats, names)
        if any(t.categories for t in stats):
            figures["categories"] = plots.categories_plot(stats, names)
    if data.survey_answers:
        figures["survey"] = plots.survey_plot(data.stability_counts, data.ease_counts)
    return figures


def _read(engine: Engine, progress: Progress, task: TaskID) -> PilotData:
    stats: dict[str, TemplateStats] = {}
    progress.update(task, description="reading runs")
    read_runs(engine, stats)
    progress.update(task, advance=1, description="reading feedback")
    read_feedback(engine, stats)
    progress.update(task, advance=1, description="reading survey")
    stability, ease = read_survey(engine)
    progress.advance(task)
    return PilotData(sorted(stats.values(), key=_sort_key), stability, ease)


def build_report(
    engine_or_url: Engine | str, out_dir: Path, progress: Progress | None = None
) -> ReportSummary:
    """Read the pilot from the database and write report.html, templates.csv and survey.csv to out_dir."""
    progress = progress or Progress(disable=True)
    task = progress.add_task("pilot report", total=6)
    engine, owned = _engine(engine_or_url)
    try:
        data = _read(engine, progress, task)
        source = engine.url.render_as_string(hide_password=True)
    finally:
        if owned:
            engine.dispose()
    titles = _titles()
    rows = [_template_row(t, titles.get(t.template_id, "")) for t in data.templates]
    progress.update(task, description="drawing plots")
    figures = _figures(data, [titles.get(t.template_id, t.template_id) for t in data.templates])
    progress.update(task, advance=1, description="writing files")
    out_dir.mkdir(parents=True, exist_ok=True)
    summary = ReportSummary(
        out_dir / "report.html", out_dir / "templates.csv", out_dir / "survey.csv",
        data.runs, data.ratings, data.survey_answers, tuple(data.templates),
    )  # fmt: skip
    _write_csv(summary.templates_csv, TEMPLATE_COLUMNS, rows)
    survey_rows = [
        {"score": s, "stability": data.stability_counts[s], "ease_of_use": data.ease_counts[s]}
        for s in SCORES
    ]
    _write_csv(summary.survey_csv, ("score", "stability", "ease_of_use"), survey_rows)
    summary.html.write_text(_render_html(data, rows, figures, source), encoding="utf-8")
    progress.advance(task, 2)
    return summary
