"""Reading the pilot's runs, feedback and survey with SQLAlchemy Core, aggregated in the database.

Runs and ratings leave the database as counts per cell (template, version, model digest, language,
rater, score, critical flag), however many rows there are. Two things are streamed in batches because
JSON functions differ between SQLite and PostgreSQL: each rating's error categories with the guard's
flag counts of its run (for the agreement table), and the survey answers (one per user). Free-text
comments and run content are never read. Raters are kept apart by user name only inside this process;
no name leaves it (the report counts raters, it never lists them).
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    ColumnElement,
    Connection,
    Engine,
    Integer,
    Select,
    and_,
    column,
    func,
    select,
    table,
    true,
)
from sqlalchemy.exc import OperationalError, ProgrammingError, SQLAlchemyError

from medvault.errors import StoreError
from medvault.governance._pilot_stats import (
    SCORES,
    ClusterBootstrap,
    Spread,
    cluster_bootstrap,
    rater_median,
    wilson,
)
from medvault.store._models import UtcDateTime

CATEGORIES = ("hallucination", "omission", "laterality", "negation", "number_unit", "other")
# The guard's flag kinds (its check names) and the rating category that names the same kind of error.
FLAG_CATEGORIES = {
    "new_findings": "hallucination",
    "omissions": "omission",
    "laterality": "laterality",
    "negation": "negation",
    "numbers": "number_unit",
}
VERDICTS = ("review", "unchecked", "ok", "no guard")
SPLITS = ("model_digest", "language", "template_version")

# Lightweight table clauses: the report needs a handful of columns, not the store's ORM models.
_runs = table(
    "runs",
    column("id"),
    column("created_at", UtcDateTime()),
    column("template_id"),
    column("template_version"),
    column("model_digest"),
    column("language"),
    column("guard_verdict"),
    column("guard_counts", JSON),
)
_feedback = table(
    "feedback",
    column("id"),
    column("run_id"),
    column("user"),
    column("utility", Integer),
    column("critical_error", Boolean),
    column("categories", JSON),  # typed, so SQLite's JSON text comes back as a list
)
_survey = table(
    "survey",
    column("created_at", UtcDateTime()),
    column("stability", Integer),
    column("ease_of_use", Integer),
    column("rater_role"),
    column("critical_errors_seen", Integer),
    column("template_utility", JSON),
)


@dataclass(frozen=True)
class Window:
    """Runs made (and survey answers given) at or after `since` and before `until`; None: unbounded."""

    since: datetime | None = None
    until: datetime | None = None

    def over(self, created_at: ColumnElement[datetime]) -> ColumnElement[bool]:
        bounds = [created_at >= self.since] if self.since else []
        bounds += [created_at < self.until] if self.until else []
        return and_(true(), *bounds)


@dataclass
class GroupStats:
    """Runs, ratings and rater-level statistics of any group of runs (a template, a split, a task type)."""

    label: str
    runs: int = 0
    utility_counts: list[int] = field(default_factory=lambda: [0] * len(SCORES))
    critical_errors: int = 0
    rater_counts: dict[str, list[int]] = field(default_factory=dict)  # rater -> utility histogram
    rater_critical: Counter[str] = field(default_factory=Counter)
    bootstrap: ClusterBootstrap | None = None

    def add_rating(self, rater: str, utility: int, critical: bool, count: int) -> None:
        self.utility_counts[utility] += count
        self.rater_counts.setdefault(rater, [0] * len(SCORES))[utility] += count
        if critical:
            self.critical_errors += count
            self.rater_critical[rater] += count

    def absorb(self, other: GroupStats) -> None:
        """Add another group's runs and ratings; a rater with the same name stays one cluster."""
        self.runs += other.runs
        self.critical_errors += other.critical_errors
        self.rater_critical.update(other.rater_critical)
        for rater, counts in other.rater_counts.items():
            mine = self.rater_counts.setdefault(rater, [0] * len(SCORES))
            for score, count in enumerate(counts):
                mine[score] += count
                self.utility_counts[score] += count

    @property
    def ratings(self) -> int:
        return sum(self.utility_counts)

    @property
    def raters(self) -> int:
        return len(self.rater_counts)

    @property
    def coverage(self) -> float | None:
        """Rated runs / runs (a run has at most one rating)."""
        return self.ratings / self.runs if self.runs else None

    @property
    def utility(self) -> Spread | None:
        return Spread.of(self.utility_counts)

    @property
    def critical_rate(self) -> float | None:
        return self.critical_errors / self.ratings if self.ratings else None

    @property
    def critical_ci(self) -> tuple[float, float] | None:
        """Wilson 95% interval over ratings as if independent; see `bootstrap` for raters as clusters."""
        return wilson(self.critical_errors, self.ratings) if self.ratings else None

    @property
    def rater_medians(self) -> list[float]:
        """Each rater's median utility (sorted by rater, so the order is reproducible)."""
        return [rater_median(self.rater_counts[r]) for r in sorted(self.rater_counts)]

    @property
    def rater_level_median(self) -> float | None:
        """The median over raters of their own medians: every rater weighs the same."""
        medians = self.rater_medians
        return statistics.median(medians) if medians else None

    def resample(self, seed: int, key: str, resamples: int) -> None:
        """Attach the cluster-bootstrap intervals (raters resampled), reproducible from `seed`."""
        raters = sorted(self.rater_counts)
        self.bootstrap = cluster_bootstrap(
            self.rater_medians, [self.rater_critical[r] for r in raters],
            [sum(self.rater_counts[r]) for r in raters], seed=seed, key=key, resamples=resamples,
        )  # fmt: skip


