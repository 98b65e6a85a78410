"""Files other processes read while MedVault writes them: replaced whole, never seen half-written."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any


def write_json_whole(path: Path, content: dict[str, Any]) -> None:
    """Replace `path` with `content` as JSON in one rename: a reader never sees a half-written file."""
    # Temporary names per process and thread: the monitor's thread and the heartbeat's may write at once.
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o755)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    tmp.write_text(json.dumps(content, indent=2, default=str))
    tmp.chmod(0o644)
    tmp.replace(path)
