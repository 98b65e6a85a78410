"""A purge whose compaction fails leaves the compaction owed, durably, until one succeeds; lowering
`content_days` shortens the retention of what is already stored; a malformed URL never echoes its
password."""

from __future__ import annotations

import threading
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from medvault.errors import StoreError
from medvault.store import CompactionFailed, Store, _content
from medvault.store._models import runs as _runs
from medvault.store._monitoring import overdue_content
from tests.store.test_content import CANARY, _canary_in_files, _database_files, _run

LATER = timedelta(days=31)  # past the 30 days of `content_store`


@pytest.fixture(autouse=True)
def _short_waits(monkeypatch: pytest.MonkeyPatch) -> None:
    """Give up on a held write-ahead log or table lock within a fraction of a second, not seconds."""
    monkeypatch.setattr(_content, "_CHECKPOINT_WAIT_MS", 100)
    monkeypatch.setattr(_content, "_CHECKPOINT_PAUSE_S", 0.05)
    monkeypatch.setattr(_content, "PG_LOCK_TIMEOUT_MS", 300)


@contextmanager
def _reader(db_url: str) -> Iterator[threading.Event]:
    """Another process's open read transaction on the runs table (SQLite: it pins the write-ahead log;
    PostgreSQL: its lock makes VACUUM FULL wait). Setting the yielded event ends it early."""
    other = Store.open(db_url)
    done = threading.Event()
    holding = threading.Event()

    def hold() -> None:
        with other._read("holding a snapshot") as conn:
            conn.execute(select(func.count()).select_from(_runs)).scalar_one()
            holding.set()
            done.wait(30)

    thread = threading.Thread(target=hold)
    thread.start()
    assert holding.wait(10)
    try:
        yield done
    finally:
        done.set()
        thread.join()
        other.close()


def _with_canary(store: Store) -> str:
    run_id = _run(store, input_json=CANARY, output_text=CANARY, reasoning_text=CANARY)
    store.save_feedback(run_id=run_id, user="u", utility=5, critical_error=False, comment=CANARY)
    return run_id


def test_a_failed_compaction_stays_owed_until_a_later_purge_does_it(
    content_store: Store, db_url: str, request: pytest.FixtureRequest
) -> None:
    """The first purge blanks and fails to compact: it says how many rows it blanked, the text is still
    in the files and counted overdue. A purge from another process, with nothing left to blank, does
    the owed compaction; then the text is gone, nothing is overdue and nothing is owed."""
    run_id = _with_canary(content_store)
    later = datetime.now(UTC) + LATER
    assert content_store.compaction_owed() is None
    with _reader(db_url), pytest.raises(CompactionFailed) as failed:
        content_store.purge_expired(now=later)
    assert failed.value.rows == 2
    run = content_store.get_run(run_id)
    assert run is not None and run.output_text is None  # the blanking was committed
    owed = content_store.compaction_owed()
    assert owed is not None and owed[1] == 2
    assert overdue_content(content_store, later) == 2  # blanked, but still in the files
    assert _canary_in_files(_database_files(request, db_url))  # what the owed compaction is for

    other = Store.open(db_url, content_days=30)  # another worker, or the gateway after a restart
    try:
        assert other.compaction_owed() == owed
        assert other.purge_expired(now=later) == 0
        assert other.compaction_owed() is None
        assert overdue_content(other, later) == 0
    finally:
        other.close()
    assert not _canary_in_files(_database_files(request, db_url))


def test_a_purge_with_nothing_owed_does_not_compact(content_store: Store, db_url: str) -> None:
    """Without blanked rows and without an owed compaction the purge does not compact: a held reader
    does not make it fail (control: the same reader does make a purge that blanks fail)."""
    _with_canary(content_store)
    with _reader(db_url):
        assert content_store.purge_expired() == 0
        with pytest.raises(CompactionFailed):
            content_store.purge_expired(now=datetime.now(UTC) + LATER)


def test_a_briefly_held_log_is_waited_for(tmp_path_factory: pytest.TempPathFactory) -> None:
    """SQLite: a reader that lets go while the checkpoint retries does not fail the purge."""
    url = f"sqlite:///{tmp_path_factory.mktemp('mv-purge-retry') / 'medvault.db'}"
    store = Store.open(url, content_days=30)
    store.migrate()
    try:
        _with_canary(store)
        with _reader(url) as done:
            threading.Timer(0.15, done.set).start()  # after the first try, before the last
            assert store.purge_expired(now=datetime.now(UTC) + LATER) == 2
        assert store.compaction_owed() is None
    finally:
        store.close()


def test_blankings_accumulate_until_compacted(content_store: Store, db_url: str) -> None:
    """Two purges that each blank and fail to compact owe the compaction of both, from the first."""
    _with_canary(content_store)
    with _reader(db_url):
        with pytest.raises(CompactionFailed):
            content_store.purge_expired(now=datetime.now(UTC) + LATER)
        first = content_store.compaction_owed()
        _run(content_store, output_text=CANARY)
        with pytest.raises(CompactionFailed):
            content_store.purge_expired(now=datetime.now(UTC) + LATER)
    assert first is not None and content_store.compaction_owed() == (first[0], 3)


@pytest.mark.parametrize(("days", "blanked"), [(30, 0), (7, 1), (0, 1)])
def test_lowering_content_days_shortens_stored_content(db_url: str, days: int, blanked: int) -> None:
    """Content stored under 30 days is purged 8 days later once the setting says 7, and at once under 0;
    it is counted overdue until then. Control: under the old 30 days it stays and is not overdue."""
    before = Store.open(db_url, content_days=30)
    before.migrate()
    run_id = _run(before, output_text=CANARY)
    before.close()
    store = Store.open(db_url, content_days=days)
    try:
        _run(store)  # a run without content is never overdue
        at = datetime.now(UTC) + timedelta(days=8)
        assert overdue_content(store, at) == blanked
        assert store.purge_expired(now=at) == blanked
        run = store.get_run(run_id)
        assert run is not None and (run.output_text is None) == bool(blanked)
        assert overdue_content(store, at) == 0
    finally:
        store.close()


def test_the_longest_content_days_still_computes(tmp_path_factory: pytest.TempPathFactory) -> None:
    """The largest allowed setting (100 years) stores, counts and purges without a date overflow."""
    url = f"sqlite:///{tmp_path_factory.mktemp('mv-purge-long') / 'medvault.db'}"
    store = Store.open(url, content_days=36500)
    store.migrate()
    try:
        _run(store, output_text=CANARY)
        assert overdue_content(store, datetime.now(UTC)) == 0
        assert store.purge_expired() == 0
    finally:
        store.close()


@pytest.mark.parametrize(
    "url",
    [
        "postgresql+psycopg//u:S3cretPW-canary@host/db",  # the colon after the scheme is missing
        "postgresql+psycopg://u:S3cretPW-canary@host:fivefourthreetwo/db",  # a port that is no number
    ],
)
def test_a_malformed_url_does_not_echo_its_password(url: str) -> None:
    """Neither the error nor its traceback shows the password; a bad port is a StoreError too."""
    with pytest.raises(StoreError) as caught:
        Store.open(url)
    assert "not valid" in str(caught.value)
    assert "S3cretPW-canary" not in "".join(traceback.format_exception(caught.value))
