"""The pilot analytics report: utility and critical errors per template, per task type and per split,
with raters as the unit of analysis; the guard set against clinicians' findings; the survey; plots, CSV.

    summary = build_report("sqlite:////var/lib/medvault/medvault.db", Path("pilot-report"),
                           window=Window(since=datetime(2027, 1, 1, tzinfo=UTC)), seed=2027)

writes `report.html` (self-contained: inline CSS and base64 PNG plots, no external assets) and the CSV
files in `CSV_FILES`. It reads only ratings, flags and counts, never run content or free-text comments,
and names no rater. The bootstrap and the Monte Carlo p-values are reproducible from `seed`.
Definitions are in docs/pilot-report.md.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
from jinja2 import Environment, StrictUndefined
from rich.progress import Progress, TaskID
from sqlalchemy import Engine, create_engine
from sqlalchemy.exc import ArgumentError

from medvault import __version__
from medvault.errors import MedVaultError, StoreError
from medvault.governance import PILOT_SEED
from medvault.governance import _pilot_plots as plots
from medvault.governance._pilot_data import (
    CATEGORIES,
    FLAG_CATEGORIES,
    SPLITS,
    VERDICTS,
    GroupStats,
    PilotData,
    TemplateStats,
    Window,
    read_ratings,
    read_survey,
)
from medvault.governance._pilot_stats import (
    BOOTSTRAP_RESAMPLES,
    SCORES,
    GroupTest,
    Spread,
    expand,
    fisher,
    kruskal_wallis,
)
from medvault.store import RATER_ROLES
from medvault.templates import TemplateLibrary

__all__ = ["TASK_TYPES", "ReportSummary", "Window", "build_report"]

TASK_TYPES = {
    "anchored": "text-anchored",
    "semi": "semi-anchored",
    "open": "open-ended",
    "unknown": "not in the template library",
}
_TESTED_TYPES = ("anchored", "semi", "open")  # templates of unknown type take no part in the tests

_GROUP_COLUMNS = (
    "runs", "ratings", "coverage", "raters", "utility_median", "utility_q1", "utility_q3", "utility_iqr",
    "rater_median", "rater_median_ci_low", "rater_median_ci_high", "critical_errors", "critical_error_rate",
    "critical_ci_low", "critical_ci_high", "critical_ci_raters_low", "critical_ci_raters_high",
)  # fmt: skip
TEMPLATE_COLUMNS = ("template_id", "title", "task_type", "versions", *_GROUP_COLUMNS, *CATEGORIES)
SPLIT_COLUMNS = ("dimension", "value", "template_id", *_GROUP_COLUMNS)
TASK_COLUMNS = ("task_type", "label", "templates", *_GROUP_COLUMNS)
TEST_COLUMNS = ("test", "data", "groups", "statistic", "df", "p_value", "method", "note")
AGREEMENT_COLUMNS = ("table", "row", "critical_error", "no_critical_error", "flagged_and_named",
                     "flagged_only", "named_only", "neither")  # fmt: skip
SURVEY_TEMPLATE_COLUMNS = ("template_id", "title", "answers", "median", "q1", "q3", *(str(s) for s in SCORES))
SURVEY_ROLE_COLUMNS = ("role", "answers", "stability_median", "ease_of_use_median", "critical_errors_seen_n",
                       "critical_errors_seen_median", "critical_errors_seen_total")  # fmt: skip
CSV_FILES = ("templates", "splits", "task_types", "tests", "agreement", "survey", "survey_templates",
             "survey_roles")  # fmt: skip


@dataclass(frozen=True)
class ReportSummary:
    """What was written, and the totals and statistics it rests on."""

    html: Path
    files: dict[str, Path]  # CSV name (CSV_FILES) -> path
    runs: int
    ratings: int
    raters: int
    survey_answers: int
    templates: tuple[TemplateStats, ...]
    task_types: dict[str, GroupStats]
    tests: tuple[GroupTest, ...]
    data: PilotData = field(repr=False)

    @property
    def templates_csv(self) -> Path:
        return self.files["templates"]

    @property
    def survey_csv(self) -> Path:
        return self.files["survey"]


@dataclass(frozen=True)
class _Catalogue:
    """Titles and task types of the templates the library knows (hospital templates included)."""

    titles: dict[str, str]
    task_types: dict[str, str]

    @classmethod
    def load(cls) -> _Catalogue:
        try:
            templates = TemplateLibrary.load().list()
        except MedVaultError:  # titles and types are niceties; the report must not fail over them
            return cls({}, {})
        # English titles where a template has them; a task type is the same in every language.
        ordered = sorted(templates, key=lambda t: t.lang == "en")
        return cls({t.id: t.title for t in ordered}, {t.id: t.task_type for t in ordered})

    def title(self, template_id: str) -> str:
        return self.titles.get(template_id, "")


def _csv_value(value: Any) -> Any:
    """Four decimals for rates and quartiles, an empty cell for "not computable"."""
    if value is None:
        return ""
    return round(value, 4) if isinstance(value, float) else value


def _group_values(stats: GroupStats) -> dict[str, Any]:
    spread, ci, boot = stats.utility, stats.critical_ci, stats.bootstrap
    return {
        "runs": stats.runs, "ratings": stats.ratings, "coverage": stats.coverage, "raters": stats.raters,
        "utility_median": spread.median if spread else None, "utility_q1": spread.q1 if spread else None,
        "utility_q3": spread.q3 if spread else None, "utility_iqr": spread.iqr if spread else None,
        "rater_median": stats.rater_level_median,
        "rater_median_ci_low": boot.rater_median.low if boot else None,
        "rater_median_ci_high": boot.rater_median.high if boot else None,
        "critical_errors": stats.critical_errors, "critical_error_rate": stats.critical_rate,
        "critical_ci_low": ci[0] if ci else None, "critical_ci_high": ci[1] if ci else None,
        "critical_ci_raters_low": boot.critical_rate.low if boot else None,
        "critical_ci_raters_high": boot.critical_rate.high if boot else None,
    }  # fmt: skip


def _template_row(stats: TemplateStats, title: str) -> dict[str, Any]:
    return {
        "template_id": stats.template_id, "title": title, "task_type": stats.task_type,
        "versions": stats.versions, **_group_values(stats),
        **{category: stats.categories.get(category, 0) for category in CATEGORIES},
    }  # fmt: skip


def _write_csv(path: Path, header: tuple[str, ...], rows: Iterable[dict[str, Any]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=header)
        writer.writeheader()
        writer.writerows({key: _csv_value(value) for key, value in row.items()} for row in rows)


def _sort_key(stats: TemplateStats) -> tuple[float, int, str]:
    """Best-rated first; unrated templates last, busiest first among them."""
    spread = stats.utility
    return (-(spread.median if spread else -1.0), -stats.runs, stats.template_id)


def _task_types(templates: list[TemplateStats], seed: int, resamples: int) -> dict[str, GroupStats]:
    """Templates pooled by task type; a rater's ratings of all templates of a type form one cluster."""
    groups: dict[str, GroupStats] = {}
    for template in templates:
        groups.setdefault(template.task_type, GroupStats(TASK_TYPES[template.task_type])).absorb(template)
    ordered = {kind: groups[kind] for kind in TASK_TYPES if kind in groups}
    for kind, group in ordered.items():
        group.resample(seed, f"task:{kind}", resamples)
    return ordered


