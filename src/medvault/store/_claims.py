"""Idempotent workbench run starts: a (user, Idempotency-Key) claim in the `run_claims` table.

A browser that loses its connection re-sends "run" under the same client-chosen key, and the retry may
reach another gateway process or host. So the claim is one atomic `INSERT … ON CONFLICT DO NOTHING` on
the table's primary key: exactly one request, in whichever process, inserts the row and runs; every other
one reads the holder (the stored run, or None while it streams). The row holds no content.

Claims are forgotten `CLAIM_KEEP_S` after their run finished; a claim still open after `CLAIM_STALE_S`
belonged to a process that died mid-run and is forgotten too, so its key is not blocked for a day.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import and_, delete, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from medvault.store._models import run_claims as _claims

if TYPE_CHECKING:
    from medvault.store._store import Store

CLAIM_KEEP_S = 24 * 3600.0  # a finished run's key is remembered this long
CLAIM_STALE_S = 3600.0  # no run streams this long: an open claim this old was left by a dead process
_ATTEMPTS = 3  # a holder may let go between our insert and our read: try again (rare, never a loop)


@dataclass(frozen=True, slots=True)
class RunClaim:
    """Who holds a key: the run it started, or None while that run still streams."""

    run_id: str | None


def claim_run(store: Store, user: str, key: str, now: float) -> RunClaim | None:
    """Claim `key` for one run of `user` at `now` (epoch seconds): None when this caller got it, else
    the claim that holds it. Old claims are pruned on the way (one indexed delete)."""
    mine = (_claims.c.user == user) & (_claims.c.idem_key == key)
    expired = or_(
        and_(_claims.c.run_id.is_(None), _claims.c.claimed_at < now - CLAIM_STALE_S),
        _claims.c.finished_at < now - CLAIM_KEEP_S,
    )
    for _ in range(_ATTEMPTS):
        with store._write("claiming a run") as conn:
            conn.execute(delete(_claims).where(expired))
            dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
            inserted = conn.execute(
                dialect.insert(_claims)
                .values(user=user, idem_key=key, run_id=None, claimed_at=now, finished_at=None)
                .on_conflict_do_nothing(index_elements=["user", "idem_key"])
                .returning(_claims.c.user)
            ).first()
            if inserted is not None:
                return None
            # Read committed (PostgreSQL) / one writer (SQLite): the conflicting row is committed.
            holder = conn.execute(select(_claims.c.run_id).where(mine)).first()
        if holder is not None:
            return RunClaim(holder.run_id)
    return RunClaim(None)  # claimed and let go again and again: treat as running, never run twice


def finish_claim(store: Store, user: str, key: str, run_id: str, now: float) -> None:
    """Record the stored run that `key` started: a later retry is told its id."""
    with store._write("finishing a run claim") as conn:
        conn.execute(
            update(_claims)
            .where(_claims.c.user == user, _claims.c.idem_key == key)
            .values(run_id=run_id, finished_at=now)
        )


def release_claim(store: Store, user: str, key: str) -> None:
    """Free `key` of a run that never started (refused before its stream opened): it may try again."""
    with store._write("releasing a run claim") as conn:
        conn.execute(
            delete(_claims).where(
                _claims.c.user == user, _claims.c.idem_key == key, _claims.c.run_id.is_(None)
            )
        )
