"""The persisted isolation state in the data directory: readable without root.

`breached` survives restarts on purpose: only `medvault isolation reset` clears it, after an admin has
investigated. The file also remembers what `verify`, `status` and `down` need to find the running
topology from another process (host namespace, gateway port, zones).
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

OFF: dict[str, Any] = {"state": "off", "host_netns": None, "zones": []}


def state_path(data_dir: Path) -> Path:
    return data_dir / "isolation" / "state.json"


def read_state(data_dir: Path) -> dict[str, Any]:
    """The persisted isolation state: `{"state": "ok"|"breached"|"off", "host_netns", "zones", ...}`."""
    path = state_path(data_dir)
    try:
        state: dict[str, Any] = json.loads(path.read_text())
    except FileNotFoundError:
        return dict(OFF)
    except (OSError, ValueError) as exc:
        # An unreadable state must not read as "off": report it as breached so nothing starts on it.
        return {**OFF, "state": "breached", "reason": f"state file {path} unreadable: {exc}"}
    return state


def write_state(data_dir: Path, **fields: Any) -> dict[str, Any]:
    """Atomically replace the persisted state (write to a temporary file, then rename).

    The file is world-readable and writable by its owner only: the gateway (an unprivileged zone
    workload) reads it for `/readyz`, and must never be able to change it.
    """
    path = state_path(data_dir)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o755)
    state = {**OFF, **fields, "since": datetime.now(UTC).isoformat()}
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(state, indent=2, default=str))
    tmp.chmod(0o644)
    tmp.replace(path)
    return state
