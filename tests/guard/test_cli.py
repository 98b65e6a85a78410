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


def _batch_file(tmp_path: Path, items: list[object]) -> Path:
    path = tmp_path / "pairs.jsonl"
    path.write_text("\n".join(json.dumps(i, ensure_ascii=False) for i in items) + "\n", encoding="utf-8")
    return path


PAIR = {"source": "Erguss links.", "task": "correction", "languages": ["de", "de"]}


def test_batch_prints_one_result_per_line(tmp_path: Path) -> None:
    """--batch reads JSON lines and prints one JSON result per line, worst status wins (1 over 0)."""
    items = [
        {**PAIR, "id": "a", "output": "Erguss links."},
        {**PAIR, "id": "b", "output": "Erguss rechts."},
        {
            "source": "Small effusion.",
            "output": "Kleiner Erguss.",
            "task": "translation",
            "lang": "en",
            "target_lang": "de",
        },
    ]
    code, out = _run("--batch", str(_batch_file(tmp_path, items)), "--ui-lang", "de")
    lines = [json.loads(line) for line in out.splitlines()]
    assert code == 1
    assert [(r["line"], r.get("id"), r["verdict"]) for r in lines] == [
        (1, "a", "ok"),
        (2, "b", "review"),
        (3, None, "ok"),
    ]
    assert lines[1]["flags"][0]["text"].startswith("Seite geändert")


def test_batch_bad_line_exits_2_and_goes_on(tmp_path: Path) -> None:
    """A line that is no valid pair gets an error object; the other lines are still checked."""
    items = [
        {**PAIR, "output": "Erguss links."},
        {"source": "x", "output": "y", "task": "poem", "lang": "de"},
    ]
    path = _batch_file(tmp_path, items)
    path.write_text(path.read_text(encoding="utf-8") + "not json\n", encoding="utf-8")
    code, out = _run("--batch", str(path))
    lines = [json.loads(line) for line in out.splitlines()]
    assert code == 2
    assert lines[0]["verdict"] == "ok" and "unknown task" in lines[1]["error"] and "error" in lines[2]


def test_unchecked_exits_3(tmp_path: Path) -> None:
    """A result with unsure passages and no confident flag exits with status 3."""
    source = "RV/LV-Quotient 1,2, Zeichen der Rechtsherzbelastung, Erguss links."
    output = (
        "Die linke Herzkammer ist im Verhältnis zur rechten Herzkammer kleiner, das Herz ist belastet, "
        "Erguss links."
    )
    item = {"source": source, "output": output, "task": "simplification", "languages": ["de"]}
    code, out = _run("--batch", str(_batch_file(tmp_path, [item])))
    result = json.loads(out)
    assert result["verdict"] == "unchecked" and result["unchecked"], result
    assert code == 3


def test_guard_cli_does_not_import_the_server_stack() -> None:
    """`python -m medvault.guard` runs without settings, database or web stack (what makes it start fast)."""
    import subprocess
    import sys

    probe = (
        "import sys, runpy\n"
        "sys.argv = ['medvault', 'check', '--help']\n"
        "try:\n    runpy.run_module('medvault.guard', run_name='__main__')\n"
        "except SystemExit:\n    pass\n"
        "names = ('sqlalchemy', 'fastapi', 'starlette', 'aiohttp', 'medvault.config', 'medvault.cli')\n"
        "heavy = [m for m in names if m in sys.modules]\n"
        "print('HEAVY', heavy)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    assert "--batch" in done.stdout
    assert "HEAVY []" in done.stdout, done.stdout[-400:]


def test_entry_point_dispatches_guard(monkeypatch: pytest.MonkeyPatch, files: dict[str, Path]) -> None:
    """The console script's entry sends `medvault guard ...` to the guard CLI with the right exit status."""
    from medvault.cli import _entry

    argv = ["medvault", "guard", "check", "--source", str(files["source"]), "--output", str(files["bad"])]
    monkeypatch.setattr("sys.argv", [*argv, "--task", "correction", "--lang", "de", "--json"])
    with pytest.raises(SystemExit) as exit_info:
        _entry.main()
    assert exit_info.value.code == 1


def test_console_script_runs_guard_without_the_other_areas() -> None:
    """`medvault guard` via the console entry imports no other area; building the full app does (control)."""
    import subprocess
    import sys

    probe = (
        "import sys\n"
        "from medvault.cli._entry import main\n"
        "sys.argv = ['medvault', 'guard', 'check', '--help']\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "names = ('sqlalchemy', 'fastapi', 'medvault.config', 'medvault.cli.server', 'medvault.cli.audit')\n"
        "print('GUARD', [m for m in names if m in sys.modules])\n"
        "import medvault.cli\n"
        "assert medvault.cli.app is medvault.cli.app\n"
        "print('FULL', [m for m in names if m in sys.modules])\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    assert "--batch" in done.stdout
    assert "GUARD []" in done.stdout, done.stdout[-400:]
    assert "'medvault.cli.server'" in done.stdout.split("FULL", 1)[1], done.stdout[-400:]
