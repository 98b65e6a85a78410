"""Route each request of a model to the healthy replica with the fewest requests in flight.

Health is known two ways: a background probe of every replica's `/models` each `health_interval_s`, and
the requests themselves (a refused connection takes the replica out at once and the request moves to the
next one, since nothing was sent yet). A replica comes back when its probe answers again.

A probe that times out cannot tell a busy or starved engine from a dead one: on a loaded host every probe
can time out while the engines serve. So when no replica is healthy, a request still gets one try at the
replica whose probe timed out most recently after it was last healthy; only if none qualifies, or that
try is refused, is the answer 503. A replica that refused or answered its probe with an error is not
tried: that verdict is definite (and an engine still loading its model would turn 503 into 502).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TypeVar

import aiohttp
import structlog

from medvault.backends._upstream import Replica, ReplicaRefused, probe
from medvault.errors import BackendUnavailable

log = structlog.get_logger("medvault.backends")
T = TypeVar("T")
_PROBE_TIMED_OUT = "TimeoutError"  # what `probe` reports when the engine did not answer in time


class ModelRouter:
    """The replicas of one model and the choice between them."""

    def __init__(
        self, model_id: str, replicas: list[Replica], *, reasoning_starts_inside: bool = False
    ) -> None:
        self.model_id = model_id
        self.replicas = replicas
        self.reasoning_starts_inside = reasoning_starts_inside
        self._down_at: dict[str, float] = {}  # replica name -> when it last went from healthy to down

    @property
    def ready(self) -> bool:
        return any(r.healthy for r in self.replicas)

    @property
    def digest(self) -> str | None:
        return next((r.digest for r in self.replicas if r.digest), None)

    def _candidates(self) -> tuple[list[Replica], bool]:
        """The healthy replicas, best first; if there are none, the one last resort (flagged True)."""
        healthy = [r for r in self.replicas if r.healthy]
        if not healthy:
            # Only one that served before: a replica never healthy may still be loading, and has not
            # told its model name yet (`probe`).
            timed_out = [
                r for r in self.replicas if r.last_error == _PROBE_TIMED_OUT and r.name in self._down_at
            ]
            if not timed_out:
                raise self._no_healthy()
            return [max(timed_out, key=lambda r: self._down_at[r.name])], True
        ranked = sorted(healthy, key=lambda r: (r.outstanding, r.picks))
        ranked[0].picks += 1
        return ranked, False

    def _no_healthy(self) -> BackendUnavailable:
        reasons = "; ".join(f"{r.name}: {r.last_error or 'not ready'}" for r in self.replicas)
        return BackendUnavailable(f"model {self.model_id!r} has no healthy replica ({reasons})")

    def _refused(self, last: ReplicaRefused | None, last_resort: bool) -> BackendUnavailable:
        """The 503 once every replica tried refused the connection."""
        if last_resort:
            return self._no_healthy()
        assert last is not None
        return BackendUnavailable(f"model {self.model_id!r}: every replica refused ({last.message})")

    def _mark_down(self, replica: Replica, reason: str) -> None:
        if replica.healthy:
            log.warning("replica_down", model=self.model_id, replica=replica.name, reason=reason)
            self._down_at[replica.name] = time.monotonic()
        replica.healthy = False
        replica.last_error = reason

    async def call(self, action: Callable[[Replica], Awaitable[T]]) -> tuple[Replica, T]:
        """Run `action` on the best replica; on a refused connection move on to the next one."""
        last: ReplicaRefused | None = None
        candidates, last_resort = self._candidates()
        for replica in candidates:
            replica.outstanding += 1
            try:
                return replica, await action(replica)
            except ReplicaRefused as exc:
                self._mark_down(replica, exc.message)
                last = exc
            finally:
                replica.outstanding -= 1
        raise self._refused(last, last_resort)

    @contextlib.asynccontextmanager
    async def stream(
        self, opener: Callable[[Replica], AsyncIterator[T]]
    ) -> AsyncIterator[tuple[Replica, AsyncIterator[T]]]:
        """Open a stream on the best replica; fail over while the first event has not arrived."""
        last: ReplicaRefused | None = None
        candidates, last_resort = self._candidates()
        for replica in candidates:
            replica.outstanding += 1
            events = opener(replica)
            try:
                first = await anext(events)
            except ReplicaRefused as exc:
                self._mark_down(replica, exc.message)
                replica.outstanding -= 1
                last = exc
                continue
            except BaseException:
                replica.outstanding -= 1
                raise
            try:
                yield replica, _prepend(first, events)
            finally:
                replica.outstanding -= 1
                await events.aclose()  # type: ignore[attr-defined]
            return
        raise self._refused(last, last_resort)

    async def check_health(self, session: aiohttp.ClientSession, timeout_s: float) -> None:
        """Probe every replica once and update its state."""
        results = await asyncio.gather(*(probe(session, r, timeout_s) for r in self.replicas))
        for replica, problem in zip(self.replicas, results, strict=True):
            if problem is None:
                if not replica.healthy:
                    log.info("replica_up", model=self.model_id, replica=replica.name)
                replica.healthy, replica.last_error = True, None
            elif problem == _PROBE_TIMED_OUT and replica.outstanding:
                # Busy, not dead: llama.cpp's server answers nothing else while it generates.
                continue
            else:
                self._mark_down(replica, problem)


async def _prepend(first: T, rest: AsyncIterator[T]) -> AsyncIterator[T]:
    yield first
    async for item in rest:
        yield item


async def health_loop(routers: list[ModelRouter], session: aiohttp.ClientSession, interval_s: float) -> None:
    """Keep every replica's health current until cancelled."""
    while True:
        await asyncio.gather(*(r.check_health(session, timeout_s=min(2.0, interval_s)) for r in routers))
        await asyncio.sleep(interval_s)
