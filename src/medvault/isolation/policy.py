"""Isolation policy model (placeholder shape; the isolation work owns and extends this file)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class IsolationPolicy(BaseModel):
    """Declarative isolation policy read from the `[isolation]` table of medvault.toml."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    enabled: bool = True
