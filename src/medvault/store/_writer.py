"""`AuditWriter`: group commit of audit events from many concurrent requests.

`record()` hands the event to one dedicated thread and returns once the transaction holding it has
committed, so a response sent after `await record(...)` can never outlive its audit event, not even
when the process is killed right after. Concurrent callers share transactions: while one batch is
committing, the next one gathers, so requests wait for one commit at most and never for each other.

Batching is adaptive: when a batch held a single event (a quiet service), the next one is committed
at once; after a busy batch the thread lingers up to `max_delay_s` to gather a fuller one.
"""

from __future__ import annotations

import asyncio
import queue
import threading
import time
from typing import TYPE_CHECKING, Final

from medvault.errors import StoreError
from medvault.store._store import Store
from medvault.store._types import AuditEvent

if TYPE_CHECKING:
    from medvault.store._audit import ChainAppender

_Item = tuple[AuditEvent, "asyncio.Future[None]"]
_STOP: Final = None


class AuditWriter:
    """Commits audit events in groups from one thread; see the module docstring."""

    def __init__(self, store: Store, max_batch: int = 512, max_delay_s: float = 0.002) -> None:
        if max_batch < 1 or max_delay_s < 0:
            raise ValueError("max_batch must be at least 1 and max_delay_s not negative")
        self._store = store
        self._max_batch = max_batch
        self._max_delay_s = max_delay_s
        # Each entry is what one event-loop iteration handed in: one wake-up of the thread for all of it.
        self._queue: queue.SimpleQueue[list[_Item] | None] = queue.SimpleQueue()
        self._pending: dict[asyncio.AbstractEventLoop, list[_Item]] = {}
        self._thread: threading.Thread | None = None
        # Connects lazily, from the writing thread, and only that thread uses it.
        self._appender: ChainAppender = store.audit_appender()
        self._accepting = False
        self.events_written = 0
        self.batches_written = 0

    async def start(self) -> None:
        """Start the writing thread (once)."""
        if self._thread is not None:
            raise StoreError("AuditWriter.start() called twice")
        self._thread = threading.Thread(target=self._run, name="medvault-audit-writer", daemon=True)
        self._thread.start()
        self._accepting = True

    def submit(self, event: AuditEvent) -> asyncio.Future[None]:
        """Hand `event` in; the future resolves once it is committed, or fails with `StoreError`.

        A future rather than a coroutine, so that a caller can shield it without a task of its own.
        Events submitted in one iteration of the event loop reach the writing thread together.
        """
        if not self._accepting:
            raise StoreError("the audit writer is not running; nothing can be recorded")
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        pending = self._pending.get(loop)
        if pending is None:
            pending = self._pending[loop] = []
            loop.call_soon(self._hand_off, loop)
        pending.append((event, future))
        return future

    def _hand_off(self, loop: asyncio.AbstractEventLoop) -> None:
        items = self._pending.pop(loop, None)
        if items:
            self._queue.put(items)

    async def record(self, event: AuditEvent) -> None:
        """Return once `event` is committed; raise `StoreError` when it could not be written."""
        await self.submit(event)

    async def stop(self) -> None:
        """Write everything already handed in, then end the thread."""
        if self._thread is None or not self._accepting:
            return
        self._accepting = False
        # What this loop handed in just now goes before the stop marker. (Stop the writer from the loop
        # that uses it: another loop's list is that loop's to hand off.)
        self._hand_off(asyncio.get_running_loop())
        self._queue.put(_STOP)
        await asyncio.to_thread(self._thread.join)

    def _gather(self, first: list[_Item], linger: bool) -> tuple[list[_Item], bool]:
        """Collect a batch after `first`; returns it and whether the stop marker was seen."""
        batch = first
        deadline = time.monotonic() + self._max_delay_s if linger else 0.0
        # A batch can pass max_batch by what one loop iteration handed in; it is never split.
        while len(batch) < self._max_batch:
            remaining = deadline - time.monotonic()
            try:
                items = self._queue.get(timeout=remaining) if remaining > 0 else self._queue.get_nowait()
            except queue.Empty:
                break
            if items is _STOP:
                return batch, True
            batch.extend(items)
        return batch, False

    def _run(self) -> None:
        try:
            self._loop()
        finally:
            self._appender.close()

    def _loop(self) -> None:
        linger = False
        stopping = False
        while not stopping:
            first = self._queue.get()
            if first is _STOP:
                break
            batch, stopping = self._gather(first, linger)
            linger = len(batch) > 1
            self._commit(batch)
        # Anything handed in after the stop marker (a race with stop()) still gets written.
        rest: list[_Item] = []
        while True:
            try:
                items = self._queue.get_nowait()
            except queue.Empty:
                break
            if items is not _STOP:
                rest.extend(items)
        if rest:
            self._commit(rest)

    def _commit(self, batch: list[_Item]) -> None:
        error = self._append(batch)
        if error is not None and len(batch) > 1:
            # One bad event (say, a field too long for its column) must not fail its neighbours.
            for item in batch:
                self._commit([item])
            return
        by_loop: dict[asyncio.AbstractEventLoop, list[asyncio.Future[None]]] = {}
        for _, future in batch:
            by_loop.setdefault(future.get_loop(), []).append(future)
        for loop, futures in by_loop.items():
            try:  # one wake-up per event loop and batch, not one per event
                loop.call_soon_threadsafe(_settle, futures, error)
            except RuntimeError:  # that event loop has closed; nobody is left waiting
                continue

    def _append(self, batch: list[_Item]) -> StoreError | None:
        try:
            self._appender.append([event for event, _ in batch])
        except StoreError as exc:
            return exc
        except Exception as exc:  # noqa: BLE001 (the thread must survive and tell every waiter why)
            return StoreError(f"audit write failed: {type(exc).__name__}")
        self.events_written += len(batch)
        self.batches_written += 1
        return None


def _settle(futures: list[asyncio.Future[None]], error: BaseException | None) -> None:
    for future in futures:
        # A caller that was cancelled meanwhile no longer waits; its event is committed all the same.
        if future.done():
            continue
        if error is None:
            future.set_result(None)
        else:
            future.set_exception(error)
