"""An API key follows its owner: refused while the owner is disabled, renamed with them, and the bootstrap
admin keys owned by a name no account can take."""

from __future__ import annotations

from pathlib import Path

import pytest

from medvault.store import Role, Store
from medvault.store._directory_users import admit_directory_user
from medvault.store._store import ADMIN_KEY_OWNER

PASSWORD = "correct horse battery"


def _owner(store: Store, raw_key: str) -> str | None:
    principal = store.authenticate_key(raw_key)
    return None if principal is None else principal.user


def test_a_disabled_users_keys_are_refused_until_enabled_again(store: Store) -> None:
    """Disabling a user (local or directory) refuses their keys; enabling brings them back. Keys of an
    owner without a user row (an API client) are not affected (control)."""
    store.create_user("alice", PASSWORD, Role.CLINICIAN)
    assert admit_directory_user(store, "anna", Role.CLINICIAN, "uuid-anna") is None
    _, alice = store.create_key("alice", Role.CLINICIAN)
    _, anna = store.create_key("anna", Role.CLINICIAN)
    _, service = store.create_key("svc", Role.CLINICIAN, "reporting host")
    assert [_owner(store, k) for k in (alice, anna, service)] == ["alice", "anna", "svc"]
    store.set_disabled("alice", True)
    store.set_disabled("anna", True)
    assert [_owner(store, k) for k in (alice, anna, service)] == [None, None, "svc"]
    store.set_disabled("alice", False)
    assert [_owner(store, k) for k in (alice, anna, service)] == ["alice", None, "svc"]


def test_a_renamed_users_keys_go_with_them_and_not_to_a_later_namesake(store: Store) -> None:
    """After alice → alicia and a new alice, alice's old key (active or revoked) is alicia's."""
    store.create_user("alice", PASSWORD, Role.CLINICIAN)
    store.create_user("bob", PASSWORD, Role.CLINICIAN)
    _, old = store.create_key("alice", Role.CLINICIAN)
    revoked_id, _ = store.create_key("alice", Role.CLINICIAN)
    store.revoke_key(revoked_id)
    _, bobs = store.create_key("bob", Role.CLINICIAN)
    store.rename_user("alice", "alicia")
    store.create_user("alice", PASSWORD + "x", Role.CLINICIAN)
    _, new = store.create_key("alice", Role.CLINICIAN)
    assert _owner(store, old) == "alicia"
    assert _owner(store, new) == "alice"
    assert _owner(store, bobs) == "bob"  # control: another user's key stays theirs
    assert {k.key_id: k.user for k in store.list_keys()}[revoked_id] == "alicia"


def test_bootstrap_admin_keys_belong_to_a_name_no_account_can_take(store: Store, tmp_path: Path) -> None:
    """The generated and the seeded admin key are `~admin`'s, a name the username rule refuses; an account
    called admin, disabled, leaves them working (control: that account's own key is refused)."""
    key_file = tmp_path / "admin.key"
    store.ensure_admin_key(None, key_file)
    seed = "seeded-admin-key-0123456789"
    store.ensure_admin_key(seed, key_file)
    generated = key_file.read_text().strip()
    assert _owner(store, generated) == _owner(store, seed) == ADMIN_KEY_OWNER
    with pytest.raises(ValueError, match="username"):
        store.create_user(ADMIN_KEY_OWNER, PASSWORD, Role.ADMIN)
    store.create_user("admin", PASSWORD, Role.ADMIN)
    _, own = store.create_key("admin", Role.ADMIN)
    store.set_disabled("admin", True)
    assert _owner(store, own) is None
    assert _owner(store, generated) == _owner(store, seed) == ADMIN_KEY_OWNER


def test_0011_moves_only_the_bootstrap_keys(db_url: str) -> None:
    """Keys `ensure_admin_key` made as admin move to `~admin`; another key of admin, and a key named like
    a bootstrap key but not an admin key, stay; the downgrade gives them back."""
    store = Store.open(db_url)
    try:
        store.migrate("0010")
        made = {
            name: store.create_key("admin", role, name)[0]
            for name, role in [
                ("generated admin key", Role.ADMIN),
                ("MEDVAULT_ADMIN_KEY", Role.ADMIN),
                ("laptop", Role.ADMIN),
            ]
        }
        odd, _ = store.create_key("admin", Role.CLINICIAN, "generated admin key")

        def owners() -> list[str]:
            users = {k.key_id: k.user for k in store.list_keys()}
            return [users[made["generated admin key"]], users[made["MEDVAULT_ADMIN_KEY"]],
                    users[made["laptop"]], users[odd]]  # fmt: skip

        store.migrate()
        assert owners() == [ADMIN_KEY_OWNER, ADMIN_KEY_OWNER, "admin", "admin"]
        store.downgrade("0010")
        assert owners() == ["admin"] * 4
    finally:
        store.close()
