"""API keys: creation, authentication, revocation, hash-only storage and the admin key bootstrap."""

from __future__ import annotations

import hashlib
import stat
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from medvault.errors import StoreError
from medvault.store import Principal, Role, Store


def _all_key_cells(url: str) -> list[str]:
    engine = create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT * FROM api_keys")).all()
    engine.dispose()
    return [str(cell) for row in rows for cell in row]


def test_created_key_authenticates_with_its_user_and_role(store: Store) -> None:
    """A new key is high-entropy, starts with mv- and authenticates as the user and role it was made for."""
    key_id, raw = store.create_key("alice", Role.CLINICIAN, name="laptop")
    assert raw.startswith("mv-") and len(raw) >= 40
    assert store.authenticate_key(raw) == Principal(user="alice", role=Role.CLINICIAN, key_id=key_id)
    assert store.authenticate_key(raw + "x") is None
    assert store.authenticate_key("") is None


def test_only_the_hash_of_a_key_is_stored(store: Store, db_url: str) -> None:
    """The database holds the key's SHA-256 and a short prefix, never the key itself."""
    _, raw = store.create_key("alice", "admin")
    cells = _all_key_cells(db_url)
    assert hashlib.sha256(raw.encode()).hexdigest() in cells
    assert not any(raw in cell for cell in cells)
    assert not any(raw[11:] in cell for cell in cells)


def test_list_keys_shows_metadata_without_secrets(store: Store) -> None:
    """Listing gives id, prefix, user, role and name, in creation order, and marks revoked keys."""
    first_id, first_raw = store.create_key("alice", "clinician", name="a")
    second_id, _ = store.create_key("bob", "auditor")
    store.revoke_key(second_id)
    listed = store.list_keys()
    assert [k.key_id for k in listed] == [first_id, second_id]
    assert listed[0].prefix == first_raw[:11] and listed[0].name == "a" and listed[0].active
    assert listed[1].role is Role.AUDITOR and not listed[1].active
    assert listed[0].created_at.tzinfo is not None


@pytest.mark.parametrize("by", ["id", "prefix"])
def test_revoked_key_no_longer_authenticates(store: Store, by: str) -> None:
    """Revoking by id or by public prefix stops the key at once; revoking it again reports False."""
    key_id, raw = store.create_key("alice", "clinician")
    assert store.revoke_key(key_id if by == "id" else raw[:11]) is True
    assert store.authenticate_key(raw) is None
    assert store.revoke_key(key_id) is False
    assert store.revoke_key("no-such-key") is False


def test_unknown_role_is_refused(store: Store) -> None:
    """A role outside clinician/admin/auditor is a ValueError that names the choices."""
    with pytest.raises(ValueError, match="clinician"):
        store.create_key("alice", "superuser")


def test_generated_admin_key_goes_to_a_private_file(store: Store, tmp_path: Path) -> None:
    """Without a seed and without an admin key, one is generated into a 0600 file in a 0700 directory."""
    key_file = tmp_path / "data" / "admin.key"
    assert store.ensure_admin_key(None, key_file) == str(key_file)
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(key_file.parent.stat().st_mode) == 0o700
    principal = store.authenticate_key(key_file.read_text().strip())
    assert principal is not None and principal.role is Role.ADMIN
    assert store.ensure_admin_key(None, key_file) is None
    assert len(store.list_keys()) == 1


def test_seeded_admin_key_is_created_once(store: Store, tmp_path: Path) -> None:
    """MEDVAULT_ADMIN_KEY becomes an admin key, writes no file, and is not duplicated on the next start."""
    seed = "seeded-admin-key-0123456789"
    key_file = tmp_path / "admin.key"
    assert store.ensure_admin_key(seed, key_file) is None
    assert store.ensure_admin_key(seed, key_file) is None
    assert not key_file.exists()
    principal = store.authenticate_key(seed)
    assert principal is not None and principal.role is Role.ADMIN
    assert len(store.list_keys()) == 1
    assert seed[:8] not in store.list_keys()[0].prefix


def test_weak_or_revoked_seed_is_refused(store: Store, tmp_path: Path) -> None:
    """A short seed, or a seed whose key was revoked, stops start-up with a StoreError saying why."""
    with pytest.raises(StoreError, match="at least 16"):
        store.ensure_admin_key("short", tmp_path / "k")
    seed = "seeded-admin-key-0123456789"
    store.ensure_admin_key(seed, tmp_path / "k")
    principal = store.authenticate_key(seed)
    assert principal is not None and principal.key_id is not None
    store.revoke_key(principal.key_id)
    with pytest.raises(StoreError, match="revoked"):
        store.ensure_admin_key(seed, tmp_path / "k")
