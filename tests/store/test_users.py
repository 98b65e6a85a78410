"""Local workbench users with argon2 password hashes."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text

from medvault.errors import StoreError
from medvault.store import Principal, Role, Store


def test_password_is_verified_and_stored_as_argon2(store: Store, db_url: str) -> None:
    """The right password gives the user's principal; the database holds only an argon2id hash."""
    store.create_user("dr.who", "correct horse battery", "clinician", display_name="Dr. Who")
    assert store.verify_password("dr.who", "correct horse battery") == Principal("dr.who", Role.CLINICIAN)
    assert store.verify_password("dr.who", "wrong password!") is None
    assert store.verify_password("nobody", "correct horse battery") is None
    engine = create_engine(db_url)
    with engine.connect() as conn:
        stored = conn.execute(text("SELECT password_hash FROM users")).scalar_one()
    engine.dispose()
    assert stored.startswith("$argon2id$") and "correct horse" not in stored


def test_set_password_and_disable(store: Store) -> None:
    """A new password replaces the old one, and a disabled user cannot log in."""
    store.create_user("nurse", "first-password", Role.CLINICIAN)
    store.set_password("nurse", "second-password")
    assert store.verify_password("nurse", "first-password") is None
    assert store.verify_password("nurse", "second-password") is not None
    store.set_disabled("nurse", True)
    assert store.verify_password("nurse", "second-password") is None
    with pytest.raises(StoreError, match="no user"):
        store.set_password("ghost", "whatever-123")


def test_user_validation(store: Store) -> None:
    """Duplicate names are a StoreError; bad names, short passwords and unknown roles are ValueErrors."""
    store.create_user("alice", "long enough", "admin")
    with pytest.raises(StoreError, match="already exists"):
        store.create_user("alice", "long enough", "admin")
    with pytest.raises(ValueError, match="username"):
        store.create_user("bad name", "long enough", "admin")
    with pytest.raises(ValueError, match="at least 8"):
        store.create_user("bob", "short", "admin")
    with pytest.raises(ValueError, match="role"):
        store.create_user("bob", "long enough", "root")


def test_list_users(store: Store) -> None:
    """Users are listed by name with role and display name, never a hash."""
    store.create_user("zoe", "long enough", "auditor")
    store.create_user("adam", "long enough", "clinician", display_name="Adam")
    listed = store.list_users()
    assert [(u.username, u.role, u.display_name) for u in listed] == [
        ("adam", Role.CLINICIAN, "Adam"),
        ("zoe", Role.AUDITOR, None),
    ]
    assert not hasattr(listed[0], "password_hash")
