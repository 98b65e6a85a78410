"""`medvault audit verify|list` and `medvault purge`: the audit trail and content retention."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table

from medvault.cli._common import ConfigOption, config_file, console
from medvault.cli.keys import cli_store, record_cli_action
from medvault.store import ID_MAX, CompactionFailed

audit_app = typer.Typer(
    help="Verify and read the audit trail (it never holds prompts or answers).", no_args_is_help=True
)


def purge(
    yes: Annotated[
        bool,
        typer.Option(
            "--yes",
            help="also purge content stored to be kept longer than this configuration's "
            "retention.content_days allows (the setting was lowered)",
        ),
    ] = False,
    config: ConfigOption = None,
) -> None:
    """Delete run content whose retention period has ended, now, and compact the database."""
    with cli_store(config) as store:
        # Cutting short what was stored for longer cannot be undone: a shell that reads another
        # configuration than the service's (or none: content_days 0) must not do it unasked.
        kept = 0 if yes else store.content_kept_longer()
        try:
            purged = store.purge_expired(shorten=not kept)
        except CompactionFailed as exc:  # the blanking stands and is audited; the compaction stays owed
            if exc.rows:
                record_cli_action(store, "retention.purge", rows=exc.rows, compacted=False)
            raise
        record_cli_action(store, "retention.purge", rows=purged)
        days = store.content_days
    console.print(
        f"purged content of {purged} rows; the database was compacted" if purged else "nothing to purge"
    )
    if kept:
        console.print(
            f"[yellow]kept[/] the content of {kept} rows stored to be kept longer than "
            f"retention.content_days = {days} of {config_file(config) or 'this configuration'} allows: "
            "if that is the service's setting, run `medvault purge --yes` (the service applies it "
            "itself within the hour)",
            highlight=False,
        )


@audit_app.command("verify")
def verify(
    as_json: Annotated[bool, typer.Option("--json", help="print the report as JSON")] = False,
    config: ConfigOption = None,
) -> None:
    """Recompute the hash chain; exit 1 when any event was edited, deleted, inserted or reordered."""
    with cli_store(config) as store:
        report = store.verify_audit_chain()
    if as_json:
        typer.echo(json.dumps(report.as_dict(), indent=2))
    elif report.ok:
        console.print(f"[green]audit chain intact[/]: {report.checked} events, head {report.head_hash}")
    else:
        console.print(
            f"[bold red]audit chain broken[/]: {len(report.problems)} problems in {report.checked} events"
        )
        for problem in report.problems:
            console.print(f"  {problem}", highlight=False)
    if not report.ok:
        raise typer.Exit(1)


@audit_app.command("list")
def list_events(
    # Capped at what the database's 64-bit sequence numbers hold: larger is refused by name, not by an
    # OverflowError from the driver.
    after: Annotated[
        int, typer.Option("--after", min=0, max=ID_MAX, help="start after this sequence number")
    ] = 0,
    limit: Annotated[int, typer.Option("--limit", min=1, max=100_000)] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON lines")] = False,
    config: ConfigOption = None,
) -> None:
    """Print audit events in chain order."""
    with cli_store(config) as store:
        events = store.audit_events(after_seq=after, limit=limit)
    if as_json:
        for stored in events:
            e = stored.event
            row = {"seq": stored.seq, **{f: getattr(e, f) for f in e.__slots__}, "hash": stored.hash}
            row["ts"], row["detail"] = e.ts.isoformat(), dict(e.detail)
            typer.echo(json.dumps(row))
        return
    table = Table("seq", "time (UTC)", "user", "role", "action", "model", "tokens", "ms", "status", "client")
    for stored in events:
        e = stored.event
        tokens = f"{e.prompt_tokens or 0}/{e.completion_tokens or 0}"
        latency = "" if e.latency_ms is None else f"{e.latency_ms:.1f}"
        table.add_row(
            str(stored.seq), f"{e.ts:%Y-%m-%d %H:%M:%S}", e.user or "-", e.role or "-", e.action,
            e.model_id or "", tokens, latency, str(e.status), e.client_kind,
        )  # fmt: skip
    console.print(table)


def register(app: typer.Typer) -> None:
    """Add `medvault audit ...` and `medvault purge`."""
    app.add_typer(audit_app, name="audit")
    app.command()(purge)