def _tests(groups: dict[str, GroupStats], seed: int) -> tuple[GroupTest, ...]:
    """Text-anchored vs semi-anchored vs open-ended: utility (per rating and per rater), critical errors."""
    tested = {TASK_TYPES[k]: g for k, g in groups.items() if k in _TESTED_TYPES}
    return (
        kruskal_wallis(
            "utility, all ratings", {name: expand(g.utility_counts) for name, g in tested.items()}
        ),
        kruskal_wallis(
            "utility, rater-level medians",
            {name: np.asarray(g.rater_medians) for name, g in tested.items()},
        ),
        fisher(
            "critical errors, all ratings",
            {name: (g.critical_errors, g.ratings - g.critical_errors) for name, g in tested.items()},
            seed,
        ),
    )


def _split_rows(data: PilotData) -> list[dict[str, Any]]:
    return [
        {"dimension": dimension, "value": value, "template_id": template_id, **_group_values(stats)}
        for dimension in SPLITS
        for template_id, value, stats in data.splits[dimension]
    ]


def _test_row(test: GroupTest) -> dict[str, Any]:
    return {
        "test": test.name, "data": test.data, "groups": " | ".join(test.groups), "statistic": test.statistic,
        "df": test.df, "p_value": test.pvalue, "method": test.method, "note": test.note,
    }  # fmt: skip


def _agreement_rows(data: PilotData) -> list[dict[str, Any]]:
    agreement = data.agreement
    rows: list[dict[str, Any]] = [
        {"table": "verdict", "row": verdict, "critical_error": yes, "no_critical_error": no}
        for verdict, (yes, no) in agreement.verdicts.items()
    ]
    rows += [
        {"table": "category", "row": category, "flagged_and_named": both, "flagged_only": flag,
         "named_only": named, "neither": neither}
        for category, (both, flag, named, neither) in agreement.categories.items()
    ]  # fmt: skip
    return rows


