"""How many requests wait in the engines' own queues, read from the engines' Prometheus metrics.

The engines know their queue; a gateway process knows only what it sent itself, and with several gateway
processes (or hosts) that is a fraction of it. So the depth is read where it is kept:

- vLLM: `vllm:num_requests_waiting` (always exposed at `/metrics`);
- llama.cpp's server: `llamacpp:requests_deferred` (at `/metrics` when started with `--metrics`);
- the embedded engine: the same llama.cpp names. llama-cpp-python's server has no `/metrics` of its own;
  MedVault runs it through `medvault._engine_server`, which counts the generation requests in flight
  (it generates one at a time: all but one are deferred) and serves them there.

An engine that reports none of these (an `openai` replica may hide them) counts as not queueing: an
unknown queue must not shed traffic. (A fallback to this process's own requests in flight did exactly
that in the benchmark: an engine that serves 50 requests at once looked 49 deep.) Such an engine is
asked again every minute.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable

import aiohttp
import structlog
from prometheus_client.parser import text_string_to_metric_families

from medvault.backends._router import ModelRouter
from medvault.backends._upstream import Replica

log = structlog.get_logger("medvault.backends")

# The engines' own names for "requests accepted but not yet being processed".
WAITING_METRICS = frozenset({"vllm:num_requests_waiting", "llamacpp:requests_deferred"})
_RETRY_UNSUPPORTED_S = 60.0  # an engine without the metric is asked again this much later


def waiting_in(text: str) -> float | None:
    """The waiting requests an engine's metrics page reports (summed over its labels), or None when it
    reports none of the known metrics."""
    found: float | None = None
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name in WAITING_METRICS:
                found = (found or 0.0) + sample.value
    return found


class QueueDepth:
    """The deepest engine queue over all replicas, refreshed by `poll_loop`; `deep` is read per request."""

    def __init__(self, routers: Iterable[ModelRouter], deep_at: int) -> None:
        self._replicas = [replica for router in routers for replica in router.replicas]
        self._deep_at = deep_at
        self._unsupported: dict[str, float] = {}  # replica name: when to ask again
        self.depth = 0.0

    @property
    def deep(self) -> bool:
        """True while some engine has at least `deep_at` requests waiting (never when `deep_at` is 0)."""
        return self._deep_at > 0 and self.depth >= self._deep_at

    async def refresh(self, session: aiohttp.ClientSession, timeout_s: float = 1.0) -> float:
        """Read every replica's queue once; returns (and keeps) the deepest."""
        depths = await asyncio.gather(*(self._read(session, r, timeout_s) for r in self._replicas))
        self.depth = max(depths, default=0.0)
        return self.depth

    async def poll_loop(self, session: aiohttp.ClientSession, interval_s: float) -> None:
        """Keep `depth` current until cancelled."""
        while True:
            await self.refresh(session, min(1.0, interval_s))
            await asyncio.sleep(interval_s)

    async def _read(self, session: aiohttp.ClientSession, replica: Replica, timeout_s: float) -> float:
        if self._unsupported.get(replica.name, 0.0) > time.monotonic():
            return 0.0
        url = replica.url.removesuffix("/").removesuffix("/v1") + "/metrics"
        try:
            async with session.get(
                url,
                headers=replica.headers(),
                timeout=aiohttp.ClientTimeout(total=timeout_s),
                allow_redirects=False,  # another host's metrics must not count as the engine's queue
            ) as response:
                text = await response.text() if response.status == 200 else ""
        except (aiohttp.ClientError, TimeoutError, UnicodeDecodeError):
            return 0.0  # an engine that is down or busy: the health checks deal with it
        try:
            waiting = waiting_in(text) if text else None
        except ValueError:  # not a metrics page
            waiting = None
        if waiting is None:
            self._unsupported[replica.name] = time.monotonic() + _RETRY_UNSUPPORTED_S
            return 0.0
        return waiting
