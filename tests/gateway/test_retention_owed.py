"""The gateway's purge loop runs with `content_days = 0` too, and audits what it blanked even when the
compaction after it fails (the compaction then stays owed for the next purge)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from medvault.app import create_app
from medvault.backends import resolve_runtime
from medvault.config import Settings
from medvault.store import Store, _content
from tests.gateway.conftest import Engine, make_settings, serve, serve_app
from tests.store.test_purge_owed import _reader


def _stored_for_30_days(tmp_path: Path, engine: Engine, canary: str) -> tuple[Settings, str]:
    """Settings that keep no content, and the id of a run stored earlier under 30 days."""
    settings = make_settings(tmp_path, [engine.url], retention={"content_days": 0})
    earlier = Store.open(settings.resolved_database_url, content_days=30)
    earlier.migrate()
    run = earlier.save_run(user="alice", status="ok", output_text=canary)
    earlier.close()
    return settings, run.id


def test_content_days_zero_purges_and_audits_a_failed_compaction(
    tmp_path: Path, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Content stored under an earlier 30 days is blanked at start under 0; a reader holds the
    write-ahead log, so the compaction fails: the audit event still counts the row and says so."""
    monkeypatch.setattr(_content, "_CHECKPOINT_WAIT_MS", 50)
    monkeypatch.setattr(_content, "_CHECKPOINT_PAUSE_S", 0.01)
    settings, run_id = _stored_for_30_days(tmp_path, engine, "RETENTION-OWED-CANARY")
    store = Store.from_settings(settings)
    wanted = ("retention.purge", {"rows": 1, "compacted": False})
    try:
        with _reader(settings.resolved_database_url), serve(settings, store):
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:  # the purge runs at start; its audit event follows it
                events = [(e.event.action, e.event.detail) for e in store.audit_events()]
                if wanted in events:
                    break
                time.sleep(0.1)
        reread = store.get_run(run_id)
        owed = store.compaction_owed()
    finally:
        store.close()
    assert wanted in events
    assert reread is not None and reread.output_text is None
    assert owed is not None and owed[1] == 1


@pytest.mark.parametrize(("worker", "purges"), [(1, True), (2, False)])
def test_one_worker_per_host_purges(tmp_path: Path, engine: Engine, worker: int, purges: bool) -> None:
    """Of several gateway workers only worker 1 runs the purge (each purge may rewrite the whole file);
    worker 2 leaves content past retention to it. Control: worker 1 blanks it at start."""
    settings, run_id = _stored_for_30_days(tmp_path, engine, "ONE-PURGER-CANARY")
    store = Store.from_settings(settings)
    app = create_app(settings, resolve_runtime(settings, {}), store)
    app.state.gateway.worker = worker
    try:
        with serve_app(app):
            deadline = time.monotonic() + (10 if purges else 2)
            while time.monotonic() < deadline:
                reread = store.get_run(run_id)
                if reread is not None and reread.output_text is None:
                    break
                time.sleep(0.1)
    finally:
        store.close()
    assert reread is not None and (reread.output_text is None) is purges
