"""Initial schema: API keys, users, the audit chain, workbench runs, feedback and survey.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# Written out here rather than imported from the models: a migration must stay what it was.
_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _ts(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _str(name: str, length: int, nullable: bool = True, **kw: Any) -> sa.Column:
    return sa.Column(name, sa.String(length=length), nullable=nullable, **kw)


def _content(name: str) -> sa.Column:
    return sa.Column(name, sa.Text(), nullable=True, comment="CONTENT")


def _model_refs() -> list[sa.Column]:
    return [
        _str("template_id", 128),
        _str("template_version", 64),
        _str("model_id", 256),
        _str("model_digest", 80),
    ]


_INDEXES = {
    "api_keys": ["user"],
    "audit_events": ["action", "ts", "user"],
    "runs": ["created_at", "expires_at", "user"],
    "feedback": ["expires_at", "run_id", "user"],
    "survey": ["expires_at", "user"],
}


def upgrade() -> None:
    op.create_table(
        "api_keys",
        _str("id", 32, False, primary_key=True),
        _str("prefix", 32, False, unique=True),
        _str("key_hash", 64, False, unique=True, comment="sha256 hex of the key"),
        _str("user", 128, False),
        _str("role", 16, False),
        _str("name", 128),
        _ts("created_at"),
        _ts("revoked_at", nullable=True),
    )
    op.create_table(
        "users",
        _str("username", 128, False, primary_key=True),
        _str("display_name", 256),
        _str("role", 16, False),
        _str("password_hash", 256, False, comment="argon2id"),
        _ts("created_at"),
        sa.Column("disabled", sa.Boolean(), nullable=False),
    )
    op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        _str("hash", 64, False),
    )
    # The chain's head exists from the start, so the first writers lock a row instead of racing to insert it.
    op.execute(
        sa.text("INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, :genesis)").bindparams(genesis="0" * 64)
    )
    op.create_table(
        "audit_events",
        sa.Column("seq", _ID, primary_key=True, autoincrement=False),
        _ts("ts"),
        _str("user", 128),
        _str("role", 16),
        _str("action", 64, False),
        _str("model_id", 256),
        _str("model_digest", 80),
        _str("template_id", 128),
        _str("template_version", 64),
        sa.Column("prompt_tokens", sa.Integer(), nullable=True),
        sa.Column("completion_tokens", sa.Integer(), nullable=True),
        sa.Column("latency_ms", sa.Float(), nullable=True),
        sa.Column("status", sa.Integer(), nullable=False),
        _str("client_kind", 32, False),
        _str("request_id", 128, False),
        sa.Column("detail", sa.JSON(), nullable=False),
        _str("prev_hash", 64, False),
        _str("hash", 64, False),
    )
    op.create_table(
        "runs",
        _str("id", 36, False, primary_key=True),
        _ts("created_at"),
        _ts("expires_at", nullable=True),
        _str("user", 128, False),
        *_model_refs(),
        _str("status", 32, False),
        sa.Column("latency_ms", sa.Float(), nullable=True),
        sa.Column("prompt_tokens", sa.Integer(), nullable=True),
        sa.Column("completion_tokens", sa.Integer(), nullable=True),
        _str("guard_verdict", 32),
        sa.Column("guard_counts", sa.JSON(), nullable=False),
        _content("input_json"),
        _content("output_text"),
        _content("reasoning_text"),
    )
    op.create_table(
        "feedback",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("run_id", sa.String(36), sa.ForeignKey("runs.id", ondelete="CASCADE"), nullable=False),
        _str("user", 128, False),
        _ts("created_at"),
        _ts("expires_at", nullable=True),
        *_model_refs(),
        sa.Column("utility", sa.Integer(), nullable=False),
        sa.Column("critical_error", sa.Boolean(), nullable=False),
        sa.Column("categories", sa.JSON(), nullable=False),
        _content("comment"),
    )
    op.create_table(
        "survey",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        _str("user", 128, False),
        _ts("created_at"),
        _ts("expires_at", nullable=True),
        sa.Column("stability", sa.Integer(), nullable=False),
        sa.Column("ease_of_use", sa.Integer(), nullable=False),
        _content("comment"),
    )
    for table, columns in _INDEXES.items():
        for column in columns:
            op.create_index(f"ix_{table}_{column}", table, [column])


def downgrade() -> None:
    for table, columns in _INDEXES.items():
        for column in columns:
            op.drop_index(f"ix_{table}_{column}", table_name=table)
    for table in ("survey", "feedback", "runs", "audit_events", "audit_head", "users", "api_keys"):
        op.drop_table(table)
