"""The zone users: never root, one per zone, resolved from a name or UID:GID, and their setpriv argv."""

from __future__ import annotations

import re
import shutil
import sys
import tempfile
from pathlib import Path

import pytest
from pydantic import ValidationError

from medvault.errors import IsolationError
from medvault.isolation import IsolationPolicy
from medvault.isolation._workload import check_distinct, readable_for, resolve, share_data_dir
from tests.conftest import require_root


@pytest.mark.parametrize("key", ["dmz_user", "vault_user"])
@pytest.mark.parametrize("user", ["root", "0:100", "100:0", "00:00", "a b", "1:2:3"])
def test_root_or_malformed_workload_users_are_refused(key: str, user: str) -> None:
    """A zone user that is root (by name or uid/gid 0) or malformed is refused by the policy."""
    with pytest.raises(ValidationError, match=key):
        IsolationPolicy.model_validate({key: user})


def test_one_user_for_both_zones_is_refused() -> None:
    """The dmz and the vault may not share a user: the policy says why and what to set."""
    with pytest.raises(ValidationError, match="must differ"):
        IsolationPolicy.model_validate({"dmz_user": "mv", "vault_user": "mv"})


def test_the_old_shared_workload_user_key_names_its_replacement() -> None:
    """A config that still sets `workload_user` is refused with the keys that replace it."""
    with pytest.raises(ValidationError, match=r"dmz_user and isolation\.vault_user"):
        IsolationPolicy.model_validate({"workload_user": "medvault"})


@pytest.mark.parametrize(("dmz", "vault"), [("64123:64123", "64123:64124"), ("64123:64123", "64124:64123")])
def test_zone_users_sharing_a_uid_or_gid_are_refused(dmz: str, vault: str) -> None:
    """Two names for one uid or one gid are caught once resolved (the policy sees only the names)."""
    users = {"dmz": resolve(dmz, create=False), "vault": resolve(vault, create=False)}
    with pytest.raises(IsolationError, match="share"):
        check_distinct(users)


@pytest.mark.root
def test_unreadable_model_file_is_refused_for_the_vault_user() -> None:
    """A model file the vault user cannot read stops start-up with the path and the fix; a readable one
    passes."""
    require_root()
    user = resolve("64124:64124", create=False)
    folder = Path(tempfile.mkdtemp(prefix="mvt-model-", dir="/tmp"))
    try:
        folder.chmod(0o755)
        model = folder / "model.gguf"
        model.write_text("weights")
        model.chmod(0o644)
        readable_for(user, Path(sys.executable), [model])
        model.chmod(0o600)
        with pytest.raises(IsolationError, match=re.escape(f"or read one of {model}")):
            readable_for(user, Path(sys.executable), [model])
    finally:
        shutil.rmtree(folder)


def test_numeric_user_resolves_without_a_passwd_entry() -> None:
    """`UID:GID` needs no passwd entry, and setpriv drops groups, capabilities and new privileges."""
    user = resolve("64123:64124", create=False)
    assert (user.uid, user.gid) == (64123, 64124)
    argv = user.setpriv()
    assert argv[0] == "setpriv" and argv[-1] == "--"
    for flag in ("--reuid=64123", "--regid=64124", "--clear-groups", "--bounding-set=-all", "--no-new-privs"):
        assert flag in argv


def test_missing_named_user_is_an_isolation_error_when_not_created() -> None:
    """A named user that does not exist is reported with the command that creates it."""
    with pytest.raises(IsolationError, match="useradd --system"):
        resolve("mv-no-such-user", create=False)


def test_default_zone_users_are_one_per_zone() -> None:
    """By default the gateway runs as `medvault-gw` and the engines as `medvault-inf`."""
    policy = IsolationPolicy()
    assert (policy.dmz_user, policy.vault_user) == ("medvault-gw", "medvault-inf")


def test_a_link_planted_beside_the_database_is_never_chowned() -> None:
    """A `-wal` swapped for a link to a root file is refused, and the link's target keeps its owner."""
    require_root()
    base = Path(tempfile.mkdtemp(prefix="mv-link-", dir="/tmp"))  # the workload user must traverse it
    try:
        base.chmod(0o755)
        data = base / "data"
        data.mkdir()
        target = base / "root-only.txt"
        target.write_text("root's\n")
        target.chmod(0o644)
        db, wal = data / "medvault.db", data / "medvault.db-wal"
        db.write_bytes(b"")
        wal.symlink_to(target)
        user = resolve("64123:64124", create=False)
        with pytest.raises(IsolationError, match=re.escape(str(wal))):
            share_data_dir(data, user, [db, wal])
        assert (target.stat().st_uid, target.stat().st_mode & 0o777) == (0, 0o644)
        assert db.stat().st_uid == 64123  # the plain file before it was handed over
    finally:
        shutil.rmtree(base)
