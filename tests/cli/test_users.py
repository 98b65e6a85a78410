"""`medvault users rename|delete` (audited under the real operator) and the password policy on the CLI."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from medvault.cli import app
from medvault.cli._common import operator
from medvault.store import PASSWORD_POLICY, Role, Store

GOOD = "correct horse battery"


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Store:
    """A migrated database with the user `clara`, which the commands find through MEDVAULT_DATA_DIR."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MEDVAULT_CONFIG", raising=False)
    monkeypatch.delenv("MEDVAULT_DATABASE_URL", raising=False)
    monkeypatch.setenv("MEDVAULT_DATA_DIR", str(tmp_path / "data"))
    opened = Store.open(f"sqlite:///{tmp_path / 'data' / 'medvault.db'}")
    opened.migrate()
    opened.create_user("clara", GOOD, Role.CLINICIAN)
    return opened


def _audited(store: Store, action: str) -> list[tuple[str | None, dict[str, object]]]:
    return [(s.event.user, s.event.detail) for s in store.audit_events() if s.event.action == action]


def test_rename_is_audited_under_the_operator(store: Store) -> None:
    """`users rename` moves the login and records old and new name under the OS account that ran it."""
    result = CliRunner().invoke(app, ["users", "rename", "clara", "clara.m"])
    assert result.exit_code == 0, result.output
    assert store.verify_password("clara.m", GOOD) is not None and store.verify_password("clara", GOOD) is None
    assert _audited(store, "users.rename") == [(operator(), {"username": "clara", "new_username": "clara.m"})]
    again = CliRunner().invoke(app, ["users", "rename", "clara", "clara.x"])
    assert again.exit_code == 1 and "no user 'clara'" in again.output
    assert len(_audited(store, "users.rename")) == 1  # a refused rename is not recorded as done


def test_delete_asks_then_is_audited(store: Store) -> None:
    """`users delete` asks first (no: nothing changes), then deletes and records it under the operator."""
    declined = CliRunner().invoke(app, ["users", "delete", "clara"], input="n\n")
    assert declined.exit_code == 1 and store.verify_password("clara", GOOD) is not None
    assert _audited(store, "users.delete") == []
    result = CliRunner().invoke(app, ["users", "delete", "clara", "--yes"])
    assert result.exit_code == 0, result.output
    assert store.verify_password("clara", GOOD) is None
    assert _audited(store, "users.delete") == [(operator(), {"username": "clara"})]


@pytest.mark.parametrize(
    "command", [["users", "create", "nina", "--role", "clinician"], ["users", "passwd", "clara"]]
)
def test_the_policy_is_shown_before_the_prompt_and_enforced(store: Store, command: list[str]) -> None:
    """The policy is printed before the password prompt; `12345678` is refused, a good one accepted."""
    weak = CliRunner().invoke(app, command, input="12345678\n12345678\n")
    assert weak.exit_code == 1 and "at least 12" in weak.output
    assert weak.output.index("password policy:") < weak.output.index("password:")
    assert PASSWORD_POLICY in weak.output.replace("\n", " ")
    common = CliRunner().invoke(app, [*command, "--password-stdin"], input="password1234\n")
    assert common.exit_code == 1 and "most common" in common.output
    good = CliRunner().invoke(app, [*command, "--password-stdin"], input="four unrelated words here\n")
    assert good.exit_code == 0, good.output
    assert store.verify_password(command[2], "four unrelated words here") is not None
