"""One rating per run and one survey answer per user: unique indexes instead of plain ones.

Before this, a run could be rated several times and a user could answer the survey several times, which
inflated the pilot statistics. Existing duplicates are resolved the way the store now resolves a second
submission: the latest one (highest id) stays. The downgrade only relaxes the indexes; the removed
duplicates do not come back.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# (table, column that must be unique); the index names are those 0001 created.
_UNIQUE = (("feedback", "run_id"), ("survey", "user"))


def _drop_duplicates(table_name: str, column: str) -> None:
    table = sa.table(table_name, sa.column("id"), sa.column(column))  # quoted as needed ("user")
    latest = sa.select(sa.func.max(table.c.id)).group_by(table.c[column])
    op.execute(table.delete().where(table.c.id.not_in(latest)))


def upgrade() -> None:
    for table, column in _UNIQUE:
        _drop_duplicates(table, column)
        op.drop_index(f"ix_{table}_{column}", table_name=table)
        op.create_index(f"ix_{table}_{column}", table, [column], unique=True)


def downgrade() -> None:
    for table, column in _UNIQUE:
        op.drop_index(f"ix_{table}_{column}", table_name=table)
        op.create_index(f"ix_{table}_{column}", table, [column])
