"""The supervisor on a breach or a monitor failure: stop first, then audit; never restart what it held."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

import pytest

from medvault.config import Settings
from medvault.errors import IsolationError, MedVaultError
from medvault.supervisor import ManagedProcess, ProcessFailed, Supervisor


class _Process:
    """Stands in for a ManagedProcess: notes when it is held."""

    def __init__(self, name: str, journal: list[str]) -> None:
        self.name, self.pid = name, None
        self._journal = journal

    def hold(self) -> None:
        self._journal.append(f"hold {self.name}")


class _Recorder(Supervisor):
    """A supervisor whose audit writes go to a journal (or fail), instead of a database."""

    def __init__(self, settings: Settings, journal: list[str], *, audit_fails: bool = False) -> None:
        super().__init__(settings, config_file=None, isolate=False, announce=journal.append)
        self.journal, self.audit_fails = journal, audit_fails

    def _record(self, action: str, status: int, detail: dict[str, Any]) -> None:
        self.journal.append(f"audit {action} {detail['reason']}")
        if self.audit_fails:
            raise MedVaultError("the database is locked")


async def _supervisor(tmp_path: Path, *, audit_fails: bool = False) -> _Recorder:
    journal: list[str] = []
    sup = _Recorder(Settings(data_dir=tmp_path), journal, audit_fails=audit_fails)
    sup._loop = asyncio.get_running_loop()
    sup._processes = [_Process(n, journal) for n in ("engine", "gateway")]  # type: ignore[list-item]
    return sup


@pytest.mark.parametrize(
    ("react", "code", "action"),
    [("_on_breach", 3, "isolation.breach"), ("_on_monitor_failure", 4, "isolation.monitor_failed")],
)
async def test_halt_comes_before_the_audit_write(tmp_path: Path, react: str, code: int, action: str) -> None:
    """Every workload is held and the stop is announced before the audit event is written."""
    sup = await _supervisor(tmp_path)
    getattr(sup, react)("rule dropped")
    await asyncio.sleep(0)  # the stop is handed to the loop thread-safely
    assert sup._stop.is_set() and sup._exit_code == code
    holds = [entry for entry in sup.journal if entry.startswith("hold")]
    audit = sup.journal.index(f"audit {action} rule dropped")
    assert holds == ["hold engine", "hold gateway"]
    assert max(sup.journal.index(h) for h in holds) < audit


class _UnlistableZones:
    """Stands in for the isolation: its zone processes cannot be listed."""

    def kill_zone_processes(self) -> list[int]:
        raise IsolationError("cannot list the processes in /proc: Permission denied")


async def test_monitor_failure_is_audited_even_when_the_zones_cannot_be_listed(tmp_path: Path) -> None:
    """A kill that fails because the zones cannot be listed keeps the halt and still writes the event."""
    sup = await _supervisor(tmp_path)
    sup._iso = _UnlistableZones()
    sup._on_monitor_failure("probes silent")
    await asyncio.sleep(0)
    assert sup._stop.is_set() and sup._exit_code == 4
    assert sup.journal[-1] == "audit isolation.monitor_failed probes silent"


async def test_failing_audit_write_does_not_keep_the_service_up(tmp_path: Path) -> None:
    """An audit write that fails after a breach is swallowed (and logged): the halt stands, exit 3."""
    sup = await _supervisor(tmp_path, audit_fails=True)
    sup._on_breach("table deleted")
    await asyncio.sleep(0)
    assert sup._stop.is_set() and sup._exit_code == 3
    assert sup.journal[-1] == "audit isolation.breach table deleted"


async def test_long_breach_reason_is_cut_to_fit_the_audit_store(tmp_path: Path) -> None:
    """The reason written to the audit trail stays within the store's 128-character cap."""
    sup = await _supervisor(tmp_path)
    sup._on_breach("x" * 500)
    audit = next(entry for entry in sup.journal if entry.startswith("audit"))
    assert len(audit.removeprefix("audit isolation.breach ")) == 120


def _short_lived(seconds: float) -> ManagedProcess:
    async def ready() -> bool:
        return True

    argv = [sys.executable, "-c", f"import time; time.sleep({seconds})"]
    return ManagedProcess("worker", argv, ready, start_timeout_s=5)


async def test_held_process_is_not_restarted_after_it_dies() -> None:
    """A process held while its restart loop waits out the backoff is never started again."""
    process = _short_lived(0.1)
    await process.start()
    first = process.pid
    watcher = asyncio.create_task(process.keep_alive())
    assert process.process is not None
    await process.process.wait()
    await asyncio.sleep(0.2)  # died, and the loop is in its 1 s backoff
    process.hold()
    await asyncio.wait_for(watcher, timeout=3)
    assert process.restarts == 0 and process.pid == first


async def test_held_process_refuses_to_start() -> None:
    """`start()` on a held process raises, so no code path can bring a workload back into a cut zone."""
    process = _short_lived(5)
    process.hold()
    with pytest.raises(ProcessFailed, match="held"):
        await process.start()
    assert process.process is None


async def test_unheld_process_is_restarted() -> None:
    """The control: without a hold, a process that dies is started again after the backoff."""
    process = _short_lived(0.1)
    await process.start()
    first = process.pid
    watcher = asyncio.create_task(process.keep_alive())
    deadline = asyncio.get_running_loop().time() + 5
    while process.restarts == 0:
        assert asyncio.get_running_loop().time() < deadline, "never restarted"
        await asyncio.sleep(0.05)
    process.hold()
    await process.stop(grace_s=1)
    await asyncio.wait_for(watcher, timeout=3)
    assert process.pid != first
