"""What every sub-command shares: one `--config` option, settings loading, readable failures."""

from __future__ import annotations

import os
import pwd
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console

from medvault.config import Settings, load_settings
from medvault.errors import MedVaultError

console = Console()
err_console = Console(stderr=True)

ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config",
        "-c",
        envvar="MEDVAULT_CONFIG",
        help="medvault.toml to read (default: ./medvault.toml if present)",
    ),
]


def settings_from(config: Path | None, **overrides: Any) -> Settings:
    """Load the settings, or print the key, the problem and the fix and exit with status 2."""
    if config is None and Path("medvault.toml").is_file():
        config = Path("medvault.toml")
    try:
        return load_settings(config, **overrides)
    except MedVaultError as exc:
        fail(str(exc), status=2)


def fail(message: str, status: int = 1) -> NoReturn:
    """Print an error the operator can act on and leave with `status`."""
    err_console.print(f"[bold red]error:[/] {message}", highlight=False)
    raise typer.Exit(status)


def operator() -> str:
    """The OS account that runs this command, from the real uid.

    Never LOGNAME or USER (what `getpass.getuser()` reads first): anyone can set those, and the audit
    trail would then name whoever they liked. An account without a passwd entry is named by its uid.
    """
    uid = os.getuid()
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"uid {uid}"
