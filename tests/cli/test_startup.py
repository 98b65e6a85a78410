"""How much a `medvault` command and a gateway worker import before they run: operators and scripts call
the command often, and a restarted worker serves nothing until its imports are done."""

from __future__ import annotations

import subprocess
import sys

import pytest

_PROBE = "import sys; {load}; print(sorted(m for m in ('scipy', 'matplotlib') if m in sys.modules))"


def _heavy_modules(load: str) -> str:
    argv = [sys.executable, "-c", _PROBE.format(load=load)]
    return subprocess.run(argv, capture_output=True, text=True, check=True, timeout=60).stdout.strip()


@pytest.mark.parametrize(
    "load",
    [
        "from medvault.cli import _build; _build()",  # what `status`, `down` or `up` do first
        "import medvault.gateway._app",  # what every gateway worker imports at start
    ],
)
def test_start_without_the_statistics_stack(load: str) -> None:
    """Neither scipy nor matplotlib is imported: only reports, drift tests and charts need them, and
    they cost about a second on every start."""
    assert _heavy_modules(load) == "[]"


def test_control_the_probe_sees_them_once_a_report_is_loaded() -> None:
    assert _heavy_modules("import medvault.governance.pilot") == "['matplotlib', 'scipy']"
