"""A child process the supervisor keeps running: started, waited for, restarted with backoff, stopped."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path

import structlog

from medvault.errors import MedVaultError

log = structlog.get_logger("medvault.supervisor")

_BACKOFF_START_S = 1.0
_BACKOFF_MAX_S = 30.0
_STABLE_AFTER_S = 60.0  # a run this long resets the backoff

ReadyCheck = Callable[[], Awaitable[bool]]


class ProcessFailed(MedVaultError):
    """A managed process exited while starting, or never became ready."""


class ManagedProcess:
    """One supervised child: `start()` waits until `ready()` says yes; `keep_alive()` restarts it."""

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        ready: ReadyCheck,
        *,
        log_path: Path | None = None,
        env: dict[str, str] | None = None,
        start_timeout_s: float = 180.0,
    ) -> None:
        self.name = name
        self.argv = list(argv)
        self._ready = ready
        self.log_path = log_path
        self._env = env
        self._start_timeout_s = start_timeout_s
        self.process: asyncio.subprocess.Process | None = None
        self.restarts = 0
        self._stopping = False
        self._held = False

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    async def start(self) -> None:
        if self._held:
            raise ProcessFailed(f"{self.name} is held: the service is stopping and must not restart it")
        self._stopping = False
        if self.log_path:
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
        out = open(self.log_path, "ab") if self.log_path else asyncio.subprocess.DEVNULL  # noqa: SIM115
        try:
            self.process = await asyncio.create_subprocess_exec(
                *self.argv,
                stdout=out,
                stderr=out,
                stdin=asyncio.subprocess.DEVNULL,
                env={**os.environ, **(self._env or {})},
                start_new_session=True,
            )
        finally:
            if not isinstance(out, int):
                out.close()
        await self._wait_ready(self.process)
        log.info("process_ready", process=self.name, pid=self.process.pid)

    async def _wait_ready(self, process: asyncio.subprocess.Process) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._start_timeout_s
        while loop.time() < deadline:
            if process.returncode is not None:
                raise ProcessFailed(
                    f"{self.name} exited with status {process.returncode} while starting; "
                    f"see {self.log_path or 'its output'}"
                )
            if await self._ready():
                return
            await asyncio.sleep(0.2)
        await self.stop()
        raise ProcessFailed(f"{self.name} did not become ready within {self._start_timeout_s:.0f} s")

    async def keep_alive(self) -> None:
        """Restart the process whenever it dies, backing off exponentially, until `stop()`."""
        backoff = _BACKOFF_START_S
        loop = asyncio.get_running_loop()
        while not self._stopping and self.process is not None:
            started = loop.time()
            status = await self.process.wait()
            if self._stopping:
                return
            if loop.time() - started > _STABLE_AFTER_S:
                backoff = _BACKOFF_START_S
            log.warning("process_died", process=self.name, status=status, restart_in_s=backoff)
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, _BACKOFF_MAX_S)
            if self._stopping:
                return
            self.restarts += 1
            try:
                await self.start()
            except ProcessFailed as exc:
                log.error("process_restart_failed", process=self.name, error=str(exc))

    def hold(self) -> None:
        """Never start this process again (thread-safe: flags the restart loop and `start` check)."""
        self._held = True
        self._stopping = True

    async def stop(self, grace_s: float = 10.0) -> None:
        """SIGTERM, then SIGKILL after `grace_s`."""
        self._stopping = True
        process = self.process
        if process is None or process.returncode is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(process.wait(), grace_s)
        except TimeoutError:
            process.kill()
            await process.wait()
