"""What every sub-command shares: one `--config` option, settings loading, readable failures."""

from __future__ import annotations

import os
import pwd
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.text import Text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

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


def config_file(config: Path | None) -> Path | None:
    """The config file a command reads: --config / MEDVAULT_CONFIG, else ./medvault.toml if present."""
    if config is None and Path("medvault.toml").is_file():
        return Path("medvault.toml")
    return config


def settings_from(config: Path | None, **overrides: Any) -> Settings:
    """Load the settings, or print the key, the problem and the fix and exit with status 2."""
    try:
        return load_settings(config_file(config), **overrides)
    except MedVaultError as exc:
        fail(str(exc), status=2)


InitOption = Annotated[
    bool,
    typer.Option("--init", help="create a new database if the data directory has none (else: refused)"),
]


def announce_data_dir(settings: Settings, database_url: str | None = None) -> None:
    """Say on stderr which data directory (and database) this command works on: run from the wrong
    directory, `./data` is another installation's, or nobody's."""
    url = database_url or settings.resolved_database_url
    try:
        shown = make_url(url).render_as_string(hide_password=True)
    except ArgumentError:  # the store names the problem when it opens the URL
        shown = "(invalid URL)"
    err_console.print(
        f"data directory: {settings.data_dir.resolve()} (database {shown})",
        markup=False, highlight=False, soft_wrap=True,
    )  # fmt: skip


def require_database(url: str, init: bool | None = None) -> None:
    """Refuse a SQLite database that does not exist yet, unless `init`: a command started in the wrong
    directory would otherwise create an empty one there, and a user created in it would be lost. Only
    `medvault up` and `--init` create one. (A PostgreSQL database is created by its administrator.)
    `init` is None for a command that has no --init option: the refusal then does not suggest it."""
    if init:
        return
    try:
        parsed = make_url(url)
    except ArgumentError:  # the store names the problem when it opens the URL
        return
    if parsed.get_backend_name() == "sqlite" and parsed.database and not Path(parsed.database).is_file():
        create = (
            " (it creates it)" if init is None else ", or pass --init to create a new, empty database there"
        )
        fail(
            f"no MedVault database at {parsed.database}; fix: run the command where `medvault up` runs "
            f"(or pass its --config / MEDVAULT_DATA_DIR), or start `medvault up` once{create}",
            status=2,
        )


def fail(message: str, status: int = 1) -> NoReturn:
    """Print an error the operator can act on and leave with `status`. The message is printed as it is:
    it quotes what the operator typed and paths (`[x]` would read as markup, `:abc:` become an emoji),
    unwrapped so that it can be copied whole."""
    _plain("error:", "bold red", message)
    raise typer.Exit(status)


def warn(message: str) -> None:
    """Print a warning as it is (see `fail`) and go on."""
    _plain("warning:", "bold yellow", message)


def say(text: str) -> None:
    """Print `text` as it is: paths, ids, digests, URLs and fingerprints (`:AB:` would become an emoji, `[x]`
    read as markup) neither interpreted nor wrapped, so that they can be copied whole."""
    console.print(text, markup=False, emoji=False, highlight=False, soft_wrap=True)


def _plain(label: str, style: str, message: str) -> None:
    err_console.print(Text.assemble((label, style), " ", message), highlight=False, soft_wrap=True)


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
