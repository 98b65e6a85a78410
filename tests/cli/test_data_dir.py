"""Commands say which data directory they open and never create a database by accident."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from medvault.cli import app


@pytest.fixture
def elsewhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working directory without a medvault.toml or a database, as when run from the wrong place."""
    monkeypatch.chdir(tmp_path)
    for name in ("MEDVAULT_CONFIG", "MEDVAULT_DATA_DIR", "MEDVAULT_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


@pytest.mark.parametrize(
    "args",
    [
        ["users", "list"],
        ["users", "create", "clara", "--role", "clinician", "--password-stdin"],
        ["keys", "list"],
        ["keys", "create", "--user", "clara", "--role", "clinician"],
        ["audit", "verify"],
        ["audit", "list"],
        ["purge"],
        ["models", "list"],
        ["report", "pilot", "--out", "report"],
        ["report", "monitoring"],
    ],
)
def test_a_missing_database_is_refused_not_created(elsewhere: Path, args: list[str]) -> None:
    """Run where no database is, a command names the data directory and refuses; nothing is created. Only
    the commands that have --init (`users create`, `keys create`) suggest it."""
    result = CliRunner().invoke(app, args, input="correct horse battery\n")
    assert result.exit_code == 2, result.output
    data = elsewhere / "data"
    assert result.stderr.startswith(f"data directory: {data} (database sqlite:///{data}/medvault.db)")
    assert "no MedVault database" in result.stderr and "medvault up" in result.stderr
    assert ("--init" in result.stderr) == (args[1:2] == ["create"]), result.stderr
    assert not (data / "medvault.db").exists()
    assert "SELECT" not in result.output  # no raw SQL error, `report pilot` included


def test_init_creates_the_database_and_later_commands_use_it(elsewhere: Path) -> None:
    """`users create --init` creates the database (positive control); `users list` then works there."""
    created = CliRunner().invoke(
        app,
        ["users", "create", "clara", "--role", "clinician", "--password-stdin", "--init"],
        input="correct horse battery\n",
    )
    assert created.exit_code == 0, created.output
    assert (elsewhere / "data" / "medvault.db").is_file()
    listed = CliRunner().invoke(app, ["users", "list", "--json"])
    assert listed.exit_code == 0 and '"clara"' in listed.stdout
    assert listed.stderr.count("data directory: ") == 1  # one line, on stderr only
    assert "data directory" not in listed.stdout


def test_status_names_the_data_directory(elsewhere: Path) -> None:
    """`status` (which only reads) names the data directory on stderr and keeps stdout JSON."""
    result = CliRunner().invoke(app, ["status", "--json"])
    assert result.stderr.startswith(f"data directory: {elsewhere / 'data'}")
    assert result.stdout.lstrip().startswith("{")
