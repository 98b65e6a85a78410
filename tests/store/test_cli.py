"""The `medvault keys`, `medvault users` and `medvault audit` commands against a real database."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import typer
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from medvault.cli import audit, keys, users
from medvault.store import Role, Store, _content
from tests.store.test_purge_owed import _reader


@pytest.fixture
def cli(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    """A runner whose settings point at the test database (migrated, as `up` leaves it) and a private
    data directory."""
    monkeypatch.chdir(tmp_path)  # no stray ./medvault.toml
    store = Store.open(db_url)
    store.migrate()
    store.close()
    monkeypatch.setenv("MEDVAULT_DATABASE_URL", db_url)
    monkeypatch.setenv("MEDVAULT_DATA_DIR", str(tmp_path / "data"))
    return CliRunner()


def _app() -> typer.Typer:
    app = typer.Typer()
    for area in (keys, users, audit):
        area.register(app)
    return app


def test_keys_create_list_revoke(cli: CliRunner, db_url: str) -> None:
    """A key created on the command line authenticates, is listed without its secret, and can be revoked."""
    created = cli.invoke(_app(), ["keys", "create", "--user", "alice", "--role", "clinician"])
    assert created.exit_code == 0, created.output
    raw = created.stdout.strip().splitlines()[-1]
    store = Store.open(db_url)
    principal = store.authenticate_key(raw)
    assert principal is not None and principal.role is Role.CLINICIAN
    listed = cli.invoke(_app(), ["keys", "list", "--json"])
    rows = json.loads(listed.stdout)
    assert [r["user"] for r in rows] == ["alice"] and raw not in listed.output
    assert cli.invoke(_app(), ["keys", "revoke", rows[0]["prefix"]]).exit_code == 0
    assert store.authenticate_key(raw) is None
    again = cli.invoke(_app(), ["keys", "revoke", rows[0]["prefix"]])
    assert again.exit_code == 1 and "no active key" in again.output
    assert [s.event.action for s in store.audit_events()] == ["keys.create", "keys.revoke"]
    store.close()


def test_keys_create_refuses_unknown_role(cli: CliRunner) -> None:
    """An unknown role is a usage error naming the choices."""
    result = cli.invoke(_app(), ["keys", "create", "--user", "alice", "--role", "root"])
    assert result.exit_code == 2
    assert "clinician" in result.output


def test_users_create_from_stdin_and_list(cli: CliRunner, db_url: str) -> None:
    """`users create --password-stdin` makes a working login; `users list` shows it without a hash."""
    result = cli.invoke(
        _app(),
        ["users", "create", "dr.who", "--role", "clinician", "--password-stdin"],
        input="tardis-1963-blue-box\n",
    )
    assert result.exit_code == 0, result.output
    store = Store.open(db_url)
    assert store.verify_password("dr.who", "tardis-1963-blue-box") is not None
    store.close()
    listed = cli.invoke(_app(), ["users", "list", "--json"])
    assert json.loads(listed.stdout)[0]["username"] == "dr.who"
    assert "argon2" not in listed.output
    short = cli.invoke(_app(), ["users", "create", "bob", "--role", "admin", "--password-stdin"], input="x\n")
    assert short.exit_code == 1 and "at least 12" in short.output


def test_users_create_prompts_hidden(cli: CliRunner, db_url: str) -> None:
    """Without --password-stdin the password is asked for twice and not echoed."""
    result = cli.invoke(
        _app(), ["users", "create", "nurse", "--role", "clinician"], input="secret-pass-42\nsecret-pass-42\n"
    )
    assert result.exit_code == 0, result.output
    assert "secret-pass-42" not in result.output
    assert cli.invoke(_app(), ["users", "disable", "nurse"]).exit_code == 0
    store = Store.open(db_url)
    assert store.verify_password("nurse", "secret-pass-42") is None
    store.close()


def test_audit_verify_exit_status(cli: CliRunner, db_url: str) -> None:
    """`audit verify` exits 0 on an intact chain and 1 after tampering, with JSON on request."""
    cli.invoke(_app(), ["keys", "create", "--user", "alice", "--role", "auditor"])
    ok = cli.invoke(_app(), ["audit", "verify", "--json"])
    assert ok.exit_code == 0 and json.loads(ok.stdout)["ok"] is True
    engine = create_engine(db_url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE audit_events SET status = 500"))
    engine.dispose()
    broken = cli.invoke(_app(), ["audit", "verify"])
    assert broken.exit_code == 1 and "broken" in broken.output
    listed = cli.invoke(_app(), ["audit", "list", "--json"])
    assert json.loads(listed.stdout.splitlines()[0])["action"] == "keys.create"


def test_purge_command_deletes_expired_content(cli: CliRunner, db_url: str) -> None:
    """`medvault purge` blanks content past its retention and audits how many rows it touched."""
    store = Store.open(db_url, content_days=1)
    store.migrate()
    run = store.save_run(user="alice", status="ok", output_text="PURGE-CANARY links")
    store.close()
    with create_engine(db_url).begin() as conn:  # age the run past its retention
        conn.execute(text("update runs set expires_at = :t"), {"t": datetime.now(UTC) - timedelta(days=1)})
    app = typer.Typer()
    audit.register(app)
    result = cli.invoke(app, ["purge"])
    assert result.exit_code == 0, result.output
    assert "purged content of 1 rows" in result.output
    store = Store.open(db_url)
    reread = store.get_run(run.id)
    assert reread is not None and reread.output_text is None
    assert [s.event.action for s in store.audit_events()][-1] == "retention.purge"
    store.close()


def test_purge_command_audits_the_blanking_when_the_compaction_fails(
    cli: CliRunner, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A reader holds the database: `medvault purge` blanks the content, fails readably because the
    compaction is owed, and still audits the blanked rows (`compacted` false); the next purge, with the
    reader gone, does the owed compaction (control: it succeeds and audits nothing blanked)."""
    monkeypatch.setattr(_content, "_CHECKPOINT_WAIT_MS", 100)
    monkeypatch.setattr(_content, "_CHECKPOINT_PAUSE_S", 0.05)
    monkeypatch.setattr(_content, "PG_LOCK_TIMEOUT_MS", 300)
    store = Store.open(db_url, content_days=30)
    store.save_run(user="alice", status="ok", output_text="PURGE-CANARY links")
    store.close()
    app = typer.Typer()
    audit.register(app)
    with _reader(db_url):
        failed = cli.invoke(app, ["purge", "--yes"])  # content_days 0 here: the text is past retention
    assert failed.exit_code == 1 and "owed" in failed.output, failed.output
    again = cli.invoke(app, ["purge", "--yes"])
    assert again.exit_code == 0, again.output
    store = Store.open(db_url)
    purges = [s.event.detail for s in store.audit_events() if s.event.action == "retention.purge"]
    store.close()
    assert purges == [{"rows": 1, "compacted": False}, {"rows": 0}]