@dataclass
class TemplateStats(GroupStats):
    """Everything the report says about one template."""

    versions: int = 0
    task_type: str = "unknown"
    categories: Counter[str] = field(default_factory=Counter)

    @property
    def template_id(self) -> str:
        return self.label


@dataclass
class Agreement:
    """Guard verdicts against clinicians' critical-error flags, and flag kinds against named categories."""

    # verdict -> [ratings with a critical error, ratings without]
    verdicts: dict[str, list[int]] = field(default_factory=lambda: {v: [0, 0] for v in VERDICTS})
    # category -> [flagged and named, flagged only, named only, neither], over guarded runs
    categories: dict[str, list[int]] = field(
        default_factory=lambda: {c: [0, 0, 0, 0] for c in FLAG_CATEGORIES.values()}
    )

    def add(self, critical: bool, named: list[str], verdict: str | None, counts: dict[str, int]) -> None:
        self.verdicts[verdict if verdict in VERDICTS else "no guard"][0 if critical else 1] += 1
        if verdict is None:
            return
        for kind, category in FLAG_CATEGORIES.items():
            flagged, said = bool(counts.get(kind)), category in named
            self.categories[category][(0 if said else 1) if flagged else (2 if said else 3)] += 1


@dataclass
class SurveyData:
    """The survey: score histograms overall and per role, critical errors seen, utility per template."""

    stability_counts: list[int] = field(default_factory=lambda: [0] * len(SCORES))
    ease_counts: list[int] = field(default_factory=lambda: [0] * len(SCORES))
    # role ("resident", "consultant", "not stated") -> (stability, ease of use) histograms
    roles: dict[str, tuple[list[int], list[int]]] = field(default_factory=dict)
    errors_seen: dict[str, list[int]] = field(default_factory=dict)  # role -> counts given
    template_utility: dict[str, list[int]] = field(default_factory=dict)  # template -> histogram

    @property
    def answers(self) -> int:
        return sum(self.stability_counts)

    def add(
        self, stability: int, ease: int, role: str | None, seen: int | None, utility: dict[str, int] | None
    ) -> None:
        role = role or "not stated"
        stability_by_role, ease_by_role = self.roles.setdefault(role, ([0] * len(SCORES), [0] * len(SCORES)))
        for histograms, score in (
            ((self.stability_counts, stability_by_role), stability),
            ((self.ease_counts, ease_by_role), ease),
        ):
            if score in SCORES:
                for histogram in histograms:
                    histogram[score] += 1
        if seen is not None:
            self.errors_seen.setdefault(role, []).append(seen)
        for template_id, score in (utility or {}).items():
            if score in SCORES:
                self.template_utility.setdefault(template_id, [0] * len(SCORES))[score] += 1


@dataclass
class PilotData:
    """The aggregated pilot: per-template statistics, the cells behind the splits, the survey."""

    templates: list[TemplateStats]
    splits: dict[str, list[tuple[str, str, GroupStats]]]  # dimension -> (template, value, stats)
    agreement: Agreement
    survey: SurveyData
    window: Window = field(default_factory=Window)

    @property
    def runs(self) -> int:
        return sum(t.runs for t in self.templates)

    @property
    def ratings(self) -> int:
        return sum(t.ratings for t in self.templates)

    @property
    def raters(self) -> int:
        return len({r for t in self.templates for r in t.rater_counts})

    @property
    def survey_answers(self) -> int:
        return self.survey.answers

    # The survey histograms under the names the template and older callers use.
    @property
    def stability_counts(self) -> list[int]:
        return self.survey.stability_counts

    @property
    def ease_counts(self) -> list[int]:
        return self.survey.ease_counts


