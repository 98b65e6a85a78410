"""`medvault guard check` (also `python -m medvault.guard check`): the guard on one pair or a batch.

Exit status: 0 when the verdict is `ok`, 1 when it is `review`, 3 when it is `unchecked` (passages the
guard could not check, no confident flag), 2 for usage errors (a missing or unreadable file, an unknown
task, language or check, a batch line that is not a valid pair). A batch exits with the worst status of
its lines in the order 2, 1, 3, 0.

It lives in the guard package, not in `medvault.cli`, so that it starts fast: importing `medvault.cli`
imports every area (settings, database, gateway). This module imports the guard, typer and (for tables
only) rich, never the settings or the server stack.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from enum import Enum, StrEnum
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

from medvault.errors import GuardError
from medvault.guard import TASKS, GuardResult, check

guard_app = typer.Typer(
    help="Grounding guard: check a model output against its source text.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)

Task = Enum("Task", {name: name for name in TASKS}, type=str)  # type: ignore[misc]

#: Exit status per verdict; usage errors exit 2.
EXIT = {"ok": 0, "review": 1, "unchecked": 3}
_SEVERITY_ORDER = (2, 1, 3, 0)  # the worst status of a batch comes first


@guard_app.callback()
def _group() -> None:
    """Grounding guard: check a model output against its source text."""


class Lang(StrEnum):
    de = "de"
    en = "en"


def _fail(message: str) -> NoReturn:
    print(f"error: {message}", file=sys.stderr)
    raise typer.Exit(2)


def _read(path: Path, what: str) -> str:
    try:
        return sys.stdin.read() if str(path) == "-" else path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        _fail(f"cannot read the {what} file {path}: {exc}")


def _print_table(result: GuardResult, ui_lang: str) -> None:
    from rich.console import Console  # only for people reading a terminal: JSON stays fast
    from rich.table import Table

    data = result.to_dict(lang=ui_lang)
    style = {"ok": "bold green", "review": "bold red", "unchecked": "bold yellow"}[result.verdict]
    console = Console()
    console.print(f"guard: [{style}]{result.verdict}[/] ({result.task}) — {data['summary']}")
    if not result.flags and not result.unchecked:
        return
    table = Table(title_justify="left")
    for column in ("check", "code", "severity", "text"):
        table.add_column(column, overflow="fold")
    for flag in data["flags"]:
        table.add_row(flag["kind"], flag["code"], flag["severity"], flag["text"])
    for passage in data["unchecked"]:
        table.add_row("", passage["reason"], "not checked", passage["text"])
    console.print(table)


def _languages(item: dict[str, Any]) -> tuple[str, str | None]:
    """A batch line's languages: `languages` [source, output] (or one), else `lang`/`target_lang`."""
    langs = item.get("languages")
    if isinstance(langs, str):
        langs = [langs]
    if isinstance(langs, list) and 1 <= len(langs) <= 2 and all(isinstance(x, str) for x in langs):
        return langs[0], langs[1] if len(langs) == 2 else None
    if isinstance(item.get("lang"), str):
        target = item.get("target_lang")
        return item["lang"], target if isinstance(target, str) else None
    raise GuardError("give 'languages' as [source, output] or 'lang' (and 'target_lang')")


def _check_line(line: str, ui_lang: str) -> tuple[int, dict[str, Any]]:
    try:
        item = json.loads(line)
        if not isinstance(item, dict):
            raise GuardError("a batch line must be a JSON object")
        lang, target_lang = _languages(item)
        checks = item.get("checks")
        result = check(
            item.get("source"),  # type: ignore[arg-type]  # check() rejects what is not text
            item.get("output"),  # type: ignore[arg-type]
            task=str(item.get("task")),
            lang=lang,
            target_lang=target_lang,
            checks=checks if isinstance(checks, list) else None,
        )
    except (json.JSONDecodeError, GuardError) as exc:
        return 2, {"error": str(exc)}
    out = result.to_dict(lang=ui_lang)
    if "id" in item:
        out = {"id": item["id"], **out}
    return EXIT[result.verdict], out


def _lines(path: Path) -> Iterator[str]:
    text = _read(path, "batch")
    yield from (line for line in text.splitlines() if line.strip())


def _run_batch(path: Path, ui_lang: str) -> NoReturn:
    statuses = set()
    for number, line in enumerate(_lines(path), start=1):
        status, out = _check_line(line, ui_lang)
        statuses.add(status)
        print(json.dumps({"line": number, **out}, ensure_ascii=False))
    raise typer.Exit(next((s for s in _SEVERITY_ORDER if s in statuses), 0))


@guard_app.command("check")
def check_command(
    source: Annotated[Path | None, typer.Option("--source", help="the text the model was given")] = None,
    output: Annotated[Path | None, typer.Option("--output", help="the text the model returned")] = None,
    task: Annotated[Task | None, typer.Option("--task", help="the template's task type")] = None,
    lang: Annotated[Lang | None, typer.Option("--lang", help="language of the source")] = None,
    target_lang: Annotated[
        Lang | None, typer.Option("--target-lang", help="language of the output (translations)")
    ] = None,
    checks: Annotated[
        list[str] | None,
        typer.Option("--check", help="run only this check (repeatable); default: task profile"),
    ] = None,
    batch: Annotated[
        Path | None,
        typer.Option(
            "--batch",
            help="JSON lines (source, output, task, languages[, id, checks]); '-' reads stdin; "
            "prints one JSON result per line",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the result as JSON")] = False,
    ui_lang: Annotated[Lang, typer.Option("--ui-lang", help="language of the texts and summary")] = Lang.en,
) -> None:
    """Compare sides, negation, certainty, numbers and findings; exit 0 ok, 1 review, 3 unchecked."""
    if batch is not None:
        if source or output or task or lang:
            _fail("--batch takes the pairs from the file: leave out --source, --output, --task and --lang")
        _run_batch(batch, ui_lang.value)
    if source is None or output is None or task is None or lang is None:
        _fail("give --source, --output, --task and --lang (or --batch FILE)")
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
        _fail(str(exc))
    if as_json:
        print(json.dumps(result.to_dict(lang=ui_lang.value), ensure_ascii=False, indent=2))
    else:
        _print_table(result, ui_lang.value)
    raise typer.Exit(EXIT[result.verdict])


def main(args: list[str] | None = None) -> None:
    """Run `medvault guard` with `args` (default: the command line)."""
    guard_app(args=sys.argv[1:] if args is None else args, prog_name="medvault guard")
