"""`medvault templates list|show|validate` on the built-ins and on a hospital directory."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from medvault.cli import app
from medvault.templates import builtin_dir

runner = CliRunner()


@pytest.fixture(autouse=True)
def _no_local_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run where no medvault.toml lies around, so only the built-ins and given directories count."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MEDVAULT_CONFIG", raising=False)


def test_list_shows_every_template() -> None:
    """`templates list --lang de` prints the ten German templates with their versions."""
    result = runner.invoke(app, ["templates", "list", "--lang", "de"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "fleischner-nodule" in result.output and "Befundkorrektur" in result.output
    assert result.output.count("sha256:") == 10


def test_show_prints_prompt_and_schema() -> None:
    """`templates show ID` prints inputs, warning, prompts and the output schema."""
    result = runner.invoke(app, ["templates", "show", "error-check", "--lang", "en"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    for part in ("Error check", "warning", "system prompt", "output schema", "number_unit"):
        assert part in result.output


def test_show_unknown_fails() -> None:
    """An unknown template id exits with status 1 and says so."""
    result = runner.invoke(app, ["templates", "show", "nope"])
    assert result.exit_code == 1 and "no template 'nope'" in result.output


def test_validate_builtins_and_directory(tmp_path: Path) -> None:
    """`templates validate DIR` accepts a good directory and rejects a broken file by name."""
    good = tmp_path / "good"
    good.mkdir()
    text = (builtin_dir() / "translation.en.toml").read_text(encoding="utf-8")
    (good / "translation.en.toml").write_text(text.replace("Translation German", "Übersetzung"), "utf-8")
    result = runner.invoke(app, ["templates", "validate", str(good)])
    assert result.exit_code == 0 and "20 templates (10 ids) are valid" in result.output
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "translation.en.toml").write_text(text.replace("max_tokens = 3072", "max_tokens = 0"), "utf-8")
    result = runner.invoke(app, ["templates", "validate", str(bad)])
    assert result.exit_code == 1 and "sampling.max_tokens" in result.output
