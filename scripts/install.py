"""Install MedVault's pinned dependencies into the virtual environment, showing progress.

Everything comes from `requirements.lock` with `--no-deps`, so what is installed is exactly what is
locked. llama-cpp-python compiles llama.cpp for the CPU (minutes on two cores); pip keeps the built wheel
in its cache, so a second install, or a new virtual environment on the same machine, does not rebuild.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import time
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

console = Console()
_STEP = re.compile(r"^(Collecting|Building wheel for|Installing collected|Successfully)\s*(\S*)")


def _locked(lock: Path) -> list[str]:
    return [
        line.strip() for line in lock.read_text().splitlines() if line.strip() and not line.startswith("#")
    ]


def _pip(python: Path, args: list[str], progress: Progress, task: int) -> None:
    command = [
        str(python),
        "-m",
        "pip",
        "install",
        "--disable-pip-version-check",
        "--progress-bar",
        "off",
        *args,
    ]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) as proc:
        assert proc.stdout is not None
        tail: list[str] = []
        for line in proc.stdout:
            tail = [*tail[-40:], line]
            match = _STEP.match(line.strip())
            if not match:
                continue
            verb, name = match.groups()
            if verb == "Collecting":
                progress.advance(task)
                progress.update(task, description=f"fetching {name}")
            elif verb.startswith("Building"):
                progress.update(task, description=f"building {name} (llama.cpp compiles for minutes)")
            elif verb.startswith("Installing"):
                progress.update(task, description="installing")
        if proc.wait() != 0:
            console.print("".join(tail), markup=False, highlight=False)
            console.print("[bold red]pip failed[/]; the lines above say why")
            sys.exit(1)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--venv", type=Path, required=True)
    parser.add_argument("--lock", type=Path, required=True)
    args = parser.parse_args()
    python = args.venv / "bin" / "python"
    locked = _locked(args.lock)
    started = time.monotonic()
    columns = (
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console) as progress:
        task = progress.add_task("resolving", total=len(locked) + 1)
        _pip(python, ["--no-deps", "-r", str(args.lock)], progress, task)
        progress.update(task, description="installing medvault itself")
        _pip(python, ["--no-deps", "-e", "."], progress, task)
        progress.update(task, completed=len(locked) + 1, description="done")
    console.print(f"[green]installed {len(locked)} pinned packages in {time.monotonic() - started:.0f} s[/]")


if __name__ == "__main__":
    main()
