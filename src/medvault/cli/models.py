"""`medvault models list|approve|retire|verify|history`: the configured models, the digests of their weights,
and change control (only approved digests serve, approved on a passed evaluation; docs/governance.md)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from medvault.cli._common import ConfigOption, console, fail, operator, say, settings_from
from medvault.cli.keys import cli_store, record_cli_action
from medvault.config import ReplicaSettings, Settings, bundled_model_path, model_digest
from medvault.errors import MedVaultError
from medvault.governance import (
    ApprovalRefused,
    Combination,
    approve_model,
    current_combination,
    material_changes,
    model_history,
    record_decision,
)
from medvault.store import ApprovalStatus, ModelApproval, Store
from medvault.templates import TemplateLibrary

models_app = typer.Typer(
    help="The models MedVault serves and which of their weights may serve.", no_args_is_help=True
)

ModelId = Annotated[str, typer.Argument(help="the model id, as in `medvault models list`")]
DigestOption = Annotated[str, typer.Option("--digest", help="the weights' digest, as `models list` shows it")]
ReasonOption = Annotated[str, typer.Option("--reason", help="why: the change ticket, the validation done")]
UNPINNED = "unpinned"  # an `openai` replica without a declared digest: outside change control
_UNBOUNDED = 100_000  # columns to measure a table's natural width in
SHA256_DIGEST = re.compile(r"sha256:[0-9a-f]{64}")  # what `model_digest` writes for weights on disk


def _weights(replica: ReplicaSettings) -> Path | None:
    """The file or directory whose digest pins this replica; None for an `openai` replica."""
    if replica.kind == "embedded":
        return replica.gguf or bundled_model_path()
    return replica.model if replica.kind in ("vllm", "command") else None


def _replicas(settings: Settings, *, cached: bool = True) -> list[dict[str, Any]]:
    """One row per configured replica: where its weights are and their digest (hashed in full unless
    `cached`)."""
    rows: list[dict[str, Any]] = []
    for model in settings.models:
        for index, replica in enumerate(model.replicas):
            weights = _weights(replica)
            digest: str | None
            if weights is not None:
                source, digest = str(weights), model_digest(weights, settings.data_dir, cached=cached)
            else:
                source, digest = str(replica.url), replica.digest
            rows.append(
                {
                    "model": model.id,
                    "replica": index,
                    "kind": replica.kind,
                    "source": source,
                    "digest": digest,
                }
            )
    return rows


def _decision(row: dict[str, Any], decisions: dict[tuple[str, str | None], ModelApproval]) -> dict[str, Any]:
    """The row with its change-control state: never seen digests are pending (the next start records them)."""
    found = decisions.get((row["model"], row["digest"]))
    if row["digest"] is None:
        return {**row, "status": UNPINNED, "decided_by": None, "decided_at": None, "reason": None}
    if found is None:
        return {**row, "status": "pending", "decided_by": None, "decided_at": None, "reason": "not seen yet"}
    return {
        **row, "status": found.status.value, "decided_by": found.decided_by,
        "decided_at": found.decided_at.isoformat(timespec="seconds"), "reason": found.reason,
    }  # fmt: skip


@models_app.command("list")
def list_models(
    config: ConfigOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False,
) -> None:
    """Every model's replicas, the digest of their weights and its change-control status.

    The digest is SHA-256 (cached); the status is approved, pending or retired, with who decided, when and
    why. Ids and digests are printed whole."""
    settings = settings_from(config)
    try:
        replicas = _replicas(settings)
    except (MedVaultError, OSError) as exc:
        fail(str(exc))
    with cli_store(config) as store:
        decisions: dict[tuple[str, str | None], ModelApproval] = {
            (a.model_id, a.digest): a for a in store.model_approvals()
        }
    rows = [_decision(row, decisions) for row in replicas]
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    table = _table("model", "replica", "kind", "weights / URL", "digest", "status", "by", "when", "why")
    for row in rows:
        _add_row(
            table, row["model"], row["replica"], row["kind"], row["source"], row["digest"], row["status"],
            row["decided_by"], row["decided_at"], row["reason"],
        )  # fmt: skip
    _print_table(table)


def _table(*columns: str) -> Table:
    """A table whose cells are never cut short: ids, digests and paths are copied from it whole."""
    table = Table()
    for name in columns:
        table.add_column(name, overflow="fold")
    return table


def _add_row(table: Table, *cells: object) -> None:
    """Cells as plain text: an id, a path or a reason is never read as markup (`[x]`) or an emoji
    (`sha256:abc:`); None is left empty."""
    table.add_row(*(Text("" if cell is None else str(cell)) for cell in cells))


def _print_table(table: Table) -> None:
    """In a terminal, long cells fold onto further lines; piped (`| grep`, a file) each row stays on one
    line, however wide, so that a digest is found and copied whole."""
    if console.is_terminal:
        console.print(table)
        return
    natural = console.measure(table, options=console.options.update_width(_UNBOUNDED)).maximum
    # `print(width=...)` never exceeds the console's own width: a console as wide as the table prints it.
    Console(file=console.file, width=max(console.width, natural)).print(table)


def _checked_digest(settings: Settings, store: Store, model_id: str, digest: str) -> str:
    """`digest` if it is one `models list` can show for `model_id` (SHA-256 of weights on disk, or the
    digest an `openai` replica of it declares) or one the registry already holds a decision for (a
    replica's declared digest may have changed since); else exit 2 saying what a digest looks like."""
    declared = {r.digest for m in settings.models if m.id == model_id for r in m.replicas if r.digest}
    known = {a.digest for a in store.model_approvals() if a.model_id == model_id}
    if not (SHA256_DIGEST.fullmatch(digest) or digest in declared | known):
        fail(
            f"--digest {digest!r} is not a digest of {model_id}'s weights: `sha256:` and 64 lowercase hex "
            "digits, or the digest an `openai` replica declares; copy it whole from `medvault models list`",
            status=2,
        )
    return digest


def _decide(model_id: str, digest: str, status: ApprovalStatus, reason: str, config: Path | None) -> None:
    """Record an admin's decision under the real operator's name and audit it."""
    settings = settings_from(config)
    _note_unconfigured(settings, model_id)
    with cli_store(config) as store:
        _checked_digest(settings, store, model_id, digest)
        decision = store.decide_model(model_id, digest, status, decided_by=operator(), reason=reason)
        record_decision(store, decision, role="admin", client_kind="cli")
    say(f"{model_id} {digest}: {status.value} (running gateways follow within a few seconds)")


def _note_unconfigured(settings: Settings, model_id: str) -> None:
    if model_id not in {model.id for model in settings.models}:
        say(f"note: {model_id} is not configured here; recorded for when it is")


def _combination(settings: Settings, digest: str) -> Combination:
    """What approving `digest` now covers: the templates this deployment enables and the guard."""
    try:
        return current_combination(digest, TemplateLibrary.for_settings(settings).list())
    except MedVaultError as exc:
        fail(str(exc))


@models_app.command("approve")
def approve(
    model_id: ModelId,
    digest: DigestOption,
    reason: ReasonOption,
    override: Annotated[
        bool, typer.Option("--override", help="approve without a passed evaluation (the reason is recorded)")
    ] = False,
    config: ConfigOption = None,
) -> None:
    """Let these weights serve this model, once an evaluation of them passed (or with --override).

    The evaluation must cover exactly this combination (weights, enabled templates, guard); an override is
    audited under your login."""
    settings = settings_from(config)
    _note_unconfigured(settings, model_id)
    combination = _combination(settings, digest)
    with cli_store(config) as store:
        _checked_digest(settings, store, model_id, digest)
        try:
            decision = approve_model(
                store, model_id, combination, decided_by=operator(), reason=reason, override=override
            )
        except ApprovalRefused as exc:
            fail(str(exc))
    ground = "OVERRIDE, no passed evaluation" if decision.override else f"evaluation {decision.evaluation_id}"
    say(f"{model_id} {digest}: approved ({ground}; running gateways follow within a few seconds)")


@models_app.command("retire")
def retire(
    model_id: ModelId, digest: DigestOption, reason: ReasonOption, config: ConfigOption = None
) -> None:
    """Stop these weights from serving this model (audited, under your login)."""
    _decide(model_id, digest, ApprovalStatus.RETIRED, reason, config)


def _started_digests(settings: Settings) -> dict[str, str | None]:
    """The digest each replica had when MedVault last started ({} before the first start)."""
    from medvault.backends import Runtime
    from medvault.supervisor import state_file

    runtime_file = state_file(settings).with_name("runtime.json")
    if not runtime_file.is_file():
        return {}
    return {r.name: r.digest for m in Runtime.read(runtime_file).models for r in m.replicas}


@models_app.command("history")
def history(
    model_id: Annotated[str | None, typer.Argument(help="one model id; all when left out")] = None,
    config: ConfigOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False,
) -> None:
    """Every change-control event from the audit trail, oldest first, with who and why.

    Digests seen, evaluations, approvals (and overrides) and retirements."""
    with cli_store(config) as store:
        events = model_history(store, model_id)
    rows: list[dict[str, Any]] = [
        {
            "seq": e.seq, "when": e.event.ts.isoformat(timespec="seconds"), "model": e.event.model_id,
            "digest": e.event.model_digest, "event": _event_name(e.event.action, e.event.detail),
            "by": e.event.user, "detail": dict(e.event.detail),
        }
        for e in events
    ]  # fmt: skip
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    table = _table("when", "model", "digest", "event", "by", "evaluation / reason")
    for row in rows:
        detail = row["detail"]
        note = detail.get("reason") or ""
        if "evaluation" in detail:
            note = f"{detail['evaluation']} {note}".strip()
        _add_row(table, row["when"], row["model"], row["digest"], row["event"], row["by"], note)
    _print_table(table)


def _event_name(action: str, detail: Any) -> str:
    name = action.removeprefix("model.")
    if name == "approved" and detail.get("override"):
        return "approved (override)"
    if name == "evaluated":
        return "evaluated: " + ("passed" if detail.get("passed") else "failed")
    return name


@models_app.command("verify")
def verify(config: ConfigOption = None) -> None:
    """Hash every model's weights in full; fail when they changed since the last start or are not approved.

    The cache is ignored and refreshed, so the next start sees what is on disk."""
    settings = settings_from(config)
    try:
        replicas = _replicas(settings, cached=False)
        started = _started_digests(settings)
    except (MedVaultError, OSError, ValueError) as exc:
        fail(str(exc))
    with cli_store(config) as store:
        decisions: dict[tuple[str, str | None], ModelApproval] = {
            (a.model_id, a.digest): a for a in store.model_approvals()
        }
        problems: list[str] = []
        for row in [_decision(r, decisions) for r in replicas]:
            name = f"{row['model']}#{row['replica']}"
            before = started.get(name, row["digest"])
            if before != row["digest"]:
                problems.append(
                    f"{name}: the weights changed on disk since the last start ({before} -> "
                    f"{row['digest']}); restart MedVault, then decide on the new digest"
                )
            if row["status"] not in (ApprovalStatus.APPROVED.value, UNPINNED):
                problems.append(f"{name}: digest {row['digest']} is {row['status']}")
            approval = decisions.get((row["model"], row["digest"]))
            if row["status"] == ApprovalStatus.APPROVED.value and approval is not None:
                changes = material_changes(store, approval, _combination(settings, row["digest"]))
                if changes:
                    problems.append(
                        f"{name}: material change since the approval ({'; '.join(changes)}); evaluate "
                        f"again (`medvault evaluate {row['model']}`) and approve"
                    )
        record_cli_action(store, "models.verify", replicas=len(replicas), problems=len(problems))
    for problem in problems:
        console.print(Text(problem, style="bold red"))
    if problems:
        raise typer.Exit(1)
    console.print(f"{len(replicas)} replica(s): weights unchanged since the last start and approved")


def register(app: typer.Typer) -> None:
    """Add `medvault models ...`."""
    app.add_typer(models_app, name="models")
