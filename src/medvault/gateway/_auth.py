"""Bearer-key authentication with a short-lived cache, and a per-key request rate limit.

Keys are random and long, so a SHA-256 digest is the right hash (no password stretching needed); the
cache is keyed by that digest, so raw keys never sit in memory longer than the request. A revoked key
stops working within `auth.cache_ttl_s` (5 s by default) in every gateway process.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass

from starlette.requests import Request

from medvault.errors import Forbidden, RateLimited, Unauthenticated
from medvault.gateway._request import header as request_header
from medvault.store import Principal, Role

# Who may run models (and workbench templates): not auditors, who read the trail, the metrics and
# others' runs, but never run a model on patient text.
CHAT_ROLES = frozenset({Role.CLINICIAN.value, Role.ADMIN.value})
ADMIN_ROLES = frozenset({Role.ADMIN.value, Role.AUDITOR.value})  # who may read the metrics and others' runs


def require_role(principal: Principal, roles: frozenset[str]) -> None:
    """Refuse (403) a principal whose role is not in `roles`.

    Handlers call it after setting `call.principal`, so the refusal is audited with who was refused.
    """
    if principal.role not in roles:
        raise Forbidden(f"role '{principal.role}' may not use this endpoint")


@dataclass(slots=True)
class _Entry:
    principal: Principal | None
    expires: float


class Authenticator:
    """Resolve `Authorization: Bearer …` to a principal, caching answers for `ttl_s`."""

    def __init__(
        self, lookup: Callable[[str], Principal | None], ttl_s: float, rate_per_minute: int = 0
    ) -> None:
        self._lookup = lookup
        self._ttl = ttl_s
        self._cache: dict[str, _Entry] = {}
        self._rate = rate_per_minute
        self._windows: dict[str, tuple[float, int]] = {}

    async def __call__(self, request: Request) -> Principal:
        header = request_header(request, b"authorization")
        scheme, _, key = header.partition(" ")
        if scheme.lower() != "bearer" or not key.strip():
            raise Unauthenticated(
                "missing API key: send 'Authorization: Bearer <key>'", code="missing_api_key"
            )
        key = key.strip()
        digest = hashlib.sha256(key.encode()).hexdigest()
        now = time.monotonic()
        entry = self._cache.get(digest)
        if entry is None or entry.expires < now:
            principal = await asyncio.to_thread(self._lookup, key)
            entry = _Entry(principal, now + self._ttl)
            if self._ttl > 0:
                if len(self._cache) > 10_000:  # bounded: a flood of wrong keys must not grow memory
                    self._cache.clear()
                self._cache[digest] = entry
        if entry.principal is None:
            raise Unauthenticated("invalid or revoked API key")
        if self._rate:
            self._count(digest, now)
        return entry.principal

    def _count(self, digest: str, now: float) -> None:
        start, count = self._windows.get(digest, (now, 0))
        if now - start >= 60:
            start, count = now, 0
        if count >= self._rate:
            raise RateLimited(f"more than {self._rate} requests per minute for this key; retry shortly")
        self._windows[digest] = (start, count + 1)

    def forget(self) -> None:
        """Drop every cached answer (after a key was revoked in this process)."""
        self._cache.clear()