@contextmanager
def _reading(engine: Engine, what: str) -> Iterator[Connection]:
    """A connection whose SQLAlchemy errors leave as StoreError (the boundary of this package)."""
    try:
        with engine.connect() as conn:
            yield conn
    except SQLAlchemyError as exc:
        hint = ""
        if isinstance(exc, OperationalError | ProgrammingError):  # a missing table or column, typically
            hint = (
                "; if the database was never migrated or is from an older MedVault, start `medvault up` "
                "once (it migrates the schema) and run the report again"
            )
        raise StoreError(
            f"reading {what} for the pilot report failed: {exc.__class__.__name__}: {exc}{hint}"
        ) from exc


def _template_key(template_id: str | None) -> str:
    return template_id or "(no template)"


def _value(value: str | None) -> str:
    return value or "(not recorded)"


class _Cells:
    """Ratings and runs as they come from the database, folded into templates and splits."""

    def __init__(self) -> None:
        self.templates: dict[str, TemplateStats] = {}
        self.versions: defaultdict[str, set[str | None]] = defaultdict(set)
        self.splits: dict[str, dict[tuple[str, str], GroupStats]] = {d: {} for d in SPLITS}

    def _groups(self, template_id: str, keys: tuple[str | None, ...]) -> Iterator[GroupStats]:
        yield self.templates.setdefault(template_id, TemplateStats(template_id))
        for dimension, value in zip(SPLITS, keys, strict=True):
            key = (template_id, _value(value))
            yield self.splits[dimension].setdefault(key, GroupStats(f"{template_id} / {_value(value)}"))

    def add_runs(self, template_id: str, keys: tuple[str | None, ...], runs: int) -> None:
        self.versions[template_id].add(keys[2])
        for group in self._groups(template_id, keys):
            group.runs += runs

    def add_ratings(
        self, template_id: str, keys: tuple[str | None, ...], rater: str, utility: int, critical: bool, n: int
    ) -> None:
        for group in self._groups(template_id, keys):
            group.add_rating(rater, utility, critical, n)


def _split_keys() -> tuple[ColumnElement[str], ...]:
    return (_runs.c.model_digest, _runs.c.language, _runs.c.template_version)


def _rated(window: Window) -> Select[tuple[object, ...]]:
    """Feedback joined to its run (language and guard live on the run), inside the window."""
    return (
        select()
        .select_from(_feedback.join(_runs, _runs.c.id == _feedback.c.run_id))
        .where(window.over(_runs.c.created_at))
    )


def read_ratings(engine: Engine, window: Window, batch: int = 5000) -> tuple[_Cells, Agreement]:
    """Runs and ratings per template and split cell; category tallies and the guard agreement."""
    cells, agreement = _Cells(), Agreement()
    keys = _split_keys()
    runs = (
        select(_runs.c.template_id, *keys, func.count())
        .where(window.over(_runs.c.created_at))
        .group_by(_runs.c.template_id, *keys)
    )
    rated_keys = (
        _runs.c.template_id,
        *keys,
        _feedback.c.user,
        _feedback.c.utility,
        _feedback.c.critical_error,
    )
    ratings = _rated(window).add_columns(*rated_keys, func.count()).group_by(*rated_keys)
    # Every named category counts, with or without the critical flag: both say what went wrong.
    details = (
        _rated(window)
        .add_columns(
            _runs.c.template_id, _feedback.c.critical_error, _feedback.c.categories, _runs.c.guard_verdict,
            _runs.c.guard_counts,
        )
        .execution_options(yield_per=batch)
    )  # fmt: skip
    with _reading(engine, "runs") as conn:
        for template_id, *split, count in conn.execute(runs):
            cells.add_runs(_template_key(template_id), tuple(split), count)
    with _reading(engine, "feedback") as conn:
        for template_id, digest, language, version, user, utility, critical, count in conn.execute(ratings):
            if utility in SCORES:  # the store accepts only 0-10; anything else is not a rating
                key = (digest, language, version)
                cells.add_ratings(_template_key(template_id), key, user, utility, bool(critical), count)
        for template_id, critical, named, verdict, counts in conn.execute(details):
            template = cells.templates.setdefault(
                _template_key(template_id), TemplateStats(_template_key(template_id))
            )
            template.categories.update(named or ())
            agreement.add(bool(critical), list(named or ()), verdict, dict(counts or {}))
    for template_id, versions in cells.versions.items():
        cells.templates[template_id].versions = len(versions - {None})
    return cells, agreement


def read_survey(engine: Engine, window: Window) -> SurveyData:
    """The survey answers given inside the window (one per user; comments are not read)."""
    data = SurveyData()
    query = select(
        _survey.c.stability, _survey.c.ease_of_use, _survey.c.rater_role, _survey.c.critical_errors_seen,
        _survey.c.template_utility,
    ).where(window.over(_survey.c.created_at))  # fmt: skip
    with _reading(engine, "survey answers") as conn:
        for stability, ease, role, seen, utility in conn.execute(query):
            data.add(stability, ease, role, seen, utility)
    return data
