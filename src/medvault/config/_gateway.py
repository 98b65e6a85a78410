"""The gateway: its limits and fair use, its worker processes, its API-key cache."""

from __future__ import annotations

import os

from pydantic import Field

from medvault.config._base import _Frozen


class LimitSettings(_Frozen):
    max_body_bytes: int = Field(default=1_000_000, ge=1024)
    connect_timeout_s: float = Field(default=5.0, gt=0)
    request_timeout_s: float = Field(default=300.0, gt=0)
    first_token_timeout_s: float = Field(default=120.0, gt=0)
    rate_limit_per_minute: int = Field(default=0, ge=0, description="per API key; 0 = unlimited")
    health_interval_s: float = Field(default=2.0, gt=0)
    # Fair use (docs/configuration.md): windows of one minute, shared by every gateway process.
    user_requests_per_minute: int = Field(default=0, ge=0, description="per user, all keys; 0 = unlimited")
    key_tokens_per_minute: int = Field(default=0, ge=0, description="per API key; 0 = unlimited")
    user_tokens_per_minute: int = Field(default=0, ge=0, description="per user; 0 = unlimited")
    busy_queue_depth: int = Field(
        default=4, ge=0, description="engine requests waiting that make the queue deep; 0 = never"
    )
    busy_requests_per_minute: int = Field(
        default=30, ge=1, description="per API key and per user while the queue is deep (sessions exempt)"
    )
    queue_poll_s: float = Field(default=1.0, gt=0, description="how often the engines' queues are read")


def _default_workers() -> int:
    return max(1, min(os.cpu_count() or 1, 4))


class GatewaySettings(_Frozen):
    workers: int = Field(
        default_factory=_default_workers, ge=1, le=64, description="gateway processes on the one port"
    )


class AuthSettings(_Frozen):
    cache_ttl_s: float = Field(default=5.0, ge=0)
