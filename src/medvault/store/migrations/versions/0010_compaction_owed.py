"""A compaction owed after a purge: content was blanked, but the compaction that wipes it from the database
files (SQLite VACUUM and WAL truncation, PostgreSQL VACUUM FULL) has not succeeded yet. The row is written
in the purge's transaction and removed only after a compaction succeeded, so a failed compaction is retried
by the next purge of any process, and the evidence report counts the rows as overdue meanwhile. No content:
a name, a time and two counters. The downgrade drops the table (a pending compaction is then forgotten).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

_BIG = sa.BigInteger()


def upgrade() -> None:
    # Written out rather than imported from the models: a migration must stay what it was.
    op.create_table(
        "compaction_owed",
        sa.Column("name", sa.String(length=16), nullable=False),
        sa.Column(
            "since", sa.DateTime(timezone=True), nullable=False,
            comment="the first blanking the compaction still owes",
        ),
        sa.Column("rows", _BIG, nullable=False, comment="rows blanked since then"),
        sa.Column("generation", _BIG, nullable=False, comment="counts blankings; a compaction clears <="),
        sa.PrimaryKeyConstraint("name"),
    )  # fmt: skip


def downgrade() -> None:
    op.drop_table("compaction_owed")
