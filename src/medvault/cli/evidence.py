"""`medvault report evidence --out DIR` and `medvault report monitoring`: evidence from live checks.

Registered under `medvault report` (cli/report.py): `report_app.command("evidence")(evidence)` and
`report_app.command("monitoring")(monitoring)`.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from medvault.cli._common import ConfigOption, console, operator, settings_from
from medvault.cli.keys import cli_store
from medvault.governance._monitoring import monitoring_summary


def evidence(
    out: Annotated[Path, typer.Option("--out", "-o", help="directory for evidence.html, .pdf and .sha256")],
    config: ConfigOption = None,
) -> None:
    """Verify isolation, the audit chain and the rest now, and write the signed-off evidence (HTML + PDF).

    Exit status 0 only when isolation is verified, the audit chain is intact and no approved model
    serves with material changes since its approval; 1 when the report was written but says otherwise
    (run as root while MedVault is up to verify isolation).
    """
    # Imported here: its plots and statistics would slow every command (tests/cli/test_startup.py).
    from medvault.governance.evidence import build_evidence

    with cli_store(config) as store:
        settings = settings_from(config)
        columns = (SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn())
        with Progress(*columns, console=console, transient=True) as progress:
            progress.add_task(
                "verifying isolation, the audit chain and monitoring; writing the PDF", total=None
            )
            summary = build_evidence(store, settings, out, user=operator())
    console.print(f"[green]written[/] {summary.html}, {summary.pdf}, {summary.digests}")
    console.print(f"sha256 {summary.html_sha256}  {summary.html.name}", highlight=False)
    console.print(
        f"sha256 {summary.pdf_sha256}  {summary.pdf.name}  (both in the audit trail)", highlight=False
    )
    console.print(
        "isolation: [green]verified[/]"
        if summary.isolation_verified
        else "isolation: [bold red]NOT verified[/] (the report says why)"
    )
    chain = "[green]intact[/]" if summary.chain_ok else "[bold red]BROKEN[/]"
    console.print(f"audit chain: {chain}, head {summary.head_hash}")
    if summary.open_incidents or summary.alerts:
        console.print(f"[yellow]open incidents: {summary.open_incidents}, drift alerts: {summary.alerts}[/]")
    for change in summary.material_changes:
        console.print(f"[bold red]material change since the approval:[/] {change}", highlight=False)
    if not summary.ok:
        raise typer.Exit(1)


def monitoring(
    as_json: Annotated[bool, typer.Option("--json", help="print every week and alert as JSON")] = False,
    config: ConfigOption = None,
) -> None:
    """Post-deployment monitoring: each template on each model per ISO week against its baseline; new
    drift alerts are recorded and audited (once each)."""
    with cli_store(config) as store:
        settings = settings_from(config)
        summary = monitoring_summary(store, settings.monitoring)
    if as_json:
        rows = [
            {**asdict(row), "tests": [{**asdict(t), "metric": str(t.metric)} for t in row.tests],
             "alerts": [str(m) for m in row.alerts]}
            for row in summary.rows
        ]  # fmt: skip
        alerts = [{**asdict(a), "detected_at": a.detected_at.isoformat()} for a in summary.alerts]
        typer.echo(json.dumps({"weeks": rows, "alerts": alerts}, indent=2))
        return
    table = Table(
        "template", "model", "week", "runs", "ratings", "utility", "critical", "review", "unchecked", ""
    )
    for row in summary.rows:
        status = (
            "baseline"
            if row.baseline
            else "provisional"  # the week (or its grace for late ratings) has not ended: no alert yet
            if row.provisional
            else ", ".join(map(str, row.alerts)) or ("ok" if row.tests else "-")
        )
        table.add_row(
            row.template_id, row.model_id, row.iso_week, str(row.runs), str(row.ratings),
            _num(row.utility_median), _pct(row.critical_error_rate), _pct(row.guard_review_rate),
            _pct(row.guard_unchecked_rate),
            f"[bold red]{status}[/]" if row.alerts else status,
        )  # fmt: skip
    console.print(table)
    console.print(
        f"{len(summary.alerts)} drift alert(s) in the window, {len(summary.new_alerts)} new (audited)"
    )


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.1f}%"