def _median(values: list[int]) -> float | None:
    return float(np.median(values)) if values else None


def _survey_role_rows(data: PilotData) -> list[dict[str, Any]]:
    survey, rows = data.survey, []
    for role in (*RATER_ROLES, "not stated"):
        if role not in survey.roles:
            continue
        stability, ease = (Spread.of(counts) for counts in survey.roles[role])
        seen = survey.errors_seen.get(role, [])
        rows.append({
            "role": role, "answers": sum(survey.roles[role][0]),
            "stability_median": stability.median if stability else None,
            "ease_of_use_median": ease.median if ease else None, "critical_errors_seen_n": len(seen),
            "critical_errors_seen_median": _median(seen), "critical_errors_seen_total": sum(seen),
        })  # fmt: skip
    return rows


def _survey_template_rows(data: PilotData, catalogue: _Catalogue) -> list[dict[str, Any]]:
    rows = []
    for template_id, counts in sorted(data.survey.template_utility.items()):
        spread = Spread.of(counts)
        rows.append({
            "template_id": template_id, "title": catalogue.title(template_id), "answers": sum(counts),
            "median": spread.median if spread else None, "q1": spread.q1 if spread else None,
            "q3": spread.q3 if spread else None, **{str(s): counts[s] for s in SCORES},
        })  # fmt: skip
    return rows


