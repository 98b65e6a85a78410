"""Alembic migrations, run programmatically, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from medvault.store import Store
from medvault.store._models import Base

TABLES = {"api_keys", "users", "audit_head", "audit_events", "runs", "feedback", "survey"}


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
