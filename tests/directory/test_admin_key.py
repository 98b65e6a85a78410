"""A directory account named admin cannot take over the bootstrap admin key (`ensure_admin_key`)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from medvault.config import Settings
from medvault.directory import Authenticator, DirectoryUser
from medvault.store import Role, Store
from medvault.store._directory_users import admit_directory_user
from tests.gateway.test_wiring import FakeDirectory


def test_a_directory_admin_neither_owns_nor_judges_the_bootstrap_key(store: Store, tmp_path: Path) -> None:
    """The review's scenario: a directory account "admin" (a clinician) signs in once, then leaves the
    directory. The bootstrap key stays an admin key of its own owner and the directory is never asked
    about it, also with the directory switched off. Control: that account's own key is judged by the
    directory (valid while its entry is there, refused once it is gone)."""
    store.ensure_admin_key(None, tmp_path / "admin.key")
    bootstrap = store.authenticate_key((tmp_path / "admin.key").read_text().strip())
    assert bootstrap is not None and bootstrap.role is Role.ADMIN
    directory = FakeDirectory()
    settings = Settings().directory
    auth = Authenticator(store, settings, client=directory)  # type: ignore[arg-type]
    entry = DirectoryUser("admin", "uid=admin,ou=people,dc=example", "uuid-x", Role.CLINICIAN)
    directory.entries["admin"] = entry
    assert admit_directory_user(store, "admin", Role.CLINICIAN, "uuid-x") is None
    _, own = store.create_key("admin", Role.CLINICIAN)
    own_principal = store.authenticate_key(own)
    assert own_principal is not None

    assert asyncio.run(auth.key_still_valid(own_principal)) is True
    assert directory.asked == ["admin"]  # control: the directory judges its user's key
    assert asyncio.run(auth.key_still_valid(bootstrap)) is True
    assert bootstrap.user != "admin" and directory.asked == ["admin"]
    assert asyncio.run(Authenticator(store, settings).key_still_valid(bootstrap)) is True

    del directory.entries["admin"]
    fresh = Authenticator(store, settings, client=directory)  # type: ignore[arg-type]
    assert asyncio.run(fresh.key_still_valid(own_principal)) is False
    assert asyncio.run(fresh.key_still_valid(bootstrap)) is True
    again = store.authenticate_key((tmp_path / "admin.key").read_text().strip())
    assert again == bootstrap
