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


# The audit subsystem's record of who logged in: it survives `sudo` and `su`, and only root can set it.
LOGINUID = Path("/proc/self/loginuid")
_LOGINUID_UNSET = 4294967295  # (uid_t)-1: no login session (a daemon, or a kernel without audit)


def operator(loginuid: Path = LOGINUID) -> str:
    """The OS account that runs this command, from the real uid, and who logged in, if someone else.

    Never LOGNAME or USER (what `getpass.getuser()` reads first): anyone can set those, and the audit
    trail would then name whoever they liked. Under sudo the real uid is root's, so the login uid is
    added (`root (login alice)`) when it is set and differs. An account without a passwd entry is named
    by its uid.
    """
    uid = os.getuid()
    try:
        login = int(loginuid.read_text().strip())
    except (OSError, ValueError):
        login = _LOGINUID_UNSET
    if login in (_LOGINUID_UNSET, uid):
        return _account(uid)
    return f"{_account(uid)} (login {_account(login)})"


def _account(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"uid {uid}"
