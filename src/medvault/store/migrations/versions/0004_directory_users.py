"""Directory users: where a user comes from, and which directory entry they are.

`source` is `local` (password in this database) or `ldap` (signs in against the hospital's directory;
the row only pins the name to one directory entry, by `external_id`, the entry's entryUUID or
objectGUID, so a recycled account name does not inherit someone else's runs). Existing users are local.
The downgrade drops both columns, and with them the directory users' rows (they could never sign in
without them).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("source", sa.String(length=8), nullable=False, server_default="local"))
        batch.add_column(sa.Column("external_id", sa.String(length=256), nullable=True))


def downgrade() -> None:
    op.execute("DELETE FROM users WHERE source <> 'local'")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("external_id")
        batch.drop_column("source")
