"""Idempotent workbench run starts across gateway processes: one row per (user, Idempotency-Key).

A browser's retry of "run" may reach another gateway process or host; the claim must therefore live in
the database. The primary key (user, idem_key) makes the claim one atomic insert: whoever inserts first
runs, everyone else reads the holder. `run_id` is empty while the run streams and names the stored run
once it finished. The row holds no content: a user name, a random UUID the browser chose, a run id and
two times. Rows are pruned after a day. The downgrade drops the table (retries then start new runs).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Written out rather than imported from the models: a migration must stay what it was.
    op.create_table(
        "run_claims",
        sa.Column("user", sa.String(length=128), nullable=False),
        sa.Column("idem_key", sa.String(length=64), nullable=False, comment="the Idempotency-Key (a UUID)"),
        sa.Column("run_id", sa.String(length=36), nullable=True, comment="NULL while the run streams"),
        sa.Column("claimed_at", sa.Float(), nullable=False, comment="epoch seconds"),
        sa.Column("finished_at", sa.Float(), nullable=True, comment="epoch seconds"),
        sa.PrimaryKeyConstraint("user", "idem_key"),
    )
    op.create_index("ix_run_claims_claimed_at", "run_claims", ["claimed_at"])


def downgrade() -> None:
    op.drop_index("ix_run_claims_claimed_at", table_name="run_claims")
    op.drop_table("run_claims")
