"""The evaluation report: HTML (self-contained, figures inline) plus CSV tables and PNG figures.

    write_report(outcome, out_dir) -> [evaluation.html, templates.csv, cases.csv, guard.png, quality.png,
                                       speed.png]

Figures are drawn on matplotlib's Agg canvas through `Figure` directly (no pyplot state), as the pilot
report does. Everything in it is numbers, digests and template ids: no case or answer text.
"""

from __future__ import annotations

import base64
import csv
import io
from collections.abc import Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

from jinja2 import Environment, StrictUndefined
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from medvault.governance._eval_policy import Outcome
from medvault.governance._evaluation import TemplateMetrics, metrics_by_key

_CANDIDATE, _BASELINE = "#1f5f8b", "#8a8f98"
_COLUMNS = (
    "template", "version", "task_type", "runs", "failed", "review_per_100", "unchecked_per_100",
    "schema_valid", "quote_valid", "agreement", "length_ratio", "latency_s", "latency_p95_s", "tokens_per_s",
)  # fmt: skip


def _png(fig: Figure) -> bytes:
    FigureCanvasAgg(fig)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    return buffer.getvalue()


def _bars(
    metrics: Sequence[TemplateMetrics],
    base: Mapping[str, Mapping[str, Any]],
    fields: Sequence[tuple[str, str]],
    xlabel: str,
    xmax: float | None = None,
) -> bytes:
    """One panel per field: a horizontal bar per template, the baseline's value as a grey tick."""
    fig = Figure(figsize=(4.2 * len(fields), 0.35 * len(metrics) + 1.4))
    labels = [m.template for m in metrics]
    for index, (name, title) in enumerate(fields):
        ax = fig.add_subplot(1, len(fields), index + 1)
        values = [getattr(m, name) for m in metrics]
        ax.barh(range(len(metrics)), [v or 0 for v in values], color=_CANDIDATE, height=0.6)
        for row, m in enumerate(metrics):
            before = base.get(m.template, {}).get(name)
            if before is not None:
                ax.vlines(before, row - 0.4, row + 0.4, color=_BASELINE, linewidth=3)
            if values[row] is None:
                ax.annotate("n/a", (0, row), va="center", fontsize=7, color=_BASELINE)
        # Fixed scales for rates, so an all-zero panel still reads as "0 of 100"; else fit the data.
        before = [base.get(m.template, {}).get(name) or 0 for m in metrics]
        ax.set_xlim(0, xmax or max([v or 0 for v in values] + before + [1e-9]) * 1.1)
        ax.set_yticks(range(len(metrics)), labels if index == 0 else [""] * len(metrics), fontsize=7)
        ax.invert_yaxis()
        ax.set_title(title, fontsize=9)
        ax.set_xlabel(xlabel, fontsize=8)
    return _png(fig)


def _figures(outcome: Outcome) -> dict[str, bytes]:
    base = metrics_by_key(outcome.baseline.metrics) if outcome.baseline else {}
    metrics = outcome.metrics
    guard = (("review_per_100", "guard: review"), ("unchecked_per_100", "guard: unchecked"))
    quality = (
        ("schema_valid", "schema-valid"),
        ("quote_valid", "quotes verbatim"),
        ("agreement", "agreement"),
    )
    speed = (
        ("latency_s", "median latency (s)"),
        ("tokens_per_s", "tokens/s"),
        ("length_ratio", "length ratio"),
    )
    return {
        "guard.png": _bars(metrics, base, guard, "per 100 runs", 100),
        "quality.png": _bars(metrics, base, quality, "share", 1),
        "speed.png": _bars(metrics, base, speed, "value"),
    }


def _csv(path: Path, columns: Sequence[str], rows: Sequence[Mapping[str, Any]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(columns), extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)


def write_report(outcome: Outcome, out_dir: Path) -> list[Path]:
    """Write the report files into `out_dir` (created); returns their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    figures = _figures(outcome)
    for name, data in figures.items():
        (out_dir / name).write_bytes(data)
        written.append(out_dir / name)
    _csv(out_dir / "templates.csv", _COLUMNS, [m.to_dict() for m in outcome.metrics])
    cases = [vars(r) for r in outcome.results]
    _csv(out_dir / "cases.csv", list(cases[0]) if cases else ["template"], cases)
    written += [out_dir / "templates.csv", out_dir / "cases.csv"]
    env = Environment(autoescape=True, undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    source = (resources.files("medvault.governance") / "evaluation_report.html.j2").read_text(
        encoding="utf-8"
    )
    html = env.from_string(source).render(
        record=outcome.record,
        baseline=outcome.baseline,
        metrics=outcome.metrics,
        columns=_COLUMNS[3:],
        figures={
            name: "data:image/png;base64," + base64.b64encode(data).decode("ascii")
            for name, data in figures.items()
        },
    )
    (out_dir / "evaluation.html").write_text(html, encoding="utf-8")
    return [out_dir / "evaluation.html", *written]
