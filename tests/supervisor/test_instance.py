"""Instance locks, the supervisor heartbeat, the state the gateway reads, and each child's environment."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from medvault.gateway._app import Gateway
from medvault.isolation import read_state
from medvault.isolation._state import heartbeat_path, write_state
from medvault.supervisor import InstanceRunning, lock_held, read_holder
from medvault.supervisor._environ import engine_environment, gateway_environment
from medvault.supervisor._instance import Heartbeat, InstanceLock

SECRET = "mv-secret-" + os.urandom(6).hex()
OPERATOR_ENV = {
    "PATH": "/usr/bin:/bin",
    "LANG": "de_DE.UTF-8",
    "LC_TIME": "de_DE.UTF-8",
    "TZ": "Europe/Berlin",
    "HOME": "/root",
    "MEDVAULT_ADMIN_KEY": SECRET,
    "MEDVAULT_CONFIG": "/etc/medvault/medvault.toml",
    "MEDVAULT_RETENTION__CONTENT_DAYS": "7",
    "MEDVAULT_DATABASE_URL": "postgresql://mv@db/medvault",
    "PGPASSWORD": SECRET,
    "AWS_SECRET_ACCESS_KEY": SECRET,
    "HTTPS_PROXY": "http://proxy.example:3128",
    "PYTHONPATH": "/tmp/evil",
    "LD_PRELOAD": "/tmp/evil.so",
}

# A process that holds a lock (and, with "beat", a heartbeat) until it is killed.
_HOLDER = """
import sys, time
from pathlib import Path
from medvault.supervisor._instance import Heartbeat, InstanceLock
InstanceLock(Path(sys.argv[1]), "test").acquire(Path(sys.argv[2]))
if sys.argv[3] == "beat":
    Heartbeat(Path(sys.argv[2])).start()
print("ready", flush=True)
time.sleep(600)
"""


def _holder(lock: Path, data_dir: Path, beat: bool = False) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, str(lock), str(data_dir), "beat" if beat else "-"],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None and process.stdout.readline() == "ready\n"
    return process


def test_second_lock_is_refused_naming_the_holder(tmp_path: Path) -> None:
    """While one process holds the lock, another is refused at once with the holder's pid and data dir."""
    lock = tmp_path / "prefix.lock"
    holder = _holder(lock, tmp_path / "first")
    try:
        assert lock_held(lock)
        started = time.monotonic()
        with pytest.raises(InstanceRunning) as refused:
            InstanceLock(lock, "netns prefix 'mv'").acquire(tmp_path / "second")
        assert time.monotonic() - started < 1
        assert f"pid {holder.pid}" in str(refused.value)
        assert str((tmp_path / "first").resolve()) in str(refused.value)
    finally:
        holder.kill()
        holder.wait()


def test_lock_is_free_once_its_holder_is_killed(tmp_path: Path) -> None:
    """SIGKILL of the holder frees the lock: the next acquire works and records the new holder."""
    lock = tmp_path / "prefix.lock"
    holder = _holder(lock, tmp_path / "first")
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    assert not lock_held(lock)
    mine = InstanceLock(lock, "test")
    mine.acquire(tmp_path / "second")
    try:
        assert lock_held(lock)
        recorded = read_holder(lock)
        assert recorded is not None and recorded.pid == os.getpid()
        assert recorded.data_dir == str((tmp_path / "second").resolve())
    finally:
        mine.release()
    assert not lock_held(lock)


def test_lock_file_is_private(tmp_path: Path) -> None:
    """The lock file is its owner's only, so nobody else can hold it to keep MedVault from starting."""
    lock = InstanceLock(tmp_path / "x.lock", "test")
    lock.acquire(tmp_path)
    try:
        assert (lock.path.stat().st_mode & 0o777) == 0o600
    finally:
        lock.release()


