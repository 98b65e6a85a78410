"""The evidence report's retention section tells the truth: content kept past a lowered setting is overdue,
a compaction still owed counts as overdue, and audit events are kept (the oldest one's age is compared
with the policy's `audit_days`, nothing deletes them)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from medvault.config import load_settings
from medvault.errors import ConfigError
from medvault.governance._evidence_isolation import isolation_evidence
from medvault.governance.evidence import _context, render_html
from medvault.store import AuditEvent, CompactionFailed, Store, _content
from tests.store.test_purge_owed import _reader

CANARY = "CANARY-evidence-retention-Pleuraerguss"


def _html(store: Store, tmp_path: Path, content_days: int, at: datetime) -> str:
    settings = load_settings(None, data_dir=tmp_path / "data", retention={"content_days": content_days})
    return render_html(_context(store, settings, isolation_evidence(settings, lambda: at), lambda: at))


def _cell(html: str, cell_id: str) -> str:
    found = re.search(rf'<td id="{cell_id}">(.*?)</td></tr>', html, re.S)
    assert found, cell_id
    return re.sub(r"<[^>]+>", "", found.group(1))


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    (tmp_path / "data").mkdir()
    opened = Store.open(f"sqlite:///{tmp_path / 'data' / 'medvault.db'}", content_days=30)
    opened.migrate()
    yield opened
    opened.close()


def test_content_kept_past_a_lowered_setting_is_overdue(store: Store, tmp_path: Path) -> None:
    """Stored under 30 days, 8 days old: overdue once the setting says 7 (control: not under 30)."""
    store.save_run(user="u", status="ok", output_text=CANARY)
    at = datetime.now(UTC) + timedelta(days=8)
    assert _cell(_html(store, tmp_path, 30, at), "overdue") == "none"
    html = _html(store, tmp_path, 7, at)
    assert _cell(html, "overdue") == "1 rows"
    assert CANARY not in html


def test_an_owed_compaction_is_overdue(store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Blanked but not compacted (a reader held the write-ahead log): the rows count as overdue, with
    the time since when; after a purge that compacts, nothing is."""
    monkeypatch.setattr(_content, "_CHECKPOINT_WAIT_MS", 50)
    monkeypatch.setattr(_content, "_CHECKPOINT_PAUSE_S", 0.01)
    store.save_run(user="u", status="ok", output_text=CANARY)
    at = datetime.now(UTC) + timedelta(days=31)
    with _reader(store.url), pytest.raises(CompactionFailed):
        store.purge_expired(now=at)
    cell = _cell(_html(store, tmp_path, 30, at), "overdue")
    assert cell.startswith("1 rows (of which 1 blanked") and "compaction" in cell
    store.purge_expired(now=at)
    assert _cell(_html(store, tmp_path, 30, at), "overdue") == "none"


def test_audit_retention_states_the_oldest_event_and_the_policy(store: Store, tmp_path: Path) -> None:
    """No claim that audit events are kept only `audit_days`: the report says all are kept and compares
    the oldest event's age with the policy, flagging events older than it."""
    now = datetime.now(UTC)
    assert "No event yet" in _cell(_html(store, tmp_path, 30, now), "audit-kept")
    store.record_audit(
        AuditEvent(
            ts=now - timedelta(days=4000), user="medvault", role="system", action="test.old", status=200,
            client_kind="cli", request_id="r-1", detail={},
        )
    )  # fmt: skip
    cell = _cell(_html(store, tmp_path, 30, now), "audit-kept")
    assert cell.startswith("all: nothing deletes them")
    assert "Oldest event 4000 days old" in cell and "audit_days) is 3650 days" in cell
    assert "events older than it are kept" in cell
    young = _cell(_html(store, tmp_path, 30, now - timedelta(days=3999)), "audit-kept")
    assert "Oldest event 1 days old" in young and "events older than it" not in young  # control


@pytest.mark.parametrize(("days", "ok"), [(36500, True), (36501, False)])
def test_content_days_has_an_upper_bound(tmp_path: Path, days: int, ok: bool) -> None:
    """More than 100 years is refused with a config error naming the key (it would overflow dates)."""
    if ok:
        assert load_settings(None, data_dir=tmp_path, retention={"content_days": days}).retention
        return
    with pytest.raises(ConfigError) as caught:
        load_settings(None, data_dir=tmp_path, retention={"content_days": days})
    assert "retention.content_days" in str(caught.value) and "36500" in str(caught.value)
