"""The bootstrap admin keys change owner from "admin" to "~admin"; directory users' last confirmation.

`Store.ensure_admin_key` made the generated key (`DATA_DIR/admin.key`) and the `MEDVAULT_ADMIN_KEY` key
as user "admin", a name a directory account (or a local user) can hold: the account's state then decided
over the break-glass key (a disabled "admin" disabled it; the directory judged it). They now belong to
"~admin", which the username rule refuses. The keys `ensure_admin_key` made are recognised by owner,
role and the names it gave them; the values are written out here, as a migration must not change with
the code. Runs made with these keys stay under "admin" (admins read every run). The downgrade gives the
keys back to "admin".

`users.directory_confirmed` (epoch seconds) is when the directory last confirmed a directory user, so
the offline grace runs from it in every gateway process and across restarts, not from each process's
first look. Existing rows start without one: while the directory is unreachable their sessions and keys
end until it confirms them once.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

_NAMES = ("MEDVAULT_ADMIN_KEY", "generated admin key")
_keys = sa.table("api_keys", sa.column("user"), sa.column("role"), sa.column("name"))


def _move(old: str, new: str) -> None:
    bootstrap = (_keys.c.user == old) & (_keys.c.role == "admin") & _keys.c.name.in_(_NAMES)
    op.execute(_keys.update().where(bootstrap).values(user=new))


def upgrade() -> None:
    _move("admin", "~admin")
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("directory_confirmed", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_column("directory_confirmed")
    _move("~admin", "admin")
