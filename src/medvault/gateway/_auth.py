"""Bearer-key authentication with a short-lived cache, then the rate limits (`_ratelimit`).

Keys are random and long, so a SHA-256 digest is the right hash (no password stretching needed); the
cache is keyed by that digest, so raw keys never sit in memory longer than the request. A revoked key
stops working within `auth.cache_ttl_s` (5 s by default) in every gateway process.

A key made for a directory user (`medvault keys create --directory`) is also asked of the directory
(`medvault.directory.Authenticator.key_still_valid`) when its cache entry is filled: it stops working
within the same `auth.cache_ttl_s` once its user is gone, disabled or regrouped. A cache hit, the hot
path, asks nothing.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from starlette.requests import Request

from medvault.errors import Forbidden, Unauthenticated
from medvault.gateway._request import header as request_header
from medvault.store import Principal, Role

if TYPE_CHECKING:
    from medvault.gateway._ratelimit import RateLimiter

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
    """Resolve `Authorization: Bearer …` to a principal, caching answers for `ttl_s`, and count the
    request against the key's and the user's limits (`limiter`)."""

    def __init__(
        self,
        lookup: Callable[[str], Principal | None],
        ttl_s: float,
        limiter: RateLimiter | None = None,
        still_valid: Callable[[Principal], Awaitable[bool]] | None = None,
    ) -> None:
        self._lookup = lookup
        self._ttl = ttl_s
        self._cache: dict[str, _Entry] = {}
        self.limiter = limiter
        # The directory's say on its users' keys (True for every other key); cached with the key.
        self._still_valid = still_valid

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
            if principal is not None and self._still_valid is not None:
                principal = principal if await self._still_valid(principal) else None
            entry = _Entry(principal, now + self._ttl)
            if self._ttl > 0:
                if len(self._cache) > 10_000:  # bounded: a flood of wrong keys must not grow memory
                    self._cache.clear()
                self._cache[digest] = entry
        if entry.principal is None:
            raise Unauthenticated("invalid or revoked API key")
        if self.limiter is not None:
            await self.limiter.admit(entry.principal)
        return entry.principal

    def forget(self) -> None:
        """Drop every cached answer (after a key was revoked in this process)."""
        self._cache.clear()
