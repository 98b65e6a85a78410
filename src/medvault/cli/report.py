"""`medvault report pilot --out DIR`: the pilot analytics report (HTML and CSV) from the database."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from medvault.cli._common import (
    ConfigOption,
    announce_data_dir,
    console,
    fail,
    require_database,
    settings_from,
)
from medvault.errors import MedVaultError
from medvault.governance.pilot import build_report

report_app = typer.Typer(help="Reports for the hospital's governance.", no_args_is_help=True)


@report_app.command("pilot")
def pilot(
    out: Annotated[Path, typer.Option("--out", "-o", help="directory to write report.html and the CSVs to")],
    database: Annotated[
        str | None, typer.Option("--database", help="database URL (default: the configured one)")
    ] = None,
    config: ConfigOption = None,
) -> None:
    """Per-template utility and critical errors, survey distributions and plots, as HTML and CSV."""
    settings = settings_from(config)
    url = database or settings.resolved_database_url
    announce_data_dir(settings, url)
    require_database(url)  # a report of nothing would only hide that this is the wrong directory
    columns = (SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn())
    try:
        with Progress(*columns, console=console, transient=True) as progress:
            summary = build_report(url, out, progress)
    except MedVaultError as exc:
        fail(str(exc))
    console.print(
        f"[green]written[/] {summary.html}, {summary.templates_csv.name}, {summary.survey_csv.name}: "
        f"{summary.runs} runs, {summary.ratings} ratings, {summary.survey_answers} survey answers"
    )
    if not summary.ratings:
        console.print("[yellow]note[/]: no feedback recorded yet; the report says so")


def register(app: typer.Typer) -> None:
    """Add `medvault report ...` to the main app."""
    app.add_typer(report_app, name="report")
