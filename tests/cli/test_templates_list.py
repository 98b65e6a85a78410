"""`medvault templates list`: a table that fits 80 columns, and `--json` with the risk metadata."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from medvault.cli import app
from medvault.templates import TemplateLibrary


@pytest.fixture(autouse=True)
def _no_local_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Only the built-in templates count."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MEDVAULT_CONFIG", raising=False)


def test_the_table_fits_80_columns_with_ids_and_versions_whole() -> None:
    """At 80 columns no line is wider, and every id and version appears unbroken."""
    result = CliRunner().invoke(app, ["templates", "list"], env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    assert max(len(line) for line in result.output.splitlines()) <= 80
    for t in TemplateLibrary.load([]).list():
        assert f"{t.id} " in result.output and t.version in result.output
    for task in ("anchored", "semi", "open"):  # grouped by task type
        assert any(line.strip() == task for line in result.output.splitlines())


def test_json_lists_every_template_with_its_risk() -> None:
    """`--json` gives one object per template and language, with risk and regulatory class, no prompt."""
    result = CliRunner().invoke(app, ["templates", "list", "--json", "--lang", "en"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    expected = TemplateLibrary.load([]).list("en")
    assert [(r["id"], r["version"]) for r in rows] == [(t.id, t.version) for t in expected]
    first = rows[0]
    assert set(first) == {"id", "version", "lang", "task_type", "title", "risk"}
    assert set(first["risk"]) == {"privacy", "reasoning", "target_user", "eu", "us", "cn"}
    assert {r["lang"] for r in rows} == {"en"}
