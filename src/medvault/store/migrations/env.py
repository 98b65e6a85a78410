"""Alembic environment: always run from `Store.migrate()` with an open connection, never from a shell."""

from __future__ import annotations

from alembic import context

from medvault.store._models import Base

connection = context.config.attributes["connection"]
# Batch mode lets ALTER-style migrations work on SQLite, which cannot alter most columns in place.
context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
