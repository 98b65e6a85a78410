"""The report's figures, drawn with matplotlib's Agg canvas and returned as inline PNG data URIs.

Figures are built with `matplotlib.figure.Figure` directly, not pyplot: no global figure registry,
no GUI backend, nothing left open between reports.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from medvault.governance._pilot_data import CATEGORIES, TemplateStats
from medvault.governance._pilot_stats import SCORES

_ACCENT, _CRITICAL, _MUTED = "#1f5f8b", "#b3261e", "#8a8f98"
_CATEGORY_COLOURS = ("#b3261e", "#e07b39", "#7b5ea7", "#2e8b57", "#1f5f8b", "#8a8f98")


def _png(fig: Figure) -> str:
    FigureCanvasAgg(fig)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _rows_figure(count: int) -> Figure:
    return Figure(figsize=(8, 0.45 * count + 1.3))


def utility_plot(templates: Sequence[TemplateStats], labels: Sequence[str]) -> str:
    """Per template: range (line), interquartile range (bar) and median (tick) of the utility ratings."""
    fig = _rows_figure(len(templates))
    ax = fig.add_subplot()
    for row, stats in enumerate(templates):
        spread = stats.utility
        if spread is None:
            continue
        ax.hlines(row, spread.minimum, spread.maximum, color=_MUTED, linewidth=1)
        ax.barh(row, max(spread.iqr, 0.08), left=spread.q1, height=0.5, color=_ACCENT, alpha=0.35)
        ax.vlines(spread.median, row - 0.3, row + 0.3, color=_ACCENT, linewidth=3)
        ax.annotate(
            f"n={spread.n}", (10.6, row), va="center", fontsize=8, color=_MUTED, annotation_clip=False
        )
    ax.set_yticks(range(len(templates)), labels)
    ax.invert_yaxis()
    ax.set_xlim(-0.3, 10.3)
    ax.set_xticks(list(SCORES))
    ax.set_xlabel("clinical utility (0-10): median, interquartile range, range")
    ax.grid(axis="x", alpha=0.3)
    return _png(fig)


def critical_plot(templates: Sequence[TemplateStats], labels: Sequence[str]) -> str:
    """Per template: critical-error rate with its Wilson 95% confidence interval."""
    fig = _rows_figure(len(templates))
    ax = fig.add_subplot()
    for row, stats in enumerate(templates):
        rate, ci = stats.critical_rate, stats.critical_ci
        if rate is None or ci is None:
            continue
        ax.errorbar(
            rate * 100, row, xerr=[[(rate - ci[0]) * 100], [(ci[1] - rate) * 100]],
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
