"""The persisted isolation state in the data directory: readable without root.

`breached` survives restarts on purpose: only `medvault isolation reset` clears it, after an admin has
investigated. The file also remembers what `verify`, `status` and `down` need to find the running
topology from another process (host namespace, gateway port, zones).

`ok` also needs a live supervisor: the supervisor refreshes a heartbeat file beside the state every
second, and a state read while that heartbeat is stale says `down` instead (a supervisor killed with
SIGKILL cannot write `off` on its way out). A supervisor that leaves replaces its heartbeat with a
"stopped" mark, never removes it: should its last step (`down`) fail before the state says `off`, the
state still reads `down`. A state with no heartbeat file at all was written by the isolation library
used without a supervisor (its own tests); the supervisor writes its first beat before it builds
anything.

The last `medvault verify` is recorded beside the state (`record_verify`), naming the state it verified
by that state's `since`; `read_state` adds it (`verified_at`, `verify_ok`, `verify_failed`) only while
that very state is still the current one. So a verify speaks only of the state it saw: after a breach,
`down` or a new `up` there is no "last verify" until the next one. A separate file, so that the verify
(another process) never rewrites the state file itself and can never overwrite a breach written at the
same moment.
"""

from __future__ import annotations

import json
import os
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from medvault._files import write_json_whole

OFF: dict[str, Any] = {"state": "off", "host_netns": None, "zones": []}
HEARTBEAT_INTERVAL_S = 1.0
HEARTBEAT_STALE_S = 3.0
# CLOCK_BOOTTIME: the same for every process on the host (no time namespaces here), never set back by NTP,
# and counting through suspend, so a supervisor frozen by a suspend does not look alive.
_CLOCK = time.CLOCK_BOOTTIME


def state_path(data_dir: Path) -> Path:
    return data_dir / "isolation" / "state.json"


def read_state(data_dir: Path) -> dict[str, Any]:
    """The persisted isolation state: `{"state": "ok"|"breached"|"off"|"down", "host_netns", "zones", ...}`.

    `down`: the file says ok, but the supervisor's heartbeat is stale (see the module docstring).
    """
    path = state_path(data_dir)
    try:
        state: dict[str, Any] = json.loads(path.read_text())
    except FileNotFoundError:
        return dict(OFF)
    except (OSError, ValueError) as exc:
        # An unreadable state must not read as "off": report it as breached so nothing starts on it.
        return {**OFF, "state": "breached", "reason": f"state file {path} unreadable: {exc}"}
    state.update(_last_verify(data_dir, state.get("since")))
    if state.get("state") == "ok":
        gone = _supervisor_gone(data_dir)
        if gone:
            return {**state, "state": "down", "reason": gone}
    return state


def verify_path(data_dir: Path) -> Path:
    return data_dir / "isolation" / "verify.json"


def record_verify(data_dir: Path, since: object, ok: bool, failed: list[str]) -> bool:
    """Record a verify's outcome for the state written at `since` (as `read_state` returned it).

    Returns False, writing nothing, when there is no state to speak of (none recorded, or no `since`).
    """
    if not isinstance(since, str):
        return False
    record = {"since": since, "verified_at": datetime.now(UTC).isoformat(), "ok": ok, "failed": failed}
    write_json_whole(verify_path(data_dir), record)
    return True


def _last_verify(data_dir: Path, since: object) -> dict[str, Any]:
    """`verified_at`, `verify_ok`, `verify_failed` of the last verify of the state written at `since`."""
    try:
        record = json.loads(verify_path(data_dir).read_text())
        if since is None or record["since"] != since:
            return {}  # a verify of an earlier state says nothing about this one
        return {"verified_at": str(record["verified_at"]), "verify_ok": record["ok"] is True,
                "verify_failed": [str(name) for name in record["failed"]]}  # fmt: skip
    except FileNotFoundError:
        return {}
    except (OSError, ValueError, KeyError, TypeError) as exc:  # never a pass: a damaged record failed
        return {
            "verified_at": None,
            "verify_ok": False,
            "verify_failed": [f"verify record unreadable: {exc}"],
        }


def heartbeat_path(data_dir: Path) -> Path:
    return data_dir / "isolation" / "heartbeat"


def beat(data_dir: Path) -> None:
    """Record that this process, the supervisor, is alive now (readable by all, like the state)."""
    write_json_whole(heartbeat_path(data_dir), {"pid": os.getpid(), "at": time.clock_gettime(_CLOCK)})


def stop_beating(data_dir: Path) -> None:
    """Mark the heartbeat stopped: the supervisor is leaving, so an `ok` left behind is not to be trusted."""
    write_json_whole(heartbeat_path(data_dir), {"pid": os.getpid(), "stopped": True})


def _supervisor_gone(data_dir: Path) -> str | None:
    """Why the heartbeat shows no live supervisor, or None when it is fresh or was never written."""
    path = heartbeat_path(data_dir)
    try:
        record = json.loads(path.read_text())
        if record.get("stopped"):
            return f"the supervisor (pid {record.get('pid')}) has stopped"
        age = time.clock_gettime(_CLOCK) - float(record["at"])
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return f"supervisor heartbeat {path} unreadable ({exc}): the supervisor is not running"
    if not -HEARTBEAT_STALE_S < age < HEARTBEAT_STALE_S:  # negative: written before a reboot
        return f"no supervisor heartbeat for {age:.0f} s: the supervisor is not running"
    return None


def write_state(data_dir: Path, **fields: Any) -> dict[str, Any]:
    """Atomically replace the persisted state (write to a temporary file, then rename).

    The file is world-readable and writable by its owner only: the gateway (an unprivileged zone
    workload) reads it for `/readyz`, and must never be able to change it.
    """
    state = {**OFF, **fields, "since": datetime.now(UTC).isoformat()}
    write_json_whole(state_path(data_dir), state)
    return state
