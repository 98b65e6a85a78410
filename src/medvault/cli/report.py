"""`medvault report pilot --out DIR [--since DAY] [--until DAY]`: the pilot analytics report (HTML and
CSV) from the database."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
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
from medvault.cli.evidence import evidence, monitoring
from medvault.errors import MedVaultError
from medvault.governance import PILOT_SEED

report_app = typer.Typer(help="Reports for the hospital's governance.", no_args_is_help=True)
report_app.command("evidence")(evidence)
report_app.command("monitoring")(monitoring)


@report_app.command("pilot")
def pilot(
    out: Annotated[Path, typer.Option("--out", "-o", help="directory to write report.html and the CSVs to")],
    database: Annotated[
        str | None, typer.Option("--database", help="database URL (default: the configured one)")
    ] = None,
    since: Annotated[
        str | None,
        typer.Option("--since", help="only runs and survey answers from this day or time on (UTC)"),
    ] = None,
    until: Annotated[
        str | None,
        typer.Option("--until", help="only those before this time, or up to and including this day (UTC)"),
    ] = None,
    seed: Annotated[
        int,
        typer.Option(
            "--seed", help="seed of the bootstrap and Monte Carlo p-values (same seed, same numbers)"
        ),
    ] = PILOT_SEED,
    config: ConfigOption = None,
) -> None:
    """Pilot statistics (raters as the unit) by template, task type, model, language and version; HTML, CSV.

    Also: guard flags against clinician-reported errors, the survey, plots. See docs/pilot-report.md.
    """
    # Imported here: the report's scipy and matplotlib would slow every command (tests/cli/test_startup.py).
    from medvault.governance.pilot import Window, build_report

    window = Window(_moment(since, "--since", end_of_day=False), _moment(until, "--until", end_of_day=True))
    if window.since and window.until and window.since >= window.until:
        fail("--since must be before --until", status=2)
    settings = settings_from(config)
    url = database or settings.resolved_database_url
    announce_data_dir(settings, url)
    require_database(url)  # a report of nothing would only hide that this is the wrong directory
    columns = (SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn())
    try:
        with Progress(*columns, console=console, transient=True) as progress:
            summary = build_report(url, out, progress, window=window, seed=seed)
    except MedVaultError as exc:
        fail(str(exc))
    console.print(
        f"[green]written[/] {summary.html} and {len(summary.files)} CSV files: {summary.runs} runs, "
        f"{summary.ratings} ratings by {summary.raters} rater{'' if summary.raters == 1 else 's'}, "
        f"{summary.survey_answers} survey answers"
    )
    if not summary.ratings:
        console.print("[yellow]note[/]: no feedback recorded yet; the report says so")


def _moment(text: str | None, option: str, *, end_of_day: bool) -> datetime | None:
    """A day (2027-01-31) or an ISO time; without a zone it is UTC. `--until DAY` includes that day."""
    if text is None:
        return None
    try:
        if len(text) == 10:
            day = date.fromisoformat(text) + timedelta(days=1 if end_of_day else 0)
            return datetime(day.year, day.month, day.day, tzinfo=UTC)
        moment = datetime.fromisoformat(text)
    except ValueError:
        fail(f"{option} {text!r} is not a day (2027-01-31) or an ISO time (2027-01-31T08:00)", status=2)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def register(app: typer.Typer) -> None:
    """Add `medvault report ...` to the main app."""
    app.add_typer(report_app, name="report")
