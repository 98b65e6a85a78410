"""`medvault directory check`: prove the directory sign-in setup from this machine, user by user."""

from __future__ import annotations

from typing import Annotated

import typer

from medvault.cli._common import ConfigOption, console, fail, settings_from
from medvault.directory import DirectoryClient, DirectoryUnavailable, Refused

directory_app = typer.Typer(help="Check the LDAP / Active Directory sign-in.", no_args_is_help=True)


@directory_app.command("check")
def check(
    user: Annotated[str | None, typer.Option("--user", help="also look this user up (no password)")] = None,
    config: ConfigOption = None,
) -> None:
    """Connect with TLS and the service account; with --user, show the role the groups give."""
    settings = settings_from(config).directory
    if not settings.enabled:
        fail("directory.enabled is false; nothing to check")
    client = DirectoryClient(settings)
    try:
        client.check()
        found = client.look_up(user) if user else None
    except DirectoryUnavailable as exc:
        fail(f"directory {settings.address}:{settings.port}: {exc} ({exc.cause})")
    except Refused as refused:
        fail(f"{user}: refused by the directory: {refused.reason}")
    console.print(
        f"directory {settings.address}:{settings.port} ({settings.transport}): certificate verified for "
        f"{settings.server_name}, service account bound, user base found",
        highlight=False,
    )
    if found is not None:
        console.print(
            f"{found.username}: {found.role.value} (entry {found.dn}, id {found.external_id})",
            highlight=False,
        )


def register(app: typer.Typer) -> None:
    """Add `medvault directory ...`."""
    app.add_typer(directory_app, name="directory")