def test_purge_cuts_stored_retention_short_only_when_asked(cli: CliRunner, db_url: str) -> None:
    """Content stored for 30 days is past the retention of a configuration that keeps none (a shell
    without the service's medvault.toml reads content_days 0): `medvault purge` keeps it and says how to
    purge it, `--yes` purges it. Control: content past its stored expiry is purged either way."""
    store = Store.open(db_url, content_days=30)
    kept = store.save_run(user="alice", status="ok", output_text="KEPT-CANARY links")
    expired = store.save_run(user="alice", status="ok", output_text="EXPIRED-CANARY links")
    store.close()
    with create_engine(db_url).begin() as conn:
        conn.execute(
            text("update runs set expires_at = :t where id = :id"),
            {"t": datetime.now(UTC) - timedelta(days=1), "id": expired.id},
        )
    app = typer.Typer()
    audit.register(app)
    asked = cli.invoke(app, ["purge"])
    assert asked.exit_code == 0, asked.output
    assert "purged content of 1 rows" in asked.output and "kept the content of 1 rows" in asked.output
    assert "medvault purge --yes" in asked.output
    store = Store.open(db_url)
    assert store.get_run(expired.id).output_text is None  # type: ignore[union-attr]
    assert store.get_run(kept.id).output_text == "KEPT-CANARY links"  # type: ignore[union-attr]
    store.close()
    confirmed = cli.invoke(app, ["purge", "--yes"])
    assert confirmed.exit_code == 0 and "purged content of 1 rows" in confirmed.output, confirmed.output
    store = Store.open(db_url)
    assert store.get_run(kept.id).output_text is None  # type: ignore[union-attr]
    store.close()
