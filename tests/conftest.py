"""Fixtures shared by every test package."""

from __future__ import annotations

import os

import pytest

IN_CI = bool(os.environ.get("CI"))


def require(condition: bool, reason: str) -> None:
    """Skip outside CI when a test's environment is missing; in CI a missing part is a failure."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"CI must provide this: {reason}")
    pytest.skip(reason)


def require_root() -> None:
    """Namespaces and nftables need root; CI runs as root."""
    require(os.geteuid() == 0, "needs root for network namespaces and nftables")