def test_state_reads_down_once_the_supervisor_is_killed(tmp_path: Path) -> None:
    """`ok` with a fresh heartbeat reads ok; after SIGKILL of the beating process it reads `down` in ~3 s."""
    write_state(tmp_path, state="ok")
    holder = _holder(tmp_path / "x.lock", tmp_path, beat=True)
    try:
        time.sleep(1.5)  # a beat or two later: still fresh
        assert read_state(tmp_path)["state"] == "ok"
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    deadline = time.monotonic() + 5
    while read_state(tmp_path)["state"] == "ok":
        assert time.monotonic() < deadline, "the state still read ok 5 s after the supervisor died"
        time.sleep(0.2)
    state = read_state(tmp_path)
    assert state["state"] == "down" and "supervisor is not running" in state["reason"]


def test_gateway_view_is_not_ok_without_a_live_supervisor(tmp_path: Path) -> None:
    """The gateway's isolation view (workbench header, metrics) says ok only with a fresh heartbeat."""
    gateway = SimpleNamespace(isolation="on", settings=SimpleNamespace(data_dir=tmp_path))
    write_state(tmp_path, state="ok")
    heartbeat = Heartbeat(tmp_path).start()
    assert Gateway.isolation_state(gateway) == "ok"  # type: ignore[arg-type]
    heartbeat.stop()
    # A supervisor that left, and whose `down` failed before the state said off: not ok either.
    assert Gateway.isolation_state(gateway) == "unknown"  # type: ignore[arg-type]
    assert "has stopped" in read_state(tmp_path)["reason"]
    # What a SIGKILLed supervisor leaves: a heartbeat that stopped moving.
    heartbeat_path(tmp_path).write_text(
        json.dumps({"pid": 1, "at": time.clock_gettime(time.CLOCK_BOOTTIME) - 4})
    )
    assert Gateway.isolation_state(gateway) == "unknown"  # type: ignore[arg-type]
    heartbeat_path(tmp_path).write_text("not json")
    assert Gateway.isolation_state(gateway) == "unknown"  # type: ignore[arg-type]


def test_breached_and_off_are_not_masked_by_the_heartbeat(tmp_path: Path) -> None:
    """A stale heartbeat changes only `ok`: breached stays breached, off stays off."""
    heartbeat_path(tmp_path).parent.mkdir(parents=True)
    heartbeat_path(tmp_path).write_text(json.dumps({"pid": 1, "at": 0}))
    for state in ("breached", "off"):
        write_state(tmp_path, state=state)
        assert read_state(tmp_path)["state"] == state


def test_engine_environment_is_allow_listed() -> None:
    """An engine gets the locale, time zone, search path and its own switches; no MEDVAULT_*, no secret."""
    env = engine_environment(OPERATOR_ENV, {"HF_HUB_OFFLINE": "1"})
    assert env == {
        "PATH": "/usr/bin:/bin",
        "LANG": "de_DE.UTF-8",
        "LC_TIME": "de_DE.UTF-8",
        "TZ": "Europe/Berlin",
        "HF_HUB_OFFLINE": "1",
    }


def test_gateway_environment_has_settings_but_no_secret() -> None:
    """The gateway gets the non-secret MEDVAULT_* settings and its explicit ones, never the admin key."""
    env = gateway_environment(OPERATOR_ENV, {"MEDVAULT_DATA_DIR": "/srv/medvault"})
    assert SECRET not in "".join(f"{k}={v}" for k, v in env.items())
    assert env["MEDVAULT_RETENTION__CONTENT_DAYS"] == "7" and env["MEDVAULT_DATA_DIR"] == "/srv/medvault"
    assert env["MEDVAULT_DATABASE_URL"] == "postgresql://mv@db/medvault"
    for name in ("MEDVAULT_ADMIN_KEY", "MEDVAULT_CONFIG", "HOME", "HTTPS_PROXY", "PYTHONPATH", "LD_PRELOAD"):
        assert name not in env


def test_environment_has_a_search_path_even_when_the_operator_has_none() -> None:
    """A supervisor started without PATH still gives its children a standard one."""
    assert engine_environment({}, {})["PATH"] == "/usr/local/bin:/usr/bin:/bin"
