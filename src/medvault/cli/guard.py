"""`medvault guard`: the command lives in `medvault.guard._cli` so that it starts without this package."""

from __future__ import annotations

import typer

from medvault.guard._cli import EXIT, check_command, guard_app

__all__ = ["EXIT", "check_command", "guard_app", "register"]


def register(app: typer.Typer) -> None:
    """Add `medvault guard` to the main app."""
    app.add_typer(guard_app, name="guard")
