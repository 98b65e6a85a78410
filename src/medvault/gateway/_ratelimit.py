"""Fair use: requests and tokens per minute, per API key and per user, counted in the database.

The windows are whole minutes of the wall clock, shared by every gateway process and host
(`Store.rate_admit` counts and checks in one statement), so a limit of N per minute lets exactly N
through however many processes serve. Tokens are counted when a request ends (nobody knows them
before); a caller over its token limit is refused from its next request on.

When the engines' queue is deep (`QueueDepth`, read from the engines' own metrics) API traffic gets a
smaller share, `busy_requests_per_minute` per key and per user, while signed-in workbench sessions keep
their normal limits: a clinician waiting at the screen goes before a batch job. A session is told apart
by how it authenticated (no API key), not by a header a client chooses. Every caller keeps a share of
at least one request a minute, so the service is never in a state where everyone is refused.

Refusals are 429 in the OpenAI shape, with `Retry-After` up to the end of the minute.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable

from medvault.backends import QueueDepth
from medvault.config import LimitSettings
from medvault.errors import RateLimited
from medvault.store import Principal, RateCaller, Store


class RateLimiter:
    """Admit or refuse one request of a principal; `clock` (epoch seconds) is a seam for tests."""

    def __init__(
        self,
        store: Store,
        limits: LimitSettings,
        queue: QueueDepth | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self._limits = limits
        self._queue = queue
        self._clock = clock
        self.counts_tokens = bool(limits.key_tokens_per_minute or limits.user_tokens_per_minute)
        self._counts_requests = bool(
            limits.rate_limit_per_minute or limits.user_requests_per_minute or self.counts_tokens
        )

    def _busy(self, interactive: bool) -> bool:
        return not interactive and self._queue is not None and self._queue.deep

    def callers(self, principal: Principal, *, interactive: bool) -> list[RateCaller]:
        """The windows one request of `principal` counts in, with the limits that apply now."""
        limits = self._limits
        busy = self._busy(interactive)
        if not (self._counts_requests or busy):
            return []

        def share(requests: int) -> int:
            return min(requests or limits.busy_requests_per_minute, limits.busy_requests_per_minute)

        found = []
        if principal.key_id is not None:
            requests = limits.rate_limit_per_minute
            found.append(
                RateCaller(
                    f"key:{principal.key_id}",
                    share(requests) if busy else requests,
                    limits.key_tokens_per_minute,
                )
            )
        requests = limits.user_requests_per_minute
        found.append(
            RateCaller(
                f"user:{principal.user}", share(requests) if busy else requests, limits.user_tokens_per_minute
            )
        )
        return [caller for caller in found if caller.requests or caller.tokens]

    async def admit(self, principal: Principal, *, interactive: bool = False) -> None:
        """Count the request, or raise `RateLimited` (429, Retry-After) and count nothing."""
        callers = self.callers(principal, interactive=interactive)
        if not callers:
            return
        now = self._clock()
        refused = await asyncio.to_thread(self._store.rate_admit, callers, int(now // 60))
        if refused is None:
            return
        kind = "key" if refused.caller.startswith("key:") else "user"
        busy = " while the models are busy" if self._busy(interactive) else ""
        error = RateLimited(
            f"rate limit of this {kind} reached{busy} (requests or tokens per minute); retry after the "
            "time in Retry-After"
        )
        error.retry_after_s = max(1, math.ceil(60 - now % 60))
        raise error

    async def spent(self, principal: Principal, tokens: int) -> None:
        """Add a finished request's tokens to its windows (only when a token limit is configured)."""
        if not self.counts_tokens or tokens <= 0:
            return
        callers = [f"user:{principal.user}"]
        if principal.key_id is not None:
            callers.append(f"key:{principal.key_id}")
        await asyncio.to_thread(self._store.rate_add_tokens, callers, int(self._clock() // 60), tokens)

    def prune(self) -> int:
        """Drop windows older than the previous minute."""
        return self._store.rate_prune(int(self._clock() // 60) - 1)
