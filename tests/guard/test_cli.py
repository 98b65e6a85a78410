"""`medvault guard check`: exit codes and output forms."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from medvault.cli import app

runner = CliRunner()


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    paths = {
        "source": tmp_path / "source.txt",
        "clean": tmp_path / "clean.txt",
        "bad": tmp_path / "bad.txt",
    }
    paths["source"].write_text("Kleiner Pleuraerguss rechts, 12 mm. Kein Pneumothorax.\n", encoding="utf-8")
    paths["clean"].write_text("Kleiner Pleuraerguss rechts, 12 mm. Kein Pneumothorax.\n", encoding="utf-8")
    paths["bad"].write_text("Kleiner Pleuraerguss links, 12 mm. Kein Pneumothorax.\n", encoding="utf-8")
    return paths


def _run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["guard", "check", *args])
    return result.exit_code, result.output


def _correction(source: Path, output: Path, *extra: str) -> tuple[int, str]:
    """`guard check` of a German correction from `source` to `output`."""
    return _run(
        "--source", str(source), "--output", str(output), "--task", "correction", "--lang", "de", *extra
    )


def test_ok_exits_0(files: dict[str, Path]) -> None:
    """A faithful output exits with status 0."""
    code, out = _correction(files["source"], files["clean"])
    assert code == 0, out
    assert "ok" in out


def test_review_exits_1_with_table(files: dict[str, Path]) -> None:
    """A side change exits with status 1 and names the check in the table."""
    code, out = _correction(files["source"], files["bad"])
    assert code == 1, out
    assert "laterality" in out


def test_json_output(files: dict[str, Path]) -> None:
    """--json prints the result's dictionary."""
    code, out = _correction(files["source"], files["bad"], "--json")
    assert code == 1
    assert json.loads(out)["counts"]["laterality"] == 1


def test_missing_file_exits_2(files: dict[str, Path], tmp_path: Path) -> None:
    """A missing input file is a usage error with a clear message."""
    code, out = _correction(tmp_path / "nope.txt", files["clean"])
    assert code == 2
    assert "cannot read the source file" in out


def test_bad_task_and_translation_without_target_exit_2(files: dict[str, Path]) -> None:
    """An unknown task, or a translation without --target-lang, exits with status 2."""
    common = ["--source", str(files["source"]), "--output", str(files["clean"]), "--lang", "de"]
    assert _run(*common, "--task", "poem")[0] == 2
    assert _run(*common, "--task", "translation")[0] == 2
