"""`medvault templates list|show|validate`: the template library, built-in and the hospital's own."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich import box
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table

from medvault.cli._common import ConfigOption, console, fail, settings_from
from medvault.errors import MedVaultError
from medvault.templates import Template, TemplateLibrary

templates_app = typer.Typer(help="List, show and validate prompt templates.", no_args_is_help=True)

LangOption = Annotated[str | None, typer.Option("--lang", "-l", help="only this language (de, en)")]


def _library(config: Path | None, extra: list[Path] | None = None) -> TemplateLibrary:
    """Built-ins, the directories in the settings (workbench.template_dirs), then `extra`."""
    dirs = [*settings_from(config).workbench.template_dirs, *(extra or [])]
    try:
        return TemplateLibrary.load(dirs)
    except MedVaultError as exc:
        fail(str(exc))


def _risk(t: Template) -> str:
    reg = t.risk.regulatory
    return (
        f"privacy {t.risk.privacy}/5 · reasoning {t.risk.reasoning}/5 · for {t.risk.target_user}"
        f" · EU {reg.eu} · US {reg.us} · CN {reg.cn}"
    )


def _summary(t: Template) -> dict[str, object]:
    """What `templates list --json` prints of a template: its metadata, never its prompts."""
    reg = t.risk.regulatory
    return {
        "id": t.id, "version": t.version, "lang": t.lang, "task_type": t.task_type, "title": t.title,
        "risk": {
            "privacy": t.risk.privacy, "reasoning": t.risk.reasoning, "target_user": t.risk.target_user,
            "eu": reg.eu, "us": reg.us, "cn": reg.cn,
        },
    }  # fmt: skip


@templates_app.command("list")
def list_templates(
    lang: LangOption = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="print JSON, risk and regulatory class included")
    ] = False,
    config: ConfigOption = None,
) -> None:
    """List templates by task type (anchored, semi, open); the risk of each is in `show` and `--json`."""
    library = _library(config)
    templates = library.list(lang)
    if lang is not None and not templates:  # an unknown language is refused, as `show --lang` does
        fail(f"no template has language {lang!r}; the library has {sorted({t.lang for t in library.list()})}")
    if as_json:
        typer.echo(json.dumps([_summary(t) for t in templates], indent=2, ensure_ascii=False))
        return
    # Fits 80 columns: no box, one heading row per task type instead of a column, and the risk columns
    # left to `show` and `--json`.
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, collapse_padding=True)
    for name in ("id", "version"):
        table.add_column(name, no_wrap=True)  # kept whole: operators copy them
    table.add_column("lang", no_wrap=True)
    table.add_column("title", ratio=1)
    task = None
    for t in templates:
        if t.task_type != task:
            task = t.task_type
            table.add_row(f"[bold]{task}[/]")
        table.add_row(t.id, t.version, t.lang, escape(t.title))
    console.print(table)


@templates_app.command("show")
def show(
    template_id: Annotated[str, typer.Argument(metavar="ID", help="template id, e.g. report-correction")],
    lang: Annotated[str, typer.Option("--lang", "-l", help="language (de, en)")] = "en",
    config: ConfigOption = None,
) -> None:
    """Show one template: metadata, inputs, prompts and output schema."""
    try:
        t = _library(config).get(template_id, lang)
    except MedVaultError as exc:
        fail(str(exc))
    console.print(f"[bold]{escape(t.title)}[/]  {t.id} ({t.lang})  {t.version}")
    console.print(escape(t.description), highlight=False)
    guard = f"{t.guard_task}: {', '.join(t.guard_checks)}" if t.guard_task else "none"
    console.print(
        f"task: {t.task_type} · output: {t.output_format} · guard: {guard} · source: {t.source_variable}"
    )
    console.print(f"risk: {_risk(t)}\n  {escape(t.risk.regulatory.rationale)}")
    s = t.sampling
    console.print(f"sampling: temperature {s.temperature}, top_p {s.top_p}, max_tokens {s.max_tokens}")
    console.print(f"file: {t.source}")
    inputs = Table("input", "type", "required", "limit / choices", "label")
    for i in t.inputs:
        limit = ", ".join(i.choices) if i.choices else (str(i.char_limit) if i.type == "text" else "")
        inputs.add_row(i.name, i.type, "yes" if i.required else "no", limit, i.label)
    console.print(inputs)
    console.print(Panel(escape(t.warning), title="warning", border_style="yellow"))
    console.print(Panel(escape(t.prompt.system.strip()), title="system prompt"))
    console.print(Panel(escape(t.prompt.user.strip()), title="user prompt"))
    if t.output_schema is not None:
        console.print(Panel(escape(json.dumps(t.output_schema, indent=2)), title="output schema"))


@templates_app.command("validate")
def validate(
    directory: Annotated[
        Path | None, typer.Argument(metavar="[DIR]", help="a directory of *.toml templates to check as well")
    ] = None,
    config: ConfigOption = None,
) -> None:
    """Validate the built-in templates, the configured directories and DIR; exit 1 on the first error."""
    library = _library(config, [directory] if directory else None)
    languages: dict[str, set[str]] = {}
    for t in library.list():
        languages.setdefault(t.id, set()).add(t.lang)
    one_language = sorted(tid for tid, langs in languages.items() if len(langs) < 2)
    console.print(f"[green]ok[/]: {len(library)} templates ({len(languages)} ids) are valid")
    if one_language:
        console.print(f"[yellow]note[/]: only one language for {', '.join(one_language)}")


def register(app: typer.Typer) -> None:
    """Add `medvault templates ...` to the main app."""
    app.add_typer(templates_app, name="templates")
