"""The workload user: never root, resolved from a name or UID:GID, and its setpriv argv."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from medvault.errors import IsolationError
from medvault.isolation import IsolationPolicy
from medvault.isolation._workload import resolve


@pytest.mark.parametrize("user", ["root", "0:100", "100:0", "00:00", "a b", "1:2:3"])
def test_root_or_malformed_workload_users_are_refused(user: str) -> None:
    """A workload user that is root (by name or uid/gid 0) or malformed is refused by the policy."""
    with pytest.raises(ValidationError):
        IsolationPolicy.model_validate({"workload_user": user})


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


def test_default_workload_user_is_medvault() -> None:
    """By default workloads run as the `medvault` system user."""
    assert IsolationPolicy().workload_user == "medvault"
