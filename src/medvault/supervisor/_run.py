"""`medvault up`: the supervisor that owns every other MedVault process.

It runs in the host role, outside every zone: it sets up isolation, starts the embedded engines in the
vault zone and the gateway in the dmz zone (or all on loopback with `--no-isolation`), opens the ingress,
runs the isolation monitor, restarts what dies, and on a breach or a monitor failure stops everything and
stays down (fail closed).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import importlib.util
import json
import os
import shutil
import signal
import socket
import sys
import time
import urllib.error
from collections.abc import Awaitable, Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import structlog
from sqlalchemy.engine import make_url

from medvault import tls
from medvault.backends import (
    OFFLINE_ENV,
    Launch,
    Runtime,
    check_replica,
    llama_server_argv,
    replica_name,
    resolve_runtime,
)
from medvault.backends import launch as managed_launch
from medvault.config import ReplicaSettings, Settings, bundled_model_path, file_digest
from medvault.errors import ConfigError, IsolationError, MedVaultError
from medvault.governance import register_digests
from medvault.store import AuditEvent, Store, sqlite_files
from medvault.supervisor._environ import engine_environment, gateway_environment
from medvault.supervisor._instance import Heartbeat, InstanceLock, data_dir_lock, isolation_locks
from medvault.supervisor._netns import _in_netns, http_ok
from medvault.supervisor._output import LineFilter, OutputPump, RotatingLog, engine_line, purge_logs
from medvault.supervisor._process import ManagedProcess

log = structlog.get_logger("medvault.supervisor")
# The gateway's port inside the dmz zone when isolated: the zone is its own namespace, so a fixed,
# unprivileged port cannot collide; users reach `port` on the ingress, which forwards here.
GATEWAY_ZONE_PORT = 8080


def run_dir(settings: Settings) -> Path:
    return settings.data_dir / "run"


def state_file(settings: Settings) -> Path:
    return run_dir(settings) / "supervisor.json"


def metrics_dir(settings: Settings) -> Path:
    """Where several gateway processes keep their Prometheus values (multi-process mode)."""
    return settings.data_dir / "metrics"


async def worker_ok(url: str, worker: int, netns: str | None, pin: Path | None) -> bool:
    """True when gateway worker `worker` answers `url` (/healthz) itself.

    All workers listen on one port, so a probe reaches whichever the kernel picks: each probe is a new
    connection from a new source port, spread anew, and the process's start loop probes until one
    reaches this worker and it says so."""

    def get() -> bool:
        try:
            with tls.direct_opener(pin).open(url, timeout=2.0) as response:
                return bool(response.status == 200 and json.loads(response.read()).get("worker") == worker)
        except (urllib.error.URLError, OSError, TimeoutError, ValueError):
            return False

    return await (asyncio.to_thread(get) if netns is None else asyncio.to_thread(_in_netns, netns, get))


def _free_port(host: str) -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


@dataclass
class Placement:
    """Where the processes go: addresses, argv prefixes, and the namespace to probe them from."""

    engine_host: str = "127.0.0.1"
    gateway_host: str = "127.0.0.1"
    gateway_prefix: list[str] = field(default_factory=list)
    probe_netns: str | None = None


class Supervisor:
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

    def _placement(self) -> Placement:
        self._check_engines()  # before anything is built: a bad model directory changes nothing
        if not self.isolate:
            return Placement(gateway_host=self.settings.host)
        from medvault.isolation import build_isolation  # root-only machinery, loaded only when used

        iso = build_isolation(
            self.settings.isolation, data_dir=self.settings.data_dir, host_netns=self.host_netns
        )
        iso.preflight()
        self._iso = iso  # set before `up`, so that a half-built topology is still torn down
        iso.up()
        iso.share_data_dir(self._database_files())
        zones = {zone["name"]: zone for zone in iso.status()["zones"]}
        return Placement(
            engine_host=iso.zone_address("vault"),
            gateway_host=iso.zone_address("dmz"),
            gateway_prefix=iso.gateway_prefix(
                [*self._database_files(), *self._metrics_files()], self.settings.workbench.template_dirs
            ),
            probe_netns=zones["dmz"]["netns"],
        )

    def _check_engines(self) -> None:
        """Refuse to start when a managed engine's model, GPUs or GPU memory are not what it needs; say
        what was skipped (no nvidia-smi). Every problem is listed at once, each naming its key."""
        problems: list[str] = []
        for m, model in enumerate(self.settings.models):
            for r, replica in enumerate(model.replicas):
                if replica.kind not in ("vllm", "command"):
                    continue
                key = f"models.{m}.replicas.{r}"
                found, notes = check_replica(replica, key=key)
                if self.isolate and replica.nodes > 1:
                    found.append(
                        f"{key}.nodes: the vault zone has no route to other hosts, so one engine cannot "
                        "span several under isolation; fix: serve the model from one host "
                        "(docs/deployment-gpu.md)"
                    )
                problems += [f"{problem} (model {model.id})" for problem in found]
                for note in notes:
                    log.warning("engine_check_skipped", note=note)
        if problems:
            raise ConfigError("the engines cannot start:\n" + "\n".join(f"  {p}" for p in problems))

    def _database_files(self) -> list[Path]:
        """The SQLite database and its journal files, which the gateway (a workload) writes."""
        url = make_url(self.settings.resolved_database_url)
        if url.get_backend_name() != "sqlite" or not url.database:
            return []
        return sqlite_files(Path(url.database))

    def _gateway_config(self) -> Path | None:
        """The config file the gateway reads: with isolation a copy in run/, readable by the workload user
        (the operator's own file may sit in a directory only root can enter)."""
        if self.config_file is None or self._iso is None:
            return self.config_file.resolve() if self.config_file else None
        copy = run_dir(self.settings) / "medvault.toml"
        shutil.copyfile(self.config_file, copy)
        self._share(copy)
        return copy

    def _share(self, path: Path) -> None:
        """Make a root-written file readable (not writable) for the gateway user's group only."""
        if self._iso is not None:
            os.chown(path, 0, self._iso.zone_user("dmz").gid)
            path.chmod(0o640)

    def _engine_port(self, configured: int | None, index: int, place: Placement) -> int:
        if not self.isolate:
            return configured or _free_port(place.engine_host)
        allowed = self.settings.isolation.vault_ports
        if configured is not None and configured not in allowed:
            raise ConfigError(
                f"models: engine port {configured} is not in isolation.vault_ports {allowed}; "
                "fix: add it there, or drop the replica's `port`"
            )
        if configured is None and index >= len(allowed):
            raise ConfigError(
                f"models: {index + 1} engines started by MedVault but isolation.vault_ports allows "
                f"{len(allowed)}; fix: list one vault port per embedded, vllm or command replica"
            )
        return configured or allowed[index]

    def _engines(self, place: Placement) -> tuple[list[ManagedProcess], dict[str, str]]:
        """Every engine MedVault starts (all but `openai` replicas) and its URL, keyed by replica name."""
        engines: list[ManagedProcess] = []
        urls: dict[str, str] = {}
        for model in self.settings.models:
            for index, replica in enumerate(model.replicas):
                if replica.kind == "openai":
                    continue
                name = replica_name(model.id, index)
                port = self._engine_port(replica.port, len(engines), place)
                if replica.kind == "embedded":
                    run = _embedded_launch(model.id, replica, place.engine_host, port)
                else:
                    run = managed_launch(replica, model_id=model.id, host=place.engine_host, port=port)
                prefix: list[str] = []
                if self._iso is not None:  # the engine's user reads its model and code, nothing else
                    self._iso.check_engine_files(run.python, run.files)
                    prefix = self._iso.exec_prefix("vault", read_only=run.read_only, devices=run.devices)
                engines.append(
                    ManagedProcess(
                        f"engine {name}",
                        [*prefix, *run.argv],
                        _probe(f"http://{place.engine_host}:{port}{run.health_path}", place.probe_netns),
                        output=self._log(f"engine-{model.id.replace('/', '_')}-{index}.log", engine_line),
                        env=engine_environment(self._environ, run.env),
                        start_timeout_s=run.startup_timeout_s,
                        on_spawn=self._record_processes,
                    )
                )
                urls[name] = f"http://{place.engine_host}:{port}/v1"
        return engines, urls

    async def _start_engines(self, engines: list[ManagedProcess]) -> None:
        """Start every engine at once; the status line counts the ready ones and the seconds (a large model
        loads for many minutes), and the log names those still loading every half minute."""
        loop = asyncio.get_running_loop()
        began = loop.time()
        ready: list[str] = []

        async def start(engine: ManagedProcess) -> None:
            await engine.start()
            ready.append(engine.name)
            self._record_processes()  # `status` shows which engines are still loading

        def progress() -> str:
            return f"loading {len(engines)} engine(s): {len(ready)} ready after {loop.time() - began:.0f} s …"

        starting = asyncio.gather(*(start(e) for e in engines))
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

    def _gateways(self, place: Placement) -> list[ManagedProcess]:
        """`gateway.workers` gateway processes on the one port, each in its own sandbox.

        Each binds the port itself with SO_REUSEPORT and the kernel spreads new connections over the
        listeners: so every worker is an ordinary supervised child (own sandbox, own log, restarted
        alone by `keep_alive`, stopped gracefully) instead of a child of uvicorn's worker manager, which
        would share one sandbox and hide its workers from `status`. One worker serves as before (no
        shared port, metrics in its own memory)."""
        workers = self.settings.gateway.workers
        runtime_file = run_dir(self.settings) / "runtime.json"
        argv = [
            *place.gateway_prefix,
            sys.executable,
            "-m",
            "medvault",
            "serve",
            "--runtime",
            str(runtime_file),
            "--host",
            place.gateway_host,
            "--port",
            str(self.gateway_port),
        ]
        config = self._gateway_config()
        if config:
            argv += ["--config", str(config)]
        scheme, pin = "http", None
        if self._iso is not None:  # the ingress is the hospital LAN: HTTPS only (docs/security-model.md)
            served = tls.prepare(
                self.settings, loopback=self.host_netns is not None, group=self._iso.zone_user("dmz").gid
            )
            cert, key = served.cert_file.resolve(), served.key_file.resolve()
            argv += ["--tls-cert", str(cert), "--tls-key", str(key)]
            scheme, pin = "https", served.cert_file
        url = f"{scheme}://{place.gateway_host}:{self.gateway_port}/healthz"
        env = gateway_environment(self._environ, {"MEDVAULT_DATA_DIR": str(self.settings.data_dir.resolve())})
        if workers == 1:
            probe = functools.partial(http_ok, url, place.probe_netns, pin=pin)
            return [ManagedProcess("gateway", argv, probe, output=self._log("gateway.log"), env=env,
                                   on_spawn=self._record_processes)]  # fmt: skip
        metrics = self._metrics_dir()
        return [
            ManagedProcess(
                f"gateway-{worker}",
                [*argv, "--worker", str(worker), "--metrics-dir", str(metrics)],
                functools.partial(worker_ok, url, worker, place.probe_netns, pin),
                output=self._log(f"gateway-{worker}.log"),
                env=env,
                on_spawn=self._record_processes,
            )
            for worker in range(1, workers + 1)
        ]

    def _metrics_files(self) -> list[Path]:
        """Several workers share a metrics directory the gateway may write (one worker keeps its metrics
        in memory, and a bind of a directory that was never made would stop the sandbox starting)."""
        return [metrics_dir(self.settings) / "*.db"] if self.settings.gateway.workers > 1 else []

    def _metrics_dir(self) -> Path:
        """The gateways' shared Prometheus directory, emptied at every start (a previous run's files
        would add old counts to the new ones) and writable by the gateway user only."""
        path = metrics_dir(self.settings)
        shutil.rmtree(path, ignore_errors=True)
        path.mkdir(mode=0o700, parents=True)
        if self._iso is not None:
            user = self._iso.zone_user("dmz")
            os.chown(path, user.uid, user.gid)
        return path.resolve()

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
        key_note = await asyncio.to_thread(self._prepare_store)
        ingress = monitor = None
        place = Placement()
        await asyncio.to_thread(self._purge_logs)
        purging = asyncio.create_task(self._purge_logs_hourly())
        try:
            self._write_state(place)  # before anything is built, so `down` can clean up after a crash
            place = self._place = await asyncio.to_thread(self._placement)
            engines, urls = self._engines(place)
            self._processes.extend(engines)  # before they start: a failed start still stops the others
            if not await self._unless_stopped(self._start_engines(engines)):
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
                monitor = self._iso.start_monitor(self._on_breach, self._on_monitor_failure)
            self._write_state(place)
            self._banner(key_note)
            watchers = [asyncio.create_task(p.keep_alive()) for p in self._processes]
            await self._stop.wait()
            for watcher in watchers:
                watcher.cancel()
        finally:
            purging.cancel()
            if monitor is not None:
                monitor.stop()
            await asyncio.gather(*(p.stop() for p in reversed(self._processes)))
            if ingress is not None:
                ingress.close()
            if self._iso is not None and self._exit_code != 3:  # after a breach the cut stays in place
                await asyncio.to_thread(self._iso.down)
            with contextlib.suppress(FileNotFoundError):
                state_file(self.settings).unlink()
        return self._exit_code

    def _log(self, name: str, line_filter: LineFilter | None = None) -> OutputPump:
        """A child's log under logs/, begun afresh: the previous run's file is rotated, to age out."""
        settings = self.settings.logs
        sink = RotatingLog(
            self.settings.data_dir / "logs" / name,
            max_bytes=settings.max_file_mb << 20,
            keep=settings.keep_files,
        )
        sink.rotate()
        return OutputPump(sink, line_filter)

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

    def _record_processes(self) -> None:
        """Record the children's pids once one is spawned (restarts too): `status` and `down` read them."""
        self._write_state(self._place)

    def _write_state(self, place: Placement) -> None:
        state = {
            "pid": os.getpid(),
            "started": datetime.now(UTC).isoformat(),
            "url": self.public_url(),
            "isolation": "on" if self.isolate else "off",
            "host_netns": self.host_netns,
            "gateway": {"host": place.gateway_host, "port": self.gateway_port, "netns": place.probe_netns},
            "processes": [
                {"name": p.name, "pid": p.pid, "ready": p.ready, "since": p.spawned_at}
                for p in self._processes
            ],
        }
        path = state_file(self.settings)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(state, indent=2))

    @property
    def gateway_port(self) -> int:
        """Where the gateway listens: a fixed port inside the dmz when isolated, else `port` itself."""
        return GATEWAY_ZONE_PORT if self.isolate else self.settings.port

    def public_url(self) -> str:
        """What users open: `port` in every mode (the settings make the ingress's port equal to it)."""
        if self.isolate:  # HTTPS, through the loopback bridge too: it relays the gateway's TLS untouched
            host = "127.0.0.1" if self.host_netns else self.settings.isolation.ingress.address
            return f"https://{host}:{self.settings.port}"
        return f"http://{self.settings.host}:{self.settings.port}"

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


def _embedded_launch(model_id: str, replica: ReplicaSettings, host: str, port: int) -> Launch:
    """The embedded llama.cpp engine as a `Launch`, like the managed kinds (the venv is shown anyway)."""
    gguf = replica.gguf or bundled_model_path()
    argv = llama_server_argv(
        gguf=gguf, alias=model_id, host=host, port=port, n_ctx=replica.n_ctx, threads=replica.threads
    )
    return Launch(
        argv=argv,
        env=dict(OFFLINE_ENV),
        health_path="/v1/models",
        read_only=[gguf],
        devices=[],
        startup_timeout_s=replica.startup_timeout,
        python=Path(sys.executable),
        files=[gguf, *_engine_code()],
    )


def _engine_code() -> list[Path]:
    """The llama.cpp server package in the venv (located, not imported: importing loads the library)."""
    spec = importlib.util.find_spec("llama_cpp")
    return [Path(spec.origin)] if spec is not None and spec.origin else []


def _probe(url: str, netns: str | None) -> Any:
    async def ready() -> bool:
        return await http_ok(url, netns)

    return ready
