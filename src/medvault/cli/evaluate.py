"""`medvault evaluate MODEL`: run every enabled template's evaluation cases through the model's running
engines, judge the numbers under the policy in `governance.evaluation`, store and audit the result, and
write an HTML + CSV report (docs/governance.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from medvault.cli._common import ConfigOption, console, fail, operator, settings_from
from medvault.cli.keys import cli_store
from medvault.errors import MedVaultError


def evaluate(
    model_id: Annotated[str, typer.Argument(help="the model id, as in `medvault models list`")],
    against: Annotated[
        str | None,
        typer.Option(
            "--against", help="compare with this model's approved evaluation (default: MODEL's own)"
        ),
    ] = None,
    templates: Annotated[
        list[str] | None,
        typer.Option(
            "--templates",
            help="only these templates (id or id.lang; repeat); such a run cannot ground an approval",
        ),
    ] = None,
    cases: Annotated[
        int | None, typer.Option("--cases", min=1, help="at most this many cases per template and language")
    ] = None,
    max_tokens: Annotated[
        int | None, typer.Option("--max-tokens", min=1, help="cap answers (a smoke run: it cannot pass)")
    ] = None,
    out: Annotated[Path, typer.Option("--out", help="where the HTML and CSV report goes")] = Path(
        "evaluation"
    ),
    config: ConfigOption = None,
) -> None:
    """Evaluate a model before it is approved; exit 1 when the policy fails it.

    Per template: guard verdicts, schema and quote validity, agreement with the guideline calculator,
    length, latency and speed."""
    from medvault.cli._eval_engine import GatewayEngine, in_gateway_zone
    from medvault.governance.evaluation import EvaluationError, evaluate_model, write_report

    settings = settings_from(config)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with cli_store(config) as store, Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task(f"evaluating {model_id}", total=None)
        try:
            outcome = evaluate_model(
                settings, store, model_id, run_by=operator(), against=against, selected=templates or (),
                open_engine=lambda spec: GatewayEngine(spec, settings.limits, store).running(),
                reach=lambda runtime, work: in_gateway_zone(runtime, settings, work),
                limit=cases, max_tokens=max_tokens,
                on_plan=lambda plan: progress.update(task, total=plan.size),
                progress=lambda result: progress.update(task, advance=1, description=result.template),
            )  # fmt: skip
        except (EvaluationError, MedVaultError) as exc:
            fail(str(exc))
    written = write_report(outcome, out)
    record = outcome.record
    console.print(
        f"evaluation {record.id} of {model_id} {record.model_digest}: "
        f"{'PASSED' if record.passed else 'FAILED'} ({len(outcome.results)} cases, "
        f"{len(outcome.metrics)} template(s)); combination {record.combination}",
        highlight=False,
    )
    for reason in record.reasons:
        console.print(f"  [red]{reason}[/]", highlight=False)
    console.print(f"report: {written[0]}", highlight=False)
    if not record.passed:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add `medvault evaluate`."""
    app.command("evaluate")(evaluate)
