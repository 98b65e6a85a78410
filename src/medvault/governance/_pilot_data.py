"""Reading the pilot's runs, feedback and survey with SQLAlchemy Core, aggregated in the database.

Only counts leave the database (per template and score), except the error categories, which are a
JSON list per feedback row and are streamed in batches because JSON functions differ between SQLite
and PostgreSQL. Free-text comments are content and are never read.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlalchemy import JSON, Boolean, Connection, Engine, Integer, column, func, select, table
from sqlalchemy.exc import SQLAlchemyError

from medvault.errors import StoreError
from medvault.governance._pilot_stats import SCORES, Spread, wilson

CATEGORIES = ("hallucination", "omission", "laterality", "negation", "number_unit", "other")

# Lightweight table clauses: the report needs a handful of columns, not the store's ORM models.
_runs = table("runs", column("template_id"), column("template_version"))
_feedback = table(
    "feedback",
    column("template_id"),
    column("utility", Integer),
    column("critical_error", Boolean),
    column("categories", JSON),  # typed, so SQLite's JSON text comes back as a list
)
_survey = table("survey", column("stability"), column("ease_of_use"))


@dataclass
class TemplateStats:
    """Everything the report says about one template."""

    template_id: str
    runs: int = 0
    versions: int = 0
    utility_counts: list[int] = field(default_factory=lambda: [0] * len(SCORES))
    critical_errors: int = 0
    categories: Counter[str] = field(default_factory=Counter)

    @property
    def ratings(self) -> int:
        return sum(self.utility_counts)

    @property
    def utility(self) -> Spread | None:
        return Spread.of(self.utility_counts)

    @property
    def critical_rate(self) -> float | None:
        return self.critical_errors / self.ratings if self.ratings else None

    @property
    def critical_ci(self) -> tuple[float, float] | None:
        return wilson(self.critical_errors, self.ratings) if self.ratings else None


@dataclass
class PilotData:
    """The aggregated pilot: per-template statistics and the survey's score histograms."""

    templates: list[TemplateStats]
    stability_counts: list[int]
    ease_counts: list[int]

    @property
    def runs(self) -> int:
        return sum(t.runs for t in self.templates)

    @property
    def ratings(self) -> int:
        return sum(t.ratings for t in self.templates)

    @property
    def survey_answers(self) -> int:
        return sum(self.stability_counts)


@contextmanager
def _reading(engine: Engine, what: str) -> Iterator[Connection]:
    """A connection whose SQLAlchemy errors leave as StoreError (the boundary of this package)."""
    try:
        with engine.connect() as conn:
            yield conn
    except SQLAlchemyError as exc:
        raise StoreError(
            f"reading {what} for the pilot report failed: {exc.__class__.__name__}: {exc}"
        ) from exc


def _template_key(template_id: str | None) -> str:
    return template_id or "(no template)"


def read_runs(engine: Engine, stats: dict[str, TemplateStats]) -> None:
    """Runs and distinct template versions per template."""
    query = select(
        _runs.c.template_id, func.count(), func.count(_runs.c.template_version.distinct())
    ).group_by(_runs.c.template_id)
    with _reading(engine, "runs") as conn:
        for template_id, runs, versions in conn.execute(query):
            entry = stats.setdefault(_template_key(template_id), TemplateStats(_template_key(template_id)))
            entry.runs, entry.versions = runs, versions


def read_feedback(engine: Engine, stats: dict[str, TemplateStats], batch: int = 5000) -> None:
    """Utility histograms and critical-error counts per template; category counts streamed in batches."""
    by_score = select(
        _feedback.c.template_id, _feedback.c.utility, _feedback.c.critical_error, func.count()
    ).group_by(_feedback.c.template_id, _feedback.c.utility, _feedback.c.critical_error)
    # Every named category counts, with or without the critical flag: both say what went wrong.
    categories = select(_feedback.c.template_id, _feedback.c.categories).execution_options(yield_per=batch)
    with _reading(engine, "feedback") as conn:
        for template_id, utility, critical, count in conn.execute(by_score):
            entry = stats.setdefault(_template_key(template_id), TemplateStats(_template_key(template_id)))
            if utility in SCORES:  # the store accepts only 0-10; anything else is not a rating
                entry.utility_counts[utility] += count
            if critical:
                entry.critical_errors += count
        tallies: defaultdict[str, Counter[str]] = defaultdict(Counter)
        for template_id, cats in conn.execute(categories):
            tallies[_template_key(template_id)].update(cats or ())
    for template_id, tally in tallies.items():
        stats[template_id].categories.update(tally)


def read_survey(engine: Engine) -> tuple[list[int], list[int]]:
    """Histograms (index = score) of the stability and ease-of-use answers."""
    stability, ease = [0] * len(SCORES), [0] * len(SCORES)
    with _reading(engine, "survey answers") as conn:
        for target, col in ((stability, _survey.c.stability), (ease, _survey.c.ease_of_use)):
            for score, count in conn.execute(select(col, func.count()).group_by(col)):
                if score in SCORES:
                    target[score] += count
    return stability, ease
