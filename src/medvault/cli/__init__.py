"""The `medvault` command: wires the sub-commands of each area together, nothing more."""

from __future__ import annotations

import typer

from medvault.cli import audit, guard, isolation, keys, models, report, server, templates, users

app = typer.Typer(
    name="medvault",
    help="MedVault: an isolation-first, on-premise LLM service for hospitals.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)

for _area in (server, models, keys, users, audit, templates, guard, isolation, report):
    _area.register(app)


def main() -> None:
    app()
