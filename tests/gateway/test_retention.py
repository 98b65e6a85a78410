"""Content retention in the running gateway: expired content is purged at start, and audited."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine, text

from medvault.store import Store
from tests.gateway.conftest import Engine, make_settings, open_store, serve


def test_gateway_purges_expired_content_at_start(tmp_path: Path, engine: Engine) -> None:
    """With a retention period, the gateway blanks expired run content itself and audits the row count."""
    settings = make_settings(tmp_path, [engine.url], retention={"content_days": 1})
    store = open_store(settings)
    kept = Store.open(settings.resolved_database_url, content_days=1)
    run = kept.save_run(user="alice", status="ok", output_text="RETENTION-CANARY links")
    kept.close()
    with create_engine(settings.resolved_database_url).begin() as conn:  # age it past its retention
        conn.execute(text("update runs set expires_at = :t"), {"t": datetime.now(UTC) - timedelta(days=1)})
    with serve(settings, store):
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:  # the purge runs at start; its audit event follows it
            events = [(e.event.action, e.event.detail) for e in store.audit_events()]
            if ("retention.purge", {"rows": 1}) in events:
                break
            time.sleep(0.1)
        reread = store.get_run(run.id)
    store.close()
    assert reread is not None and reread.output_text is None
    assert ("retention.purge", {"rows": 1}) in events
    for file in tmp_path.glob("medvault.db*"):  # compacted: not in the file, nor in its WAL
        assert b"RETENTION-CANARY" not in file.read_bytes(), file
