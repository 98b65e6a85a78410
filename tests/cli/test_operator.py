"""The CLI's audit events name the operator from the real uid, not from LOGNAME or USER."""

from __future__ import annotations

import os
import pwd
import subprocess
import sys
from pathlib import Path

import pytest

from medvault.cli._common import operator
from medvault.store import Store


def test_forged_logname_does_not_change_the_recorded_operator(tmp_path: Path) -> None:
    """`keys create` with LOGNAME and USER forged records the account of the real uid."""
    data_dir = tmp_path / "data"
    env = {**os.environ, "MEDVAULT_DATA_DIR": str(data_dir), "LOGNAME": "dr-forged", "USER": "dr-forged"}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "medvault",
            "keys",
            "create",
            "--init",
            "--user",
            "alice",
            "--role",
            "clinician",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    store = Store.open(f"sqlite:///{data_dir / 'medvault.db'}")
    try:
        events = [stored.event for stored in store.audit_events() if stored.event.action == "keys.create"]
    finally:
        store.close()
    assert [event.user for event in events] == [pwd.getpwuid(os.getuid()).pw_name]
    assert all(event.client_kind == "cli" for event in events)


def _name(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"uid {uid}"


@pytest.mark.parametrize(
    ("loginuid", "login"),
    [
        ("4294967295", None),  # no login session: a daemon
        (str(os.getuid()), None),  # logged in as the same account
        ("not a number", None),
        (None, None),  # no such file: a kernel without audit
        ("65534", 65534),
        ("4242", 4242),  # a login uid without a passwd entry (most likely)
    ],
)
def test_the_login_user_is_recorded_when_it_differs(
    tmp_path: Path, loginuid: str | None, login: int | None
) -> None:
    """Under sudo the operator is the real uid's account and, when the audit login uid is set and differs,
    the account that logged in: `root (login alice)`."""
    proc = tmp_path / "loginuid"
    if loginuid is not None:
        proc.write_text(loginuid)
    own = _name(os.getuid())
    expected = own if login is None else f"{own} (login {_name(login)})"
    assert operator(proc) == expected
    assert len(operator(proc)) <= 128
