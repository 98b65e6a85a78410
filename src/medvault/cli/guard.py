"""`medvault guard check`: run the grounding guard on a source file and an output file.

Exit status: 0 when the verdict is `ok`, 1 when it is `review`, 2 for usage errors (a missing or
unreadable file, an unknown task, language or check).
"""

from __future__ import annotations

import json
from enum import Enum, StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from medvault.cli._common import console, fail
from medvault.errors import GuardError
from medvault.guard import TASKS, GuardResult, check

guard_app = typer.Typer(
    help="Grounding guard: check a model output against its source text.", no_args_is_help=True
)

Task = Enum("Task", {name: name for name in TASKS}, type=str)  # type: ignore[misc]


class Lang(StrEnum):
    de = "de"
    en = "en"


def _read(path: Path, what: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        fail(f"cannot read the {what} file {path}: {exc}", status=2)


def _excerpt(text: str, span: tuple[int, int] | None) -> str:
    return " ".join(text[span[0] : span[1]].split()) if span else ""


def _table(result: GuardResult, source: str, output: str) -> Table:
    table = Table(title=f"guard: {result.verdict} ({result.task})", title_justify="left")
    for column in ("kind", "severity", "message", "source", "output"):
        table.add_column(column, overflow="fold")
    for flag in result.flags:
        style = "bold red" if flag.severity == "major" else "yellow"
        table.add_row(
            flag.kind,
            f"[{style}]{flag.severity}[/]",
            flag.message,
            _excerpt(source, flag.source_span),
            _excerpt(output, flag.output_span),
        )
    return table


@guard_app.command("check")
def check_command(
    source: Annotated[Path, typer.Option("--source", help="the text the model was given")],
    output: Annotated[Path, typer.Option("--output", help="the text the model returned")],
    task: Annotated[Task, typer.Option("--task", help="the template's task type")],
    lang: Annotated[Lang, typer.Option("--lang", help="language of the source")],
    target_lang: Annotated[
        Lang | None, typer.Option("--target-lang", help="language of the output (translations)")
    ] = None,
    checks: Annotated[
        list[str] | None,
        typer.Option("--check", help="run only this check (repeatable); default: task profile"),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the result as JSON")] = False,
) -> None:
    """Flag laterality, negation, number and new-finding changes; exit 0 if ok, 1 if review."""
    source_text, output_text = _read(source, "source"), _read(output, "output")
    try:
        result = check(
            source_text,
            output_text,
            task=task.value,
            lang=lang.value,
            target_lang=target_lang.value if target_lang else None,
            checks=checks or None,
        )
    except GuardError as exc:
        fail(str(exc), status=2)
    if as_json:
        console.print_json(json.dumps(result.to_dict(), ensure_ascii=False))
    elif result.flags:
        console.print(_table(result, source_text, output_text))
    else:
        console.print(f"guard: [bold green]{result.verdict}[/] ({result.task}), no flags")
    raise typer.Exit(0 if result.verdict == "ok" else 1)


def register(app: typer.Typer) -> None:
    """Add `medvault guard` to the main app."""
    app.add_typer(guard_app, name="guard")
