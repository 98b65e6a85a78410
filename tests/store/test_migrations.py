"""Alembic migrations, run programmatically, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import MetaData, Table, create_engine, func, inspect, select
from sqlalchemy.exc import IntegrityError

from medvault.errors import StoreError
from medvault.store import Store
from medvault.store._models import Base

TABLES = {
    "api_keys", "users", "audit_head", "audit_events", "runs", "feedback", "survey", "model_approvals",
    "web_sessions", "signin_failures", "signin_familiar", "rate_windows",  # 0005: shared by gateway processes
    "evaluations",  # 0006
    "drift_alerts",  # 0007
    "run_claims",  # 0009
    "compaction_owed",  # 0010
}  # fmt: skip


def _tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        return set(inspect(engine).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()


def test_upgrade_creates_exactly_the_modelled_schema(db_url: str) -> None:
    """After `migrate()` the database holds every table and column the models declare, nothing else."""
    store = Store.open(db_url)
    try:
        store.migrate()
        assert _tables(db_url) == TABLES
        engine = create_engine(db_url)
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
        engine.dispose()
        assert diff == []
    finally:
        store.close()


def test_downgrade_to_base_and_up_again(db_url: str) -> None:
    """Migrations run down to an empty database and back up, and upgrading twice is harmless."""
    store = Store.open(db_url)
    try:
        store.migrate()
        store.migrate()
        store.create_key("alice", "clinician")
        store.downgrade("base")
        assert _tables(db_url) == set()
        store.migrate()
        assert _tables(db_url) == TABLES
        assert store.list_keys() == []
    finally:
        store.close()


def _insert(url: str, table: str, rows: list[dict[str, object]]) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(Table(table, MetaData(), autoload_with=conn).insert(), rows)
    engine.dispose()


def _count(url: str, table: str) -> int:
    engine = create_engine(url)
    with engine.connect() as conn:
        found = conn.execute(select(func.count()).select_from(Table(table, MetaData(), autoload_with=conn)))
        count = int(found.scalar_one())
    engine.dispose()
    return count


def _unique_indexes(url: str, table: str) -> set[str]:
    engine = create_engine(url)
    try:
        return {str(i["name"]) for i in inspect(engine).get_indexes(table) if i["unique"]}
    finally:
        engine.dispose()


def test_0002_keeps_the_latest_rating_and_makes_ratings_unique(db_url: str) -> None:
    """Upgrading 0001 -> 0002 drops duplicate ratings and survey answers (latest stays) and forbids new ones;
    the downgrade relaxes the indexes again."""
    now = datetime.now(UTC)
    store = Store.open(db_url)
    try:
        store.migrate("0001")
        run = {"id": "r1", "created_at": now, "user": "u", "status": "ok", "guard_counts": {}}
        _insert(db_url, "runs", [run])
        rating = {"run_id": "r1", "user": "u", "created_at": now, "critical_error": False, "categories": []}
        _insert(db_url, "feedback", [{**rating, "utility": 3}, {**rating, "utility": 9}])
        answer = {"user": "u", "created_at": now, "ease_of_use": 5}
        _insert(db_url, "survey", [{**answer, "stability": 1}, {**answer, "stability": 8}])
        store.migrate()
        assert [f.utility for f in store.list_feedback()] == [9]
        survey = store.get_survey("u")
        assert survey is not None and survey.stability == 8 and _count(db_url, "survey") == 1
        assert _unique_indexes(db_url, "feedback") >= {"ix_feedback_run_id"}
        assert _unique_indexes(db_url, "survey") >= {"ix_survey_user"}
        with pytest.raises(IntegrityError):
            _insert(db_url, "feedback", [{**rating, "utility": 1}])
        store.downgrade("0001")
        assert "ix_feedback_run_id" not in _unique_indexes(db_url, "feedback")
        _insert(db_url, "feedback", [{**rating, "utility": 1}])
        _insert(db_url, "survey", [{**answer, "stability": 2}])
        assert _count(db_url, "feedback") == 2 and _count(db_url, "survey") == 2
    finally:
        store.close()


def test_a_link_beside_a_sqlite_database_is_refused(tmp_path: Path) -> None:
    """SQLite would follow a `-wal` or `-shm` link; the store refuses to open the database instead."""
    target = tmp_path / "elsewhere"
    target.write_bytes(b"")
    db = tmp_path / "medvault.db"
    Store.open(f"sqlite:///{db}").close()
    (tmp_path / "medvault.db-shm").symlink_to(target)
    with pytest.raises(StoreError, match=r"medvault\.db-shm"):
        Store.open(f"sqlite:///{db}")
    assert target.read_bytes() == b""
