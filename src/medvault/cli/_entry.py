"""The `medvault` console script: `medvault guard ...` starts without the server stack.

The other areas of `medvault.cli` import settings, database and gateway (over a second); the guard
needs none of it, and batch users call it once per file, so `guard` is dispatched here first. Importing
this module runs `medvault/cli/__init__.py` first, so the saving holds once that file imports its
areas lazily (see docs/guard.md); `python -m medvault.guard` is fast either way.
"""

from __future__ import annotations

import sys


def main() -> None:
    """Run `medvault guard` directly; anything else goes to the full command."""
    if sys.argv[1:2] == ["guard"]:
        from medvault.guard._cli import main as guard_main

        guard_main(sys.argv[2:])
        return
    from medvault.cli import main as full

    full()
