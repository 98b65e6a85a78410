"""AuditWriter: group commit under concurrency, durability across SIGKILL, several writers on one chain."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
import threading

import pytest

from medvault.errors import StoreError
from medvault.store import AuditWriter, Store
from tests.store.conftest import make_event


async def test_concurrent_records_share_transactions(store: Store) -> None:
    """300 concurrent record() calls all commit, in far fewer transactions, on one valid chain."""
    writer = AuditWriter(store)
    await writer.start()
    await asyncio.gather(*(writer.record(make_event(i)) for i in range(300)))
    await writer.stop()
    assert writer.events_written == 300
    assert writer.batches_written < 100
    report = store.verify_audit_chain()
    assert report.ok and report.checked == 300
    assert sorted(s.event.request_id for s in store.audit_events(limit=1000)) == sorted(
        f"req-{i}" for i in range(300)
    )


async def test_record_returns_after_commit(store: Store) -> None:
    """Once record() returns, another connection already sees the event."""
    writer = AuditWriter(store, max_delay_s=0)
    await writer.start()
    for i in range(5):
        await writer.record(make_event(i))
        assert store.audit_events()[-1].event.request_id == f"req-{i}"
    await writer.stop()


async def test_record_outside_start_stop_is_refused(store: Store) -> None:
    """Recording before start() or after stop() raises StoreError instead of losing the event."""
    writer = AuditWriter(store)
    with pytest.raises(StoreError, match="not running"):
        await writer.record(make_event())
    await writer.start()
    await writer.stop()
    with pytest.raises(StoreError, match="not running"):
        await writer.record(make_event())


async def test_database_failure_reaches_every_waiter_and_the_writer_recovers(store: Store) -> None:
    """When the database refuses a batch, each caller gets StoreError; later events are written again."""
    writer = AuditWriter(store, max_delay_s=0.01)
    await writer.start()
    store.downgrade("base")
    results = await asyncio.gather(*(writer.record(make_event(i)) for i in range(3)), return_exceptions=True)
    assert all(isinstance(r, StoreError) for r in results)
    store.migrate()
    await writer.record(make_event(9))
    await writer.stop()
    assert store.verify_audit_chain().checked == 1


@pytest.mark.postgres
async def test_a_bad_event_fails_alone(pg_url: str) -> None:
    """An event PostgreSQL refuses (a field too long) fails for its caller only; its neighbours commit."""
    # PostgreSQL only: SQLite does not enforce column lengths, so it refuses no event.
    store = Store.open(pg_url)
    store.migrate()
    writer = AuditWriter(store, max_delay_s=0.05)
    await writer.start()
    events = [make_event(i) for i in range(4)] + [make_event(99, request_id="r" * 500)]
    results = await asyncio.gather(*(writer.record(e) for e in events), return_exceptions=True)
    await writer.stop()
    assert results[:4] == [None] * 4
    assert isinstance(results[4], StoreError)
    assert store.verify_audit_chain().checked == 4
    store.close()


def _write_from_thread(url: str, offset: int, count: int) -> None:
    async def main() -> None:
        store = Store.open(url)
        writer = AuditWriter(store)
        await writer.start()
        await asyncio.gather(*(writer.record(make_event(offset + i)) for i in range(count)))
        await writer.stop()
        store.close()

    asyncio.run(main())


def test_several_writers_keep_one_chain(store: Store, db_url: str) -> None:
    """Four stores writing at once (as four gateway processes would) still produce one unbroken chain."""
    threads = [threading.Thread(target=_write_from_thread, args=(db_url, k * 1000, 100)) for k in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    report = store.verify_audit_chain()
    assert report.ok, report.problems
    assert report.checked == 400


CHILD = textwrap.dedent(
    """
    import asyncio, sys, time
    from medvault.store import AuditWriter, Store
    from tests.store.conftest import make_event

    async def main(url, n):
        store = Store.open(url)
        writer = AuditWriter(store)
        await writer.start()
        await asyncio.gather(*(writer.record(make_event(i)) for i in range(n)))
        print("done", flush=True)
        time.sleep(60)  # never reached by the test: it kills us here, without stop() or close()

    asyncio.run(main(sys.argv[1], int(sys.argv[2])))
    """
)


@pytest.mark.slow
def test_recorded_events_survive_sigkill(store: Store, db_url: str) -> None:
    """A process killed with SIGKILL right after its record() calls returned has lost none of them."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, db_url, "250"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env
    )
    try:
        assert child.stdout is not None
        line = child.stdout.readline()
        assert line.strip() == b"done", child.stderr.read() if child.stderr else b""
        os.kill(child.pid, signal.SIGKILL)
        assert child.wait(timeout=30) == -signal.SIGKILL
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        for stream in (child.stdout, child.stderr):
            if stream is not None:
                stream.close()
    report = store.verify_audit_chain()
    assert report.ok, report.problems
    assert report.checked == 250


async def test_events_submitted_just_before_stop_are_written(store: Store) -> None:
    """Events handed in within the same loop iteration as `stop()` are committed, none is lost."""
    writer = AuditWriter(store)
    await writer.start()
    futures = [writer.submit(make_event(i)) for i in range(5)]
    await writer.stop()
    await asyncio.gather(*futures)
    assert store.verify_audit_chain().checked == 5
