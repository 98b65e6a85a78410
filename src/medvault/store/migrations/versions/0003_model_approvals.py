"""Model change control: which digest of which model's weights is approved, pending or retired.

One row per (model id, digest) holds the current decision, who took it, when and why; every decision is
also an audit event, so the history survives a later change of the row. The downgrade drops the table:
every model then serves again without approval, as before this revision.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Written out rather than imported from the models: a migration must stay what it was.
    op.create_table(
        "model_approvals",
        sa.Column("model_id", sa.String(length=256), nullable=False),
        sa.Column("digest", sa.String(length=80), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False, comment="approved, pending or retired"),
        sa.Column("decided_by", sa.String(length=128), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.String(length=512), nullable=False),
        sa.PrimaryKeyConstraint("model_id", "digest"),
    )


def downgrade() -> None:
    op.drop_table("model_approvals")
