"""Evaluation-gated change control: the evaluations table, and what each approval covered.

`evaluations` holds one `medvault evaluate` run per row (digests and numbers, never text);
`model_approvals` gains the combination an approval covered (model digest, template versions, guard
version, retrieval index), the evaluation it rests on, and whether it was an override. The downgrade
drops both; the audit trail keeps the history either way.

Revision ID: 0006
Revises: 0003
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Written out rather than imported from the models: a migration must stay what it was.
    op.create_table(
        "evaluations",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("model_id", sa.String(length=256), nullable=False),
        sa.Column("model_digest", sa.String(length=80), nullable=False),
        sa.Column("combination", sa.String(length=80), nullable=False),
        sa.Column("guard_version", sa.String(length=80), nullable=False),
        sa.Column("retrieval_index", sa.String(length=80), nullable=True),
        sa.Column("templates", sa.JSON(), nullable=False, comment="template id.lang -> version"),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("run_by", sa.String(length=128), nullable=False),
        sa.Column("max_tokens", sa.Integer(), nullable=True, comment="a cap on the answers; None: none"),
        sa.Column("passed", sa.Boolean(), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False, comment="why it failed, per template"),
        sa.Column(
            "baseline_id", sa.String(length=32), nullable=True, comment="the approved model's evaluation"
        ),
        sa.Column("metrics", sa.JSON(), nullable=False, comment="per template and language"),
        sa.Column("cases", sa.JSON(), nullable=False, comment="per case: ids and numbers"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_evaluations_model_id", "evaluations", ["model_id"])
    op.create_index("ix_evaluations_combination", "evaluations", ["combination"])
    with op.batch_alter_table("model_approvals") as batch:
        batch.add_column(sa.Column("combination", sa.String(length=80), nullable=True))
        batch.add_column(sa.Column("evaluation_id", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("override", sa.Boolean(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("model_approvals") as batch:
        batch.drop_column("override")
        batch.drop_column("evaluation_id")
        batch.drop_column("combination")
    op.drop_index("ix_evaluations_combination", table_name="evaluations")
    op.drop_index("ix_evaluations_model_id", table_name="evaluations")
    op.drop_table("evaluations")
