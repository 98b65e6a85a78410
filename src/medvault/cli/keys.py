"""`medvault keys create|list|revoke`: API keys for API clients (the raw key is shown once)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from medvault.cli._common import (
    ConfigOption,
    InitOption,
    announce_data_dir,
    console,
    fail,
    operator,
    require_database,
    settings_from,
)
from medvault.directory import DirectoryUnavailable, Refused, admit_key_owner
from medvault.errors import MedVaultError
from medvault.store import AuditEvent, Role, Store

keys_app = typer.Typer(help="Create, list and revoke API keys.", no_args_is_help=True)


@contextmanager
def cli_store(config: Path | None, *, init: bool | None = None) -> Iterator[Store]:
    """The configured store, migrated; store and validation errors end the command readably. Says which
    data directory it opens, and refuses to create a database unless `init` (see `require_database`)."""
    settings = settings_from(config)
    announce_data_dir(settings)
    require_database(settings.resolved_database_url, init)
    try:
        store = Store.from_settings(settings)
    except MedVaultError as exc:
        fail(str(exc))
    try:
        store.migrate()
        yield store
    except (MedVaultError, ValueError) as exc:
        fail(str(exc))
    finally:
        store.close()


def record_cli_action(store: Store, action: str, **detail: str | int | bool) -> None:
    """Audit an administrative action taken on this machine's command line, by its OS account (real uid)."""
    store.record_audit(
        AuditEvent(
            ts=datetime.now(UTC), user=operator(), role=Role.ADMIN.value, action=action, status=200,
            client_kind="cli", request_id=uuid.uuid4().hex, detail=detail,
        )
    )  # fmt: skip


@keys_app.command("create")
def create(
    user: Annotated[str, typer.Option("--user", help="who the key belongs to")],
    role: Annotated[
        Role | None, typer.Option("--role", help="what the key may do (--directory: the groups decide)")
    ] = None,
    name: Annotated[str | None, typer.Option("--name", help="a label, e.g. the client's host")] = None,
    directory: Annotated[
        bool, typer.Option("--directory", help="for a directory user: looked up, role from their groups")
    ] = False,
    init: InitOption = False,
    config: ConfigOption = None,
) -> None:
    """Create a key and print it once; only its hash is stored."""
    with cli_store(config, init=init) as store:
        if directory:
            user, role = _directory_owner(store, config, user, role)
        elif role is None:
            fail("--role is required (or --directory for a directory user, whose groups give the role)")
        key_id, raw_key = store.create_key(user, role, name)
        record_cli_action(store, "keys.create", key_id=key_id, for_user=user, key_role=role.value)
    console.print(
        f"created key [bold]{key_id}[/] for {user} ({role.value}); it is shown only now:", highlight=False
    )
    typer.echo(raw_key)


def _directory_owner(store: Store, config: Path | None, user: str, role: Role | None) -> tuple[str, Role]:
    """The directory's spelling of `user` and the role their groups give; ends the command if refused."""
    settings = settings_from(config).directory
    if not settings.enabled:
        fail("--directory needs directory.enabled = true in the config")
    try:
        found = admit_key_owner(store, settings, user, role)
    except DirectoryUnavailable as exc:
        fail(f"directory: {exc} ({exc.cause})")
    except Refused as refused:
        fail(f"{user}: refused by the directory: {refused.reason}")
    return found.username, found.role


@keys_app.command("list")
def list_keys(
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
    config: ConfigOption = None,
) -> None:
    """List keys (never their secrets)."""
    with cli_store(config) as store:
        keys = store.list_keys()
    if as_json:
        rows = [
            {"key_id": k.key_id, "prefix": k.prefix, "user": k.user, "role": k.role.value, "name": k.name,
             "created_at": k.created_at.isoformat(), "revoked_at": k.revoked_at and k.revoked_at.isoformat()}
            for k in keys
        ]  # fmt: skip
        typer.echo(json.dumps(rows, indent=2))
        return
    table = Table("key id", "prefix", "user", "role", "name", "created", "state")
    for k in keys:
        state = "active" if k.active else f"revoked {k.revoked_at:%Y-%m-%d %H:%M}"
        table.add_row(
            k.key_id, k.prefix, k.user, k.role.value, k.name or "", f"{k.created_at:%Y-%m-%d %H:%M}", state
        )
    console.print(table)


@keys_app.command("revoke")
def revoke(
    key: Annotated[str, typer.Argument(help="the key id or its public prefix (mv-xxxxxxxx)")],
    config: ConfigOption = None,
) -> None:
    """Revoke a key; gateways stop accepting it within their auth cache time (a few seconds)."""
    with cli_store(config) as store:
        if not store.revoke_key(key):
            fail(f"no active key matches {key!r}; see `medvault keys list`")
        record_cli_action(store, "keys.revoke", key=key)
    console.print(f"revoked {key}", highlight=False)


def register(app: typer.Typer) -> None:
    """Add `medvault keys ...`."""
    app.add_typer(keys_app, name="keys")
