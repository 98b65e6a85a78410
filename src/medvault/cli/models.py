"""`medvault models list`: the configured models, their replicas and the digests of their weights."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.table import Table

from medvault.cli._common import ConfigOption, console, fail, settings_from
from medvault.config import bundled_model_path, file_digest
from medvault.errors import MedVaultError

models_app = typer.Typer(help="The models MedVault serves.", no_args_is_help=True)


@models_app.command("list")
def list_models(
    config: ConfigOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False,
) -> None:
    """List every model with its replicas; embedded weights are hashed (SHA-256, cached)."""
    settings = settings_from(config)
    rows: list[dict[str, Any]] = []
    try:
        for model in settings.models:
            for index, replica in enumerate(model.replicas):
                digest: str | None
                if replica.kind == "embedded":
                    gguf = replica.gguf or bundled_model_path()
                    where, digest = str(gguf), file_digest(gguf, settings.data_dir)
                else:
                    where, digest = str(replica.url), replica.digest
                rows.append(
                    {
                        "model": model.id,
                        "replica": index,
                        "kind": replica.kind,
                        "source": where,
                        "digest": digest,
                    }
                )
    except (MedVaultError, OSError) as exc:
        fail(str(exc))
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    table = Table("model", "replica", "kind", "weights / URL", "digest")
    for row in rows:
        table.add_row(
            row["model"], str(row["replica"]), row["kind"], row["source"], row["digest"] or "unknown"
        )
    console.print(table)


def register(app: typer.Typer) -> None:
    """Add `medvault models ...`."""
    app.add_typer(models_app, name="models")
