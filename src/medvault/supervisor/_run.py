"""`medvault up`: the supervisor that owns every other MedVault process.

It runs in the host role, outside every zone: it sets up isolation, starts the embedded engines in the
vault zone and the gateway in the dmz zone (or all on loopback with `--no-isolation`), opens the ingress,
runs the isolation monitor, restarts what dies, and on a breach or a monitor failure stops everything and
stays down (fail closed). How the settings become processes (placement, command lines, probes, logs,
the state file) is `_layout.Layout`, which `Supervisor` mixes in.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import signal
import time
from collections.abc import Awaitable, Callable, Mapping
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import structlog

from medvault import tls
from medvault.backends import Runtime, resolve_runtime
from medvault.config import Settings, bundled_model_path, file_digest
from medvault.errors import ConfigError, IsolationError, MedVaultError
from medvault.governance import register_digests
from medvault.store import AuditEvent, Store
from medvault.supervisor._instance import Heartbeat, InstanceLock, data_dir_lock, isolation_locks
from medvault.supervisor._layout import GATEWAY_ZONE_PORT, Layout, Placement, run_dir, state_file
from medvault.supervisor._output import purge_logs
from medvault.supervisor._ports import PortGuard
from medvault.supervisor._process import ManagedProcess, ProcessFailed

if TYPE_CHECKING:  # the isolation machinery is loaded only when isolating (see _layout)
    from medvault.isolation import Monitor
    from medvault.isolation._ingress import IngressHandle

__all__ = ["GATEWAY_ZONE_PORT", "Supervisor", "state_file"]

log = structlog.get_logger("medvault.supervisor")


class Supervisor(Layout):
    """Start, watch and stop one MedVault deployment."""

    def __init__(
        self,
        settings: Settings,
        *,
        config_file: Path | None,
        isolate: bool,
        host_netns: str | None = None,
        announce: Any = print,
        status: Callable[[str], AbstractContextManager[Any]] = lambda _text: contextlib.nullcontext(),
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self.settings = settings
        self.config_file = config_file
        self.isolate = isolate
        self.host_netns = host_netns
        self._announce = announce
        self._status = status  # a spinner while models load (Rich's console.status in the CLI)
        self._stop = asyncio.Event()
        self._exit_code = 0
        self._processes: list[ManagedProcess] = []
        self._place = Placement()
        self._iso: Any = None
        self._monitor: Monitor | None = None
        self._environ = dict(environ or {})  # the operator's environment: children get allow-listed parts

    # -- set-up -------------------------------------------------------------------------------------
    def _prepare_store(self) -> str | None:
        store = Store.open(self.settings.resolved_database_url)
        try:
            store.migrate()
            seed = self.settings.admin_key.get_secret_value() if self.settings.admin_key else None
            return store.ensure_admin_key(seed, self.settings.data_dir / "admin.key")
        finally:
            store.close()

    def _register_models(self, runtime: Runtime) -> None:
        """Record new weights as pending (the bundled model's approved on first sight), and say which
        models wait for an approval: they start, but the gateway does not offer them until then."""
        store = Store.open(self.settings.resolved_database_url)
        try:
            held = register_digests(store, runtime, functools.cache(self._bundled_digest))
        finally:
            store.close()
        for reason in held:
            log.warning("model_held", reason=reason)
            self._announce(f"NOT SERVED: {reason}")

    def _bundled_digest(self) -> str | None:
        try:
            return file_digest(bundled_model_path(), self.settings.data_dir)
        except ConfigError:  # not installed: nothing is bundled, so nothing is approved by itself
            return None

    async def _start_engines(self, engines: list[ManagedProcess], ports: PortGuard) -> None:
        """Start every engine at once; the status line counts the ready ones and the seconds (a large model
        loads for many minutes), and the log names those still loading every half minute. An engine that
        fails to start has its port checked at once: one that died of EADDRINUSE names its thief."""
        loop = asyncio.get_running_loop()
        began = loop.time()
        ready: list[str] = []

        async def start(engine: ManagedProcess) -> None:
            try:
                await engine.start()
            except ProcessFailed:
                await ports.check()
                raise
            ready.append(engine.name)
            self._record_processes()  # `status` shows which engines are still loading

        def progress() -> str:
            return f"loading {len(engines)} engine(s): {len(ready)} ready after {loop.time() - began:.0f} s …"

        starting = asyncio.gather(*(start(e) for e in engines))
        try:
            with self._status(progress()) as spinner:
                ticks = 0
                while not starting.done():
                    await asyncio.wait([starting], timeout=1.0)
                    ticks += 1
                    if hasattr(spinner, "update"):  # Rich's status; the tests' null context has none
                        spinner.update(progress())
                    if ticks % 30 == 0 and not starting.done():
                        waiting = [e.name for e in engines if e.name not in ready]
                        log.info("engines_loading", waiting=waiting, elapsed_s=round(loop.time() - began))
                await starting
        finally:
            # A stop (SIGTERM, a breach) while loading ends the starts here; the outcome is the halt's, and
            # retrieving theirs keeps asyncio from logging "exception was never retrieved".
            starting.cancel()
            starting.add_done_callback(lambda done: done.cancelled() or done.exception())

    async def _unless_stopped(self, work: Awaitable[None]) -> bool:
        """Run `work` unless a stop is asked for first (SIGTERM or Ctrl-C while a large model loads for
        many minutes): then cancel it and return False."""
        task = asyncio.ensure_future(work)
        stopped = asyncio.ensure_future(self._stop.wait())
        await asyncio.wait([task, stopped], return_when=asyncio.FIRST_COMPLETED)
        if task.done():
            stopped.cancel()
            task.result()  # a failed start raises here
            return True
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        return False

    # -- breach and failure, called from the monitor's thread ---------------------------------------
    # The halt comes first: nothing (not even a failing audit write) may keep the service up, or let
    # the process watchers restart a killed workload into a cut zone.
    def _on_breach(self, reason: str) -> None:
        self._halt(
            3,
            f"ISOLATION BREACH: {reason}. Zones are cut and workloads killed. "
            "Investigate, then run `medvault isolation reset`.",
        )
        self._record_safely("isolation.breach", reason)

    def _on_port_hijack(self, reason: str) -> None:
        """A process not an engine's own listens on its address and port (see _ports): with isolation a
        breach (a vault workload took a sibling's traffic), through the monitor's kill switch; without,
        the service stops (fail closed)."""
        if self._monitor is not None:
            self._monitor.breach(f"engine port taken over: {reason}")
            return
        self._halt(5, f"ENGINE PORT TAKEN OVER: {reason}; stopping the service (fail closed)")
        self._record_safely("engine.port_taken", reason)

    def _on_port_check_failure(self, reason: str) -> None:
        """The port check cannot list the sockets or the processes: as unwatched as with a failed monitor,
        and stopped the same way."""
        if self._iso is not None:
            self._on_monitor_failure(reason)
        else:
            self._halt(5, f"{reason}; stopping the service (fail closed)")

    def _on_monitor_failure(self, reason: str) -> None:
        self._halt(4, f"isolation monitor failed ({reason}); stopping the service (fail closed)")
        if self._iso is not None:
            # Unwatched zones are stopped now, not after the audit write: and no gateway then runs while
            # the supervisor opens the database files it owns (see docs/security-model.md).
            try:
                self._iso.kill_zone_processes()
            except IsolationError as exc:  # the halt stands and the event is still written
                log.error("zone_kill_failed", error=str(exc))
        self._record_safely("isolation.monitor_failed", reason)

    def _halt(self, code: int, message: str) -> None:
        self._exit_code = code
        for process in self._processes:
            process.hold()
        log.error("halt", code=code, message=message)
        self._announce(message)
        self._loop.call_soon_threadsafe(self._stop.set)

    def _record_safely(self, action: str, reason: str) -> None:
        try:  # audit details are short by design (the store caps strings at 128 characters)
            self._record(action, 500, {"reason": reason[:120]})
        except (
            MedVaultError,
            ValueError,
        ) as exc:  # the halt stands; say loudly that the trail lacks this event
            log.error("audit_write_failed", action=action, error=str(exc))

    def _record(self, action: str, status: int, detail: dict[str, Any]) -> None:
        store = Store.open(self.settings.resolved_database_url)
        try:
            store.record_audit(
                AuditEvent(
                    ts=datetime.now(UTC),
                    user="medvault",
                    role="system",
                    action=action,
                    model_id=None,
                    model_digest=None,
                    template_id=None,
                    template_version=None,
                    prompt_tokens=None,
                    completion_tokens=None,
                    latency_ms=None,
                    status=status,
                    client_kind="supervisor",
                    request_id=f"sup-{time.time_ns()}",
                    detail=detail,
                )
            )
        finally:
            store.close()

    # -- the run ------------------------------------------------------------------------------------
    async def run(self) -> int:
        """Lock this instance, then build, serve and supervise until stopped; returns the exit status.

        The locks come first, before the database, the leftovers of a crashed run, or anything else is
        touched: a second `up` for a running prefix or data directory refuses (`InstanceRunning`).
        """
        self._loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            self._loop.add_signal_handler(sig, self._stop.set)
        self.settings.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        locks = [InstanceLock(data_dir_lock(self.settings.data_dir), f"data dir {self.settings.data_dir}")]
        if self.isolate:
            prefix = self.settings.isolation.netns_prefix
            locks += [InstanceLock(path, what) for path, what in isolation_locks(prefix, self.host_netns)]
        taken: list[InstanceLock] = []
        try:
            for lock in locks:
                lock.acquire(self.settings.data_dir)
                taken.append(lock)
            heartbeat = Heartbeat(self.settings.data_dir).start()
            try:
                return await self._serve()
            finally:
                heartbeat.stop()
        finally:
            for lock in reversed(taken):
                lock.release()

    async def _serve(self) -> int:
        try:
            return await self._build_and_serve()
        except MedVaultError as exc:
            if self._exit_code == 0:
                raise
            # The kill switch (or a failed monitor) killed the zones: an engine or gateway start failed
            # for that, and the halt's status, not the start's error, is the outcome. The error is still
            # logged: it may be one of its own (zone processes that survived the kill, say).
            log.error("stopped_after_halt", error=str(exc), status=self._exit_code)
            return self._exit_code

    async def _build_and_serve(self) -> int:
        key_note = await asyncio.to_thread(self._prepare_store)
        ingress: IngressHandle | None = None
        monitor: Monitor | None = None
        ports: PortGuard | None = None
        place = Placement()
        await asyncio.to_thread(self._purge_logs)
        purging = asyncio.create_task(self._purge_logs_hourly())
        try:
            self._write_state(place)  # before anything is built, so `down` can clean up after a crash
            place = self._place = await asyncio.to_thread(self._placement)
            if self._iso is not None:
                # Watched from here on, while engines load for many minutes: a ruleset flushed meanwhile
                # is contained at once. The ingress applied later replaces the expected ruleset under the
                # lock the audits take, so the monitor never takes it for drift.
                monitor = await asyncio.to_thread(
                    self._iso.start_monitor, self._on_breach, self._on_monitor_failure
                )
                self._monitor = monitor
                if self._stop.is_set():  # its baseline audit found a breach: nothing starts
                    return self._exit_code
            ports = PortGuard(place.engine_netns, self._on_port_hijack, self._on_port_check_failure)
            engines, urls = self._engines(place, ports)
            self._processes.extend(engines)  # before they start: a failed start still stops the others
            # Watched from their spawn: an engine that takes a sibling's port while it loads is found
            # before the gateway could route to it; `ready_check` closes the gap to the last round.
            ports.start()
            if not await self._unless_stopped(self._start_engines(engines, ports)):
                return self._exit_code  # SIGTERM while a model loads: what started is stopped below
            runtime_file = run_dir(self.settings) / "runtime.json"
            runtime = await asyncio.to_thread(resolve_runtime, self.settings, urls, isolated=self.isolate)
            await asyncio.to_thread(self._register_models, runtime)  # before the gateway can serve them
            runtime.write(runtime_file)
            self._share(runtime_file)
            gateways = self._gateways(place)
            self._processes.extend(gateways)  # recorded (with their pids) as soon as they are spawned
            with self._status("starting the gateway …"):
                await asyncio.gather(*(gateway.start() for gateway in gateways))
            if self._iso is not None:
                ingress = self._iso.expose_ingress(self.gateway_port)
            self._write_state(place)
            self._banner(key_note)
            watchers = [asyncio.create_task(p.keep_alive()) for p in self._processes]
            await self._stop.wait()
            for watcher in watchers:
                watcher.cancel()
        finally:
            purging.cancel()
            if ports is not None:
                await ports.stop()
            await self._shut_down(monitor, ingress)
            with contextlib.suppress(FileNotFoundError):
                state_file(self.settings).unlink()
        return self._exit_code

    async def _shut_down(self, monitor: Monitor | None, ingress: IngressHandle | None) -> None:
        """Stop the monitor (a breach it is containing finishes first), the children, the ingress, then
        the isolation. After a breach the cut stays in place, also one recorded while stopping."""
        if monitor is not None:
            await asyncio.to_thread(monitor.stop)
        await asyncio.gather(*(p.stop() for p in reversed(self._processes)))
        if ingress is not None:
            ingress.close()  # withdraws the ingress unless a breach is recorded
        skip = self._iso is None or self._exit_code == 3  # after a breach the cut stays in place
        if not skip and not await asyncio.to_thread(self._iso.down, unless_breached=True):
            self._exit_code = 3  # the breach came with the stop: it is the outcome all the same

    def _purge_logs(self) -> None:
        removed = purge_logs(self.settings.data_dir / "logs", self.settings.retention.log_days)
        if removed:
            log.info("logs_purged", files=len(removed), older_than_days=self.settings.retention.log_days)

    async def _purge_logs_hourly(self) -> None:
        while True:
            await asyncio.sleep(3600)
            try:
                await asyncio.to_thread(self._purge_logs)
            except OSError as exc:  # the next hour tries again; the service stays up
                log.error("logs_purge_failed", error=str(exc))

    def _banner(self, key_note: str | None) -> None:
        key_file = self.settings.data_dir / "admin.key"
        lines = [f"MedVault is up at {self.public_url()}  (OpenAI API under /v1, workbench at /)"]
        if key_note:
            lines.append(f"admin API key written to {key_note} (mode 0600)")
        elif self.settings.admin_key:
            lines.append("admin API key: the value of MEDVAULT_ADMIN_KEY")
        else:
            lines.append(f"admin API key: in {key_file}, or create one with `medvault keys create`")
        if not self.isolate:
            lines.append("WARNING: NETWORK ISOLATION IS OFF (--no-isolation): do not process patient data.")
        else:
            where = f"namespace {self.host_netns}" if self.host_netns else "this host"
            lines.append(
                f"isolation: ok, enforced by nftables in {where}, monitor running "
                "(`medvault status`, `medvault verify`)"
            )
            served = tls.served(self.settings)
            if served is not None:
                kind = "self-signed, " if served.self_signed else ""
                lines.append(f"TLS certificate: {served.cert_file} ({kind}SHA-256 {served.fingerprint})")
                if served.self_signed:
                    lines.append(f"  clients trust it with e.g. `curl --cacert {served.cert_file} …`")
        self._announce("\n".join(lines))
