"""A child process the supervisor keeps running: started, waited for, restarted with backoff, stopped.

A child runs with exactly the environment it is given (see `_environ`), and its output goes through a
pipe to an `OutputPump` (see `_output`), or nowhere: it never holds a log file of its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from pathlib import Path

import structlog

from medvault.errors import MedVaultError
from medvault.supervisor._output import OutputPump

log = structlog.get_logger("medvault.supervisor")

_BACKOFF_START_S = 1.0
_BACKOFF_MAX_S = 30.0
_STABLE_AFTER_S = 60.0  # a run this long resets the backoff

ReadyCheck = Callable[[], Awaitable[bool]]
# Asked before each restart: False leaves the process down (the check logs why).
RestartCheck = Callable[[], Awaitable[bool]]


async def _always() -> bool:
    return True


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
        output: OutputPump | None = None,
        env: Mapping[str, str] | None = None,
        start_timeout_s: float = 180.0,
        on_spawn: Callable[[], None] = lambda: None,
        may_restart: RestartCheck = _always,
    ) -> None:
        self.name = name
        # An engine is restarted only while it would serve the weights it started with (see _layout).
        self._may_restart = may_restart
        # Runs once a (re)started process has its pid, and again once it is ready: the supervisor records
        # both, so `status` shows a restarted worker loading and then serving.
        self._on_spawn = on_spawn
        self.argv = list(argv)
        self._ready = ready
        self.output = output
        self._env = dict(env or {})  # the whole environment: nothing is inherited
        self._copying: asyncio.Task[None] | None = None
        self._start_timeout_s = start_timeout_s
        self.process: asyncio.subprocess.Process | None = None
        self.restarts = 0
        self.ready = False  # between spawn and readiness a large model may load for many minutes
        self.spawned_at: float | None = None  # wall clock, for `status`
        # True while a (re)start spawns the child: `process` is still the previous one, so what the new
        # child already holds cannot be told yet (read by the engine port check, see _ports).
        self.spawning = False
        self._stopping = False
        self._held = False

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    async def start(self) -> None:
        if self._held:
            raise ProcessFailed(f"{self.name} is held: the service is stopping and must not restart it")
        self._stopping = False
        out = asyncio.subprocess.PIPE if self.output else asyncio.subprocess.DEVNULL
        self.spawning = True
        try:
            self.process = await asyncio.create_subprocess_exec(
                *self.argv,
                stdout=out,
                stderr=asyncio.subprocess.STDOUT if self.output else out,
                stdin=asyncio.subprocess.DEVNULL,
                env=self._env,
                start_new_session=True,
            )
        finally:
            self.spawning = False
        if self.output and self.process.stdout is not None:
            self._copying = asyncio.create_task(self.output.copy(self.process.stdout))
        self.ready, self.spawned_at = False, time.time()
        self._on_spawn()
        await self._wait_ready(self.process)
        self.ready = True
        self._on_spawn()
        log.info("process_ready", process=self.name, pid=self.process.pid)

    async def _wait_ready(self, process: asyncio.subprocess.Process) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._start_timeout_s
        while loop.time() < deadline:
            if process.returncode is not None:
                raise ProcessFailed(
                    f"{self.name} exited with status {process.returncode} while starting; "
                    f"see {self.output.sink.path if self.output else 'its output'}"
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
            if not self._stopping and not await self._may_restart():
                self.ready = False  # `status` shows it down; the rest of the service keeps running
                self._on_spawn()
                log.error("process_not_restarted", process=self.name)
                return
            if self._stopping:  # also while the check ran (it may hash a large model)
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
        if process is not None and process.returncode is None:
            # A sandboxed workload runs under bwrap, which does not pass signals on: the workload itself
            # gets the SIGTERM (and its graceful shutdown), bwrap follows when it exits.
            for pid in workload_pids(process.pid) or [process.pid]:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGTERM)
            try:
                await asyncio.wait_for(process.wait(), grace_s)
            except TimeoutError:
                process.kill()
                await process.wait()
        if self._copying is not None:
            # The last lines reach the log; a grandchild still holding the pipe open must not hang the stop.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(self._copying), 2.0)


def workload_pids(root: int, proc: Path = Path("/proc")) -> list[int]:
    """When `root` is bubblewrap: its descendants that are not bubblewrap's own processes, i.e. what the
    sandbox runs; otherwise nothing (the child is the workload itself).

    Sent SIGTERM first when a child stops, so that a gateway or an engine inside bwrap shuts down
    gracefully instead of dying with the sandbox. Read from /proc (`proc` is a seam for tests).
    """
    children, names = process_table(proc)
    if names.get(root) != "bwrap":
        return []
    return [pid for pid in descendants(root, children) if names.get(pid) != "bwrap"]


def process_table(proc: Path = Path("/proc")) -> tuple[dict[int, list[int]], dict[int, str]]:
    """Every process's children (by parent pid) and name, read from /proc/*/stat in one pass."""
    children: dict[int, list[int]] = {}
    names: dict[int, str] = {}
    for stat in proc.glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            text = stat.read_text()
            pid = int(text.split(" ", 1)[0])
            name, rest = text[text.index("(") + 1 :].rsplit(")", 1)
            children.setdefault(int(rest.split()[1]), []).append(pid)
            names[pid] = name
    return children, names


def descendants(root: int, children: dict[int, list[int]]) -> list[int]:
    """Every process below `root` in `children` (see `process_table`), sorted; `root` itself not."""
    found, todo = [], list(children.get(root, []))
    while todo:
        pid = todo.pop()
        todo += children.get(pid, [])
        found.append(pid)
    return sorted(found)