def _render_html(data: PilotData, context: dict[str, Any], source: str) -> str:
    env = Environment(autoescape=True, undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    text = (resources.files("medvault.governance") / "pilot_report.html.j2").read_text(encoding="utf-8")
    window = data.window
    return env.from_string(text).render(
        data=data, source=source, categories=CATEGORIES, scores=list(SCORES), task_labels=TASK_TYPES,
        flag_categories=FLAG_CATEGORIES, verdicts=VERDICTS, splits=SPLITS,
        survey=[
            (name, counts, Spread.of(counts))
            for name, counts in (("stability", data.stability_counts), ("ease of use", data.ease_counts))
        ],
        since=window.since.isoformat() if window.since else None,
        until=window.until.isoformat() if window.until else None,
        generated=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"), version=__version__, **context,
    )  # fmt: skip


def _engine(engine_or_url: Engine | str) -> tuple[Engine, bool]:
    if isinstance(engine_or_url, Engine):
        return engine_or_url, False
    try:
        return create_engine(engine_or_url), True
    except (ArgumentError, ImportError) as exc:
        raise StoreError(f"cannot open the database URL (not shown: it may hold a password): {exc}") from exc


def _figures(
    data: PilotData, labels: list[str], task_types: dict[str, GroupStats], catalogue: _Catalogue
) -> dict[str, str]:
    """The plots that have data: rated templates only, the survey only once someone answered."""
    figures: dict[str, str] = {}
    rated = [(t, label) for t, label in zip(data.templates, labels, strict=True) if t.ratings]
    if rated:
        stats, names = [t for t, _ in rated], [label for _, label in rated]
        figures["utility"] = plots.utility_plot(stats, names)
        figures["critical"] = plots.critical_plot(stats, names)
        if any(t.categories for t in stats):
            figures["categories"] = plots.categories_plot(stats, names)
        figures["task_types"] = plots.task_type_plot([g for g in task_types.values() if g.ratings])
        if sum(sum(pair) for pair in data.agreement.verdicts.values()):
            figures["agreement"] = plots.agreement_plot(data.agreement.verdicts)
        for dimension in SPLITS:
            if len({value for _t, value, _s in data.splits[dimension]}) > 1:  # one value: nothing to compare
                figures[f"split-{dimension}"] = plots.split_plot(
                    data.splits[dimension], catalogue.titles, dimension.replace("_", " ")
                )
    if data.survey_answers:
        figures["survey"] = plots.survey_plot(data.stability_counts, data.ease_counts)
    if data.survey.template_utility:
        ids = sorted(data.survey.template_utility)
        figures["survey_templates"] = plots.spread_plot(
            [Spread.of(data.survey.template_utility[i]) for i in ids],
            [catalogue.title(i) or i for i in ids],
            "utility after the pilot (0-10): median, interquartile range, range",
        )
    return figures


def _read(engine: Engine, window: Window, progress: Progress, task: TaskID) -> PilotData:
    progress.update(task, description="reading runs and feedback")
    cells, agreement = read_ratings(engine, window)
    progress.update(task, advance=1, description="reading survey")
    survey = read_survey(engine, window)
    progress.advance(task)
    splits = {
        dimension: [(tid, value, stats) for (tid, value), stats in sorted(cells.splits[dimension].items())]
        for dimension in SPLITS
    }
    return PilotData(sorted(cells.templates.values(), key=_sort_key), splits, agreement, survey, window)


def _resample(data: PilotData, catalogue: _Catalogue, seed: int, resamples: int) -> None:
    """Task types, then the cluster bootstrap of every template and split cell (keyed, so reproducible)."""
    for template in data.templates:
        template.task_type = catalogue.task_types.get(template.template_id, "unknown")
        template.resample(seed, f"template:{template.template_id}", resamples)
    for dimension, entries in data.splits.items():
        for template_id, value, stats in entries:
            stats.resample(seed, f"{dimension}:{template_id}:{value}", resamples)


_Tables = dict[str, tuple[tuple[str, ...], list[dict[str, Any]]]]


def _tables(
    data: PilotData, catalogue: _Catalogue, task_types: dict[str, GroupStats], tests: tuple[GroupTest, ...]
) -> _Tables:
    """Every CSV file's header and rows (the HTML shows the same rows)."""
    title = catalogue.title
    return {
        "templates": (TEMPLATE_COLUMNS, [_template_row(t, title(t.template_id)) for t in data.templates]),
        "splits": (SPLIT_COLUMNS, _split_rows(data)),
        "task_types": (TASK_COLUMNS, [
            {"task_type": kind, "label": TASK_TYPES[kind],
             "templates": sum(t.task_type == kind for t in data.templates), **_group_values(group)}
            for kind, group in task_types.items()
        ]),
        "tests": (TEST_COLUMNS, [_test_row(t) for t in tests]),
        "agreement": (AGREEMENT_COLUMNS, _agreement_rows(data)),
        "survey": (("score", "stability", "ease_of_use"), [
            {"score": s, "stability": data.stability_counts[s], "ease_of_use": data.ease_counts[s]}
            for s in SCORES
        ]),
        "survey_templates": (SURVEY_TEMPLATE_COLUMNS, _survey_template_rows(data, catalogue)),
        "survey_roles": (SURVEY_ROLE_COLUMNS, _survey_role_rows(data)),
    }  # fmt: skip


def build_report(
    engine_or_url: Engine | str,
    out_dir: Path,
    progress: Progress | None = None,
    *,
    window: Window | None = None,
    seed: int = PILOT_SEED,
    resamples: int = BOOTSTRAP_RESAMPLES,
) -> ReportSummary:
    """Read the pilot (inside `window`) from the database and write report.html and the CSVs to out_dir."""
    progress = progress or Progress(disable=True)
    task = progress.add_task("pilot report", total=7)
    engine, owned = _engine(engine_or_url)
    try:
        data = _read(engine, window or Window(), progress, task)
        source = engine.url.render_as_string(hide_password=True)
    finally:
        if owned:
            engine.dispose()
    progress.update(task, description="resampling raters")
    catalogue = _Catalogue.load()
    _resample(data, catalogue, seed, resamples)
    task_types = _task_types(data.templates, seed, resamples)
    tests = _tests(task_types, seed)
    progress.update(task, advance=1, description="drawing plots")
    labels = [catalogue.title(t.template_id) or t.template_id for t in data.templates]
    figures = _figures(data, labels, task_types, catalogue)
    progress.update(task, advance=1, description="writing files")
    out_dir.mkdir(parents=True, exist_ok=True)
    tables = _tables(data, catalogue, task_types, tests)
    files = {name: out_dir / f"{name}.csv" for name in CSV_FILES}
    for name, (header, table_rows) in tables.items():
        _write_csv(files[name], header, table_rows)
    rows = {name: table_rows for name, (_header, table_rows) in tables.items()}
    context = {
        "rows": rows["templates"], "splits_rows": rows["splits"], "task_rows": rows["task_types"],
        "survey_roles": rows["survey_roles"], "survey_templates": rows["survey_templates"],
        "figures": figures, "test_list": tests,
    }  # fmt: skip
    html = out_dir / "report.html"
    html.write_text(_render_html(data, context, source), encoding="utf-8")
    progress.advance(task, 2)
    return ReportSummary(
        html, files, data.runs, data.ratings, data.raters, data.survey_answers, tuple(data.templates),
        task_types, tests, data,
    )  # fmt: skip
