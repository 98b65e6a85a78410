"""The CLI's audit events name the operator from the real uid, not from LOGNAME or USER."""

from __future__ import annotations

import os
import pwd
import subprocess
import sys
from pathlib import Path

from medvault.store import Store


def test_forged_logname_does_not_change_the_recorded_operator(tmp_path: Path) -> None:
    """`keys create` with LOGNAME and USER forged records the account of the real uid."""
    data_dir = tmp_path / "data"
    env = {**os.environ, "MEDVAULT_DATA_DIR": str(data_dir), "LOGNAME": "dr-forged", "USER": "dr-forged"}
    result = subprocess.run(
        [sys.executable, "-m", "medvault", "keys", "create", "--user", "alice", "--role", "clinician"],
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
