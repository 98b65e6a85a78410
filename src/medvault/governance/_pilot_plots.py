"""The report's figures, drawn with matplotlib's Agg canvas and returned as inline PNG data URIs.

Figures are built with `matplotlib.figure.Figure` directly, not pyplot: no global figure registry,
no GUI backend, nothing left open between reports.
"""

from __future__ import annotations

import base64
import io
import itertools
from collections.abc import Mapping, Sequence

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from medvault.governance._pilot_data import CATEGORIES, GroupStats, TemplateStats
from medvault.governance._pilot_stats import SCORES, Spread

_ACCENT, _CRITICAL, _MUTED = "#1f5f8b", "#b3261e", "#8a8f98"
_CATEGORY_COLOURS = ("#b3261e", "#e07b39", "#7b5ea7", "#2e8b57", "#1f5f8b", "#8a8f98")


def _png(fig: Figure) -> str:
    FigureCanvasAgg(fig)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _rows_figure(count: int) -> Figure:
    return Figure(figsize=(8, 0.45 * count + 1.3))


def spread_plot(spreads: Sequence[Spread | None], labels: Sequence[str], xlabel: str) -> str:
    """Per row: range (line), interquartile range (bar) and median (tick) of 0-10 scores."""
    fig = _rows_figure(len(spreads))
    ax = fig.add_subplot()
    for row, spread in enumerate(spreads):
        if spread is None:
            continue
        ax.hlines(row, spread.minimum, spread.maximum, color=_MUTED, linewidth=1)
        ax.barh(row, max(spread.iqr, 0.08), left=spread.q1, height=0.5, color=_ACCENT, alpha=0.35)
        ax.vlines(spread.median, row - 0.3, row + 0.3, color=_ACCENT, linewidth=3)
        ax.annotate(
            f"n={spread.n}", (10.6, row), va="center", fontsize=8, color=_MUTED, annotation_clip=False
        )
    ax.set_yticks(range(len(spreads)), labels)
    ax.invert_yaxis()
    ax.set_xlim(-0.3, 10.3)
    ax.set_xticks(list(SCORES))
    ax.set_xlabel(xlabel)
    ax.grid(axis="x", alpha=0.3)
    return _png(fig)


def utility_plot(templates: Sequence[TemplateStats], labels: Sequence[str]) -> str:
    """Per template: range, interquartile range and median of the utility ratings."""
    return spread_plot(
        [t.utility for t in templates], labels, "clinical utility (0-10): median, interquartile range, range"
    )


def critical_plot(templates: Sequence[TemplateStats], labels: Sequence[str]) -> str:
    """Per template: critical-error rate with its Wilson 95% confidence interval."""
    fig = _rows_figure(len(templates))
    ax = fig.add_subplot()
    for row, stats in enumerate(templates):
        rate, ci = stats.critical_rate, stats.critical_ci
        if rate is None or ci is None:
            continue
        ax.errorbar(
            rate * 100, row, xerr=[[max(rate - ci[0], 0) * 100], [max(ci[1] - rate, 0) * 100]],
            fmt="o", color=_CRITICAL, ecolor=_CRITICAL, capsize=4,
        )  # fmt: skip
        ax.annotate(
            f"{stats.critical_errors}/{stats.ratings}", (102, row), va="center", fontsize=8, color=_MUTED,
            annotation_clip=False,
        )  # fmt: skip
    ax.set_yticks(range(len(templates)), labels)
    ax.invert_yaxis()
    ax.set_xlim(-2, 100)
    ax.set_xlabel("critical-error rate, % of rated runs (95% Wilson interval)")
    ax.grid(axis="x", alpha=0.3)
    return _png(fig)


def categories_plot(templates: Sequence[TemplateStats], labels: Sequence[str]) -> str:
    """Per template: how often each error category was named, stacked."""
    fig = _rows_figure(len(templates))
    ax = fig.add_subplot()
    left = [0] * len(templates)
    for category, colour in zip(CATEGORIES, _CATEGORY_COLOURS, strict=True):
        counts = [t.categories.get(category, 0) for t in templates]
        ax.barh(range(len(templates)), counts, left=left, color=colour, label=category.replace("_", "/"))
        left = [a + b for a, b in zip(left, counts, strict=True)]
    ax.set_yticks(range(len(templates)), labels)
    ax.invert_yaxis()
    ax.set_xlabel("error categories named in feedback (count)")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.legend(loc="lower right", fontsize=8, frameon=False)
    ax.grid(axis="x", alpha=0.3)
    return _png(fig)


