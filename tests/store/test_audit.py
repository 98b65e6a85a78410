"""The hash-chained audit trail: round trip, verification, and detection of every kind of tampering."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import create_engine, text

from medvault.store import Store
from tests.store.conftest import make_event


def _tamper(url: str, *statements: str) -> None:
    """Change the database behind the store's back, as someone with file or SQL access could."""
    engine = create_engine(url)
    with engine.begin() as conn:
        for statement in statements:
            conn.execute(text(statement))
    engine.dispose()


def _fill(store: Store, n: int = 6) -> None:
    for i in range(n):
        store.record_audit(make_event(i))


def test_events_read_back_exactly_as_recorded(store: Store) -> None:
    """Every field of an event, the time zone normalised to UTC, comes back unchanged and in order."""
    berlin = timezone(timedelta(hours=1))
    first = make_event(1, ts=datetime(2026, 3, 1, 9, 30, 0, 123456, tzinfo=berlin), latency_ms=7)
    second = make_event(2, user=None, role=None, action="auth.failed", status=401, detail={})
    store.record_audit(first)
    store.record_audit(second)
    stored = store.audit_events()
    assert [s.seq for s in stored] == [1, 2]
    assert stored[0].event.ts == first.ts and stored[0].event.ts.tzinfo == UTC
    assert stored[0].event.latency_ms == 7.0
    assert stored[1].event == second
    assert stored[1].prev_hash == stored[0].hash
    assert store.audit_events(after_seq=1)[0].seq == 2


def test_intact_chain_verifies(store: Store) -> None:
    """An untouched trail verifies, and an empty one too."""
    assert store.verify_audit_chain().ok
    _fill(store)
    report = store.verify_audit_chain()
    assert report.ok and report.checked == 6 and report.problems == []
    assert report.head_hash == store.audit_events()[-1].hash


def test_events_refuse_free_text_and_bad_shapes() -> None:
    """Detail values must be short ids or counts, times aware, actions dotted names."""
    with pytest.raises(ValueError, match="longer than"):
        make_event(detail={"note": "x" * 200})
    with pytest.raises(ValueError, match="int, str or bool"):
        make_event(detail={"score": 0.5})
    with pytest.raises(ValueError, match="timezone"):
        make_event(ts=datetime.now())  # the naive time is what is refused
    with pytest.raises(ValueError, match="action"):
        make_event(action="Chat Completions")


TAMPERING: dict[str, tuple[str, ...]] = {
    "edited token count": ("UPDATE audit_events SET completion_tokens = 999 WHERE seq = 3",),
    "edited user": ("UPDATE audit_events SET \"user\" = 'someone.else' WHERE seq = 2",),
    "edited detail": ('UPDATE audit_events SET detail = \'{"n": 42, "stream": false}\' WHERE seq = 4',),
    "deleted middle": ("DELETE FROM audit_events WHERE seq = 3",),
    "deleted last": ("DELETE FROM audit_events WHERE seq = 6",),
    "reordered": (
        "UPDATE audit_events SET seq = -2 WHERE seq = 2",
        "UPDATE audit_events SET seq = 2 WHERE seq = 3",
        "UPDATE audit_events SET seq = 3 WHERE seq = -2",
    ),
    "inserted": (
        "UPDATE audit_events SET seq = seq + 100 WHERE seq > 3",
        "UPDATE audit_events SET seq = seq - 99 WHERE seq > 100",
        'INSERT INTO audit_events (seq, ts, "user", role, action, status, client_kind, request_id, detail,'
        " prev_hash, hash) SELECT 4, ts, 'intruder', 'admin', 'keys.create', 200, 'cli', 'forged', '{}',"
        " hash, hash FROM audit_events WHERE seq = 3",
    ),
    "appended": (
        'INSERT INTO audit_events (seq, ts, "user", role, action, status, client_kind, request_id, detail,'
        " prev_hash, hash) SELECT 7, ts, 'intruder', 'admin', 'keys.create', 200, 'cli', 'forged', '{}',"
        " hash, hash FROM audit_events WHERE seq = 6",
    ),
}


@pytest.mark.parametrize("kind", sorted(TAMPERING))
def test_tampering_is_detected(store: Store, db_url: str, kind: str) -> None:
    """Editing, deleting, reordering, inserting or appending events makes verification fail."""
    _fill(store)
    _tamper(db_url, *TAMPERING[kind])
    report = store.verify_audit_chain()
    assert not report.ok, kind
    assert report.problems


def test_chain_continues_correctly_after_reopening(db_url: str) -> None:
    """A second store on the same database continues the same chain."""
    for _ in range(2):
        store = Store.open(db_url)
        store.migrate()
        _fill(store, 3)
        store.close()
    store = Store.open(db_url)
    report = store.verify_audit_chain()
    store.close()
    assert report.ok and report.checked == 6


def test_unreadable_row_is_reported_not_raised(store: Store, db_url: str) -> None:
    """A row edited into something no event can hold is reported as a problem."""
    _fill(store, 2)
    _tamper(db_url, "UPDATE audit_events SET action = 'NOT AN ACTION' WHERE seq = 1")
    report = store.verify_audit_chain()
    assert not report.ok
    assert any("unreadable" in p for p in report.problems)
