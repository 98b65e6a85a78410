"""`medvault` sub-commands of this area (to be filled by the work that owns it)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add this area's commands to the main app."""
