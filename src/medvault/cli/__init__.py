"""The `medvault` command: wires the sub-commands of each area together, nothing more.

The areas are imported when the command is first built, not when this package is imported: the
console script (`medvault.cli._entry`) runs `medvault guard` without them, and importing them costs
over a second (settings, database, gateway). Add a new area to `_AREAS`, not as a top-level import.
"""

from __future__ import annotations

from functools import cache
from importlib import import_module
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import typer

#: Modules of `medvault.cli` whose `register(app)` adds their commands, in help order.
_AREAS = (
    "server",
    "models",
    "keys",
    "users",
    "audit",
    "templates",
    "guard",
    "isolation",
    "report",
    "evaluate",
    "directory",
)


@cache
def _build() -> typer.Typer:
    """The full command with every area registered (built once per process)."""
    import typer

    app = typer.Typer(
        name="medvault",
        help="MedVault: an isolation-first, on-premise LLM service for hospitals.",
        no_args_is_help=True,
        pretty_exceptions_enable=False,
    )
    for name in _AREAS:
        import_module(f"medvault.cli.{name}").register(app)
    return app


def __getattr__(name: str) -> typer.Typer:
    """`from medvault.cli import app` builds the command on first use."""
    if name == "app":
        return _build()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def main() -> None:
    _build()()
