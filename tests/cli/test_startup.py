"""How much a `medvault` command imports before it runs: operators and scripts call it often."""

from __future__ import annotations

import subprocess
import sys

_PROBE = (
    "import sys; from medvault.cli import _build; _build(); {extra}"
    "print(sorted(m for m in ('scipy', 'matplotlib') if m in sys.modules))"
)


def _heavy_modules(extra: str = "") -> str:
    argv = [sys.executable, "-c", _PROBE.format(extra=extra)]
    return subprocess.run(argv, capture_output=True, text=True, check=True, timeout=60).stdout.strip()


def test_the_command_starts_without_the_reports_statistics_stack() -> None:
    """Building the whole command (what `status`, `down` or `up` do first) imports neither scipy nor
    matplotlib: only the reports need them, and they cost over a second on every call."""
    assert _heavy_modules() == "[]"
    # control: the probe sees them once a report's module is imported
    assert _heavy_modules("import medvault.governance.pilot; ") == "['matplotlib', 'scipy']"
