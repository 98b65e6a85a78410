"""The pilot's survey instrument and the language of each run.

The survey gains the rater's role (resident or consultant), how many critical errors the rater saw
during the pilot, and a utility score 0-10 per template (a JSON object template id -> score). Runs gain
the language the clinician worked in, so the pilot report can split by language. All columns are
nullable: answers and runs from before this revision simply have no value there. The downgrade drops
the columns and their values.

Revision ID: 0008
Revises: 0003
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Written out rather than imported from the models: a migration must stay what it was. Plain ALTER
    # TABLE on both databases: a batch (copy-and-move) rebuild of `runs` on SQLite would drop the table
    # and, with foreign keys on, cascade-delete every rating.
    op.add_column(
        "survey",
        sa.Column("rater_role", sa.String(length=16), nullable=True, comment="resident or consultant"),
    )
    op.add_column("survey", sa.Column("critical_errors_seen", sa.Integer(), nullable=True))
    op.add_column(
        "survey", sa.Column("template_utility", sa.JSON(), nullable=True, comment="template id -> 0-10")
    )
    op.add_column("runs", sa.Column("language", sa.String(length=8), nullable=True))


def downgrade() -> None:
    # SQLite has ALTER TABLE ... DROP COLUMN since 3.35 (Debian 12 ships 3.40).
    op.drop_column("runs", "language")
    for name in ("template_utility", "critical_errors_seen", "rater_role"):
        op.drop_column("survey", name)