def survey_plot(stability: Sequence[int], ease: Sequence[int]) -> str:
    """Histograms of the survey's stability and ease-of-use ratings, side by side."""
    fig = Figure(figsize=(8, 2.8))
    axes = fig.subplots(1, 2, sharey=True)
    for ax, counts, title in ((axes[0], stability, "stability"), (axes[1], ease, "ease of use")):
        ax.bar(list(SCORES), counts, color=_ACCENT)
        ax.set_xticks(list(SCORES))
        ax.set_title(f"{title} (n={sum(counts)})", fontsize=10)
        ax.set_xlabel("rating (0-10)")
        ax.grid(axis="y", alpha=0.3)
    axes[0].set_ylabel("answers")
    return _png(fig)


def task_type_plot(groups: Sequence[GroupStats]) -> str:
    """Per task type: the raters' own median utilities (box and points) and the critical-error rate with
    its cluster-bootstrap 95% interval over raters."""
    fig = Figure(figsize=(8, 0.6 * len(groups) + 1.6))
    left, right = fig.subplots(1, 2, sharey=True)
    rows = range(len(groups))
    left.boxplot(
        [g.rater_medians for g in groups], positions=list(rows), orientation="horizontal", widths=0.5,
        showfliers=False, medianprops={"color": _ACCENT, "linewidth": 2},
    )  # fmt: skip
    for row, group in zip(rows, groups, strict=True):
        medians = group.rater_medians
        left.scatter(medians, [row] * len(medians), s=10, color=_ACCENT, alpha=0.5, zorder=3)
        rate, boot = group.critical_rate, group.bootstrap
        if rate is None:
            continue
        low, high = (boot.critical_rate.low, boot.critical_rate.high) if boot else (rate, rate)
        right.errorbar(
            rate * 100, row, xerr=[[max(rate - low, 0) * 100], [max(high - rate, 0) * 100]], fmt="o",
            color=_CRITICAL, ecolor=_CRITICAL, capsize=4,
        )  # fmt: skip
    left.set_yticks(list(rows), [f"{g.label}\n{g.raters} raters" for g in groups])
    left.invert_yaxis()
    left.set_xlim(-0.3, 10.3)
    left.set_xlabel("rater-level median utility (0-10)")
    right.set_xlim(-2, 100)
    right.set_xlabel("critical-error rate, % (95% CI over raters)")
    for ax in (left, right):
        ax.grid(axis="x", alpha=0.3)
    return _png(fig)


def agreement_plot(verdicts: Mapping[str, Sequence[int]]) -> str:
    """Per guard verdict: rated runs with and without a clinician-reported critical error."""
    names = list(verdicts)
    fig = _rows_figure(len(names))
    ax = fig.add_subplot()
    critical = [verdicts[n][0] for n in names]
    fine = [verdicts[n][1] for n in names]
    ax.barh(range(len(names)), critical, color=_CRITICAL, label="critical error reported")
    ax.barh(range(len(names)), fine, left=critical, color=_MUTED, alpha=0.6, label="no critical error")
    ax.set_yticks(range(len(names)), [f"guard: {n}" for n in names])
    ax.invert_yaxis()
    ax.set_xlabel("rated runs")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.legend(loc="lower right", fontsize=8, frameon=False)
    ax.grid(axis="x", alpha=0.3)
    return _png(fig)


def split_plot(entries: Sequence[tuple[str, str, GroupStats]], labels: Mapping[str, str], title: str) -> str:
    """Per template, one marker per value of the split (language, model, version): the rater-level median
    utility with its 95% interval over raters, so a difference between values is seen at a glance."""
    templates = list(dict.fromkeys(template for template, _value, _stats in entries))
    values = list(dict.fromkeys(value for _template, value, _stats in entries))
    fig = _rows_figure(len(templates))
    ax = fig.add_subplot()
    step = 0.6 / max(len(values), 1)
    for index, (value, colour) in enumerate(zip(values, itertools.cycle(_CATEGORY_COLOURS[::-1]))):
        offset = -0.3 + step * (index + 0.5)
        label: str | None = value  # once per value in the legend
        for template, _value, stats in (e for e in entries if e[1] == value):
            median, boot = stats.rater_level_median, stats.bootstrap
            if median is None:
                continue
            low, high = (boot.rater_median.low, boot.rater_median.high) if boot else (median, median)
            ax.errorbar(
                median, templates.index(template) + offset,
                xerr=[[max(median - low, 0)], [max(high - median, 0)]], fmt="o", color=colour, capsize=3,
                label=label,
            )  # fmt: skip
            label = None
    ax.set_yticks(range(len(templates)), [labels.get(t, t) for t in templates])
    ax.invert_yaxis()
    ax.set_xlim(-0.3, 10.3)
    ax.set_xticks(list(SCORES))
    ax.set_xlabel(f"rater-level median utility (0-10) with 95% CI over raters, by {title}")
    ax.legend(loc="lower left", fontsize=8, frameon=False)
    ax.grid(axis="x", alpha=0.3)
    return _png(fig)
