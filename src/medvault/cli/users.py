"""`medvault users create|list|passwd|disable|rename|delete`: local accounts for the clinicians' workbench."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer
from rich.table import Table

from medvault.cli._common import ConfigOption, InitOption, console, err_console, fail
from medvault.cli.keys import cli_store, record_cli_action
from medvault.store import PASSWORD_POLICY, Role

users_app = typer.Typer(help="Manage workbench users.", no_args_is_help=True)

PasswordStdin = Annotated[
    bool, typer.Option("--password-stdin", help="read the password from the first line of stdin")
]


def _password(from_stdin: bool) -> str:
    """The new password, from stdin or asked for twice (hidden), after the policy it must meet."""
    err_console.print(f"password policy: {PASSWORD_POLICY}", highlight=False)
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            fail("no password on stdin")
        return password
    return str(typer.prompt("password", hide_input=True, confirmation_prompt=True))


@users_app.command("create")
def create(
    username: Annotated[str, typer.Argument(help="login name")],
    role: Annotated[Role, typer.Option("--role", help="what the user may do")],
    display_name: Annotated[str | None, typer.Option("--display-name", help="name shown in the UI")] = None,
    password_stdin: PasswordStdin = False,
    init: InitOption = False,
    config: ConfigOption = None,
) -> None:
    """Create a user; the password is asked for (hidden) unless --password-stdin is given."""
    with cli_store(config, init=init) as store:  # the database first: no password asked for in vain
        store.create_user(username, _password(password_stdin), role, display_name)
        record_cli_action(store, "users.create", username=username, user_role=role.value)
    console.print(f"created user {username} ({role.value})", highlight=False)


@users_app.command("passwd")
def passwd(
    username: Annotated[str, typer.Argument(help="login name")],
    password_stdin: PasswordStdin = False,
    config: ConfigOption = None,
) -> None:
    """Set a user's password; the user's open workbench sessions end within seconds."""
    with cli_store(config) as store:
        store.set_password(username, _password(password_stdin))
        record_cli_action(store, "users.passwd", username=username)
    console.print(
        f"password of {username} changed; their open workbench sessions end within seconds",
        highlight=False,
    )


@users_app.command("disable")
def disable(
    username: Annotated[str, typer.Argument(help="login name")],
    enable: Annotated[bool, typer.Option("--enable", help="enable the user again instead")] = False,
    config: ConfigOption = None,
) -> None:
    """Stop (or with --enable, allow again) a user's logins; disabling ends open sessions within seconds."""
    with cli_store(config) as store:
        store.set_disabled(username, not enable)
        record_cli_action(store, "users.enable" if enable else "users.disable", username=username)
    done = "enabled" if enable else "disabled; their open workbench sessions end within seconds"
    console.print(f"{username} {done}", highlight=False)


@users_app.command("rename")
def rename(
    username: Annotated[str, typer.Argument(help="current login name")],
    new_name: Annotated[str, typer.Argument(metavar="NEW_NAME", help="new login name")],
    config: ConfigOption = None,
) -> None:
    """Rename a user with their runs and ratings; the audit trail keeps the old name; sessions end."""
    with cli_store(config) as store:
        store.rename_user(username, new_name)
        record_cli_action(store, "users.rename", username=username, new_username=new_name)
    console.print(
        f"renamed {username} to {new_name}; their open workbench sessions end within seconds", highlight=False
    )


@users_app.command("delete")
def delete(
    username: Annotated[str, typer.Argument(help="login name")],
    yes: Annotated[bool, typer.Option("--yes", help="do not ask for confirmation")] = False,
    config: ConfigOption = None,
) -> None:
    """Delete a user (sessions end); their runs and ratings stay, anonymous, for the pilot report."""
    if not yes:
        typer.confirm(f"delete user {username}?", abort=True)
    with cli_store(config) as store:
        store.delete_user(username)
        record_cli_action(store, "users.delete", username=username)
    console.print(f"deleted {username}; their open workbench sessions end within seconds", highlight=False)


@users_app.command("list")
def list_users(
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
    config: ConfigOption = None,
) -> None:
    """List users (never password hashes)."""
    with cli_store(config) as store:
        users = store.list_users()
    if as_json:
        rows = [
            {"username": u.username, "role": u.role.value, "display_name": u.display_name,
             "created_at": u.created_at.isoformat(), "disabled": u.disabled}
            for u in users
        ]  # fmt: skip
        typer.echo(json.dumps(rows, indent=2))
        return
    table = Table("user", "role", "display name", "created", "state")
    for u in users:
        state = "disabled" if u.disabled else "active"
        table.add_row(u.username, u.role.value, u.display_name or "", f"{u.created_at:%Y-%m-%d %H:%M}", state)
    console.print(table)


def register(app: typer.Typer) -> None:
    """Add `medvault users ...`."""
    app.add_typer(users_app, name="users")
