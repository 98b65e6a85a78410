"""State that several gateway processes share: workbench sessions, sign-in throttle counts, the
addresses users sign in from, and rate-limit windows. Moved here from each process's memory, so that
every process (and every host on one PostgreSQL) sees the same counts; the downgrade drops them (open
sessions end, counts start again).

Revision ID: 0005
Revises: 0003
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_BIG = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    # Written out rather than imported from the models: a migration must stay what it was.
    op.create_table(
        "web_sessions",
        sa.Column("id_hash", sa.String(length=64), nullable=False),
        sa.Column("user", sa.String(length=128), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("lang", sa.String(length=8), nullable=False),
        sa.Column("csrf", sa.String(length=64), nullable=False),
        sa.Column("stamp", sa.String(length=128), nullable=False),
        sa.Column("started", sa.Float(), nullable=False),
        sa.Column("last_seen", sa.Float(), nullable=False),
        sa.Column("checked", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id_hash"),
    )
    op.create_index("ix_web_sessions_user", "web_sessions", ["user"])
    op.create_index("ix_web_sessions_last_seen", "web_sessions", ["last_seen"])
    op.create_table(
        "signin_failures",
        sa.Column("scope", sa.String(length=8), nullable=False),
        sa.Column("user", sa.String(length=128), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("scope", "user", "address"),
    )
    op.create_index("ix_signin_failures_last", "signin_failures", ["last"])
    op.create_table(
        "signin_familiar",
        sa.Column("user", sa.String(length=128), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("since", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("user", "address"),
    )
    op.create_index("ix_signin_familiar_since", "signin_familiar", ["since"])
    op.create_table(
        "rate_windows",
        sa.Column("caller", sa.String(length=160), nullable=False),
        sa.Column("minute", _BIG, nullable=False),
        sa.Column("requests", sa.Integer(), nullable=False),
        sa.Column("tokens", _BIG, nullable=False),
        sa.PrimaryKeyConstraint("caller", "minute"),
    )


def downgrade() -> None:
    for table in ("rate_windows", "signin_familiar", "signin_failures", "web_sessions"):
        op.drop_table(table)
