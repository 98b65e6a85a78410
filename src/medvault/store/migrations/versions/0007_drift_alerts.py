"""Post-deployment monitoring: one row per drift alert, so that each is audited exactly once.

An alert is identified by template, model, weights digest, ISO week and metric; the unique constraint
lets several processes (the gateway's metrics, the CLI, the evidence report) detect the same drift while
only the first one to insert the row writes the audit event. The row holds numbers only (rates, medians,
p-values), never content. The downgrade drops the table; the audit events stay.

Revision ID: 0007
Revises: 0003
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Written out rather than imported from the models: a migration must stay what it was.
    op.create_table(
        "drift_alerts",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True),
        sa.Column("template_id", sa.String(length=128), nullable=False),
        sa.Column("model_id", sa.String(length=256), nullable=False),
        sa.Column("model_digest", sa.String(length=80), nullable=False, comment="'' when none is pinned"),
        sa.Column("iso_week", sa.String(length=8), nullable=False, comment="e.g. 2026-W49"),
        sa.Column("metric", sa.String(length=32), nullable=False),
        sa.Column("detected_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("baseline_value", sa.Float(), nullable=False),
        sa.Column("week_value", sa.Float(), nullable=False),
        sa.Column("p_value", sa.Float(), nullable=False),
        sa.Column("alpha", sa.Float(), nullable=False, comment="the Bonferroni-adjusted level it beat"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint(
            "template_id", "model_id", "model_digest", "iso_week", "metric", name="uq_drift_alerts_key"
        ),
    )


def downgrade() -> None:
    op.drop_table("drift_alerts")
