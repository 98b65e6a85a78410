"""Where the supervisor's processes go and how each is started, and what the state file says of them.

`Layout` is the part of `Supervisor` that turns the settings into processes: the placement (isolated
zones or loopback), the engines' and the gateway workers' command lines, ports, probes and logs, and
`run/supervisor.json`, which `status` and `down` read.
"""

from __future__ import annotations

import asyncio
import functools
import importlib.util
import json
import os
import shutil
import socket
import sys
import tomllib
import urllib.error
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import structlog
import tomli_w
from sqlalchemy.engine import make_url

from medvault import tls
from medvault._files import write_json_whole
from medvault.backends import (
    OFFLINE_ENV,
    Launch,
    Runtime,
    check_replica,
    llama_server_argv,
    replica_digest,
    replica_name,
)
from medvault.backends import launch as managed_launch
from medvault.config import ReplicaSettings, Settings, bundled_model_path
from medvault.errors import ConfigError
from medvault.store import sqlite_files
from medvault.supervisor._environ import engine_environment, gateway_environment
from medvault.supervisor._netns import _in_netns, http_ok
from medvault.supervisor._output import LineFilter, OutputPump, RotatingLog, engine_line
from medvault.supervisor._ports import PortGuard
from medvault.supervisor._process import ManagedProcess, ReadyCheck, RestartCheck

log = structlog.get_logger("medvault.supervisor")
# The gateway's port inside the dmz zone when isolated: the zone is its own namespace, so a fixed,
# unprivileged port cannot collide; users reach `port` on the ingress, which forwards here.
GATEWAY_ZONE_PORT = 8080


def run_dir(settings: Settings) -> Path:
    return settings.data_dir / "run"


def state_file(settings: Settings) -> Path:
    return run_dir(settings) / "supervisor.json"


# Settings only the supervisor reads, left out of the gateway's copy of the config file: the admin key
# seeds the admin's API key in the database before the gateway starts; a gateway that an attacker runs
# code in must not learn it. (The gateway needs the rest: `database_url`, `directory.bind_password` and
# the replicas' `api_key` are used by the gateway itself.)
SUPERVISOR_ONLY = ("admin_key",)


def write_gateway_config(source: Path, copy: Path) -> None:
    """Write the operator's config file `source` to `copy` without `SUPERVISOR_ONLY` (mode 0600, made
    anew, never through a link; `_share` then gives the gateway's group read access)."""
    settings = tomllib.loads(source.read_text(encoding="utf-8"))
    text = tomli_w.dumps({key: value for key, value in settings.items() if key not in SUPERVISOR_ONLY})
    copy.unlink(missing_ok=True)
    fd = os.open(copy, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text)


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
    engine_netns: str | None = None  # where the engines listen (the vault zone), for the port check


class Layout:
    """The settings turned into processes; mixed into `Supervisor`, which sets these attributes."""

    settings: Settings
    config_file: Path | None
    isolate: bool
    host_netns: str | None
    _iso: Any  # the isolation topology once built (None without isolation)
    _environ: dict[str, str]
    _processes: list[ManagedProcess]
    _place: Placement

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
        iso.up(monitored=True)
        iso.share_data_dir(self._database_files())
        zones = {zone["name"]: zone for zone in iso.status()["zones"]}
        return Placement(
            engine_host=iso.zone_address("vault"),
            gateway_host=iso.zone_address("dmz"),
            gateway_prefix=iso.gateway_prefix(
                [*self._database_files(), *self._metrics_files()], self.settings.workbench.template_dirs
            ),
            probe_netns=zones["dmz"]["netns"],
            engine_netns=zones["vault"]["netns"],
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
        (the operator's own file may sit in a directory only root can enter), without `SUPERVISOR_ONLY`."""
        if self.config_file is None or self._iso is None:
            return self.config_file.resolve() if self.config_file else None
        copy = run_dir(self.settings) / "medvault.toml"
        write_gateway_config(self.config_file, copy)
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

    def _engines(self, place: Placement, ports: PortGuard) -> tuple[list[ManagedProcess], dict[str, str]]:
        """Every engine MedVault starts (all but `openai` replicas) and its URL, keyed by replica name.

        Each is ready only once its probe answers and `ports` finds that the engine itself listens on its
        address and port (see _ports): engines share a namespace and a user, and one could take
        another's port."""
        engines: list[ManagedProcess] = []
        urls: dict[str, str] = {}
        taken: dict[int, str] = {}
        for model in self.settings.models:
            for index, replica in enumerate(model.replicas):
                if replica.kind == "openai":
                    continue
                name = replica_name(model.id, index)
                port = self._engine_port(replica.port, len(engines), place)
                if port in taken:  # else the second would fail to bind, or pass for a hijacked port
                    raise ConfigError(
                        f"models: replicas {taken[port]} and {name} both use port {port}; "
                        "fix: give each replica its own `port` (isolation.vault_ports)"
                    )
                taken[port] = name
                if replica.kind == "embedded":
                    run = _embedded_launch(model.id, replica, place.engine_host, port)
                else:
                    run = managed_launch(replica, model_id=model.id, host=place.engine_host, port=port)
                prefix: list[str] = []
                if self._iso is not None:  # the engine's user reads its model and code, nothing else
                    self._iso.check_engine_files(run.python, run.files)
                    prefix = self._iso.exec_prefix("vault", read_only=run.read_only, devices=run.devices)
                probe = _probe(f"http://{place.engine_host}:{port}{run.health_path}", place.probe_netns)
                engine = ManagedProcess(
                    f"engine {name}",
                    [*prefix, *run.argv],
                    ports.ready_check(f"engine {name}", probe),
                    output=self._log(f"engine-{model.id.replace('/', '_')}-{index}.log", engine_line),
                    env=engine_environment(self._environ, run.env),
                    start_timeout_s=run.startup_timeout_s,
                    on_spawn=self._record_processes,
                    may_restart=weights_unchanged(model.id, name, replica, self.settings.data_dir),
                )
                ports.add(engine, place.engine_host, port)
                engines.append(engine)
                urls[name] = f"http://{place.engine_host}:{port}/v1"
        return engines, urls

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
        # Replaced whole, never rewritten in place: `status` and `down` may read it during a restart.
        write_json_whole(state_file(self.settings), state)

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


def weights_unchanged(model_id: str, name: str, replica: ReplicaSettings, data_dir: Path) -> RestartCheck:
    """Before replica `name`'s engine restarts: are its weights still those whose digest the start
    recorded in run/runtime.json (which the gateway serves and audits under)? If not, the engine stays
    down: new weights must not serve under the old approved digest (docs/model-change-control.md)."""
    runtime_file = data_dir / "run" / "runtime.json"

    async def check() -> bool:
        try:
            started = next(
                r.digest for m in Runtime.read(runtime_file).models for r in m.replicas if r.name == name
            )
            # Cached by path, inode, size and mtime: unchanged weights are not hashed again.
            now = await asyncio.to_thread(replica_digest, replica, data_dir)
        except (OSError, ValueError, StopIteration, ConfigError) as exc:  # unknown is not unchanged
            log.error(
                "engine_weights_unverified",
                model=model_id,
                replica=name,
                error=type(exc).__name__,
                note="not restarted: its weights could not be compared with those it started with",
            )
            return False
        if now == started:
            return True
        log.error(
            "engine_weights_changed",
            model=model_id,
            replica=name,
            started_digest=started,
            current_digest=now,
            note="not restarted: its weights changed since the start and would serve under the approved "
            "digest; the replica stays down (a model with no other replica answers 503) until `medvault up` "
            "(a new start) registers the new digest as pending, for an evaluation and an approval",
        )
        return False

    return check


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
    """The llama.cpp server package in the venv and MedVault's engine entry that wraps it (located, not
    imported: importing loads the library)."""
    specs = (importlib.util.find_spec(name) for name in ("llama_cpp", "medvault._engine_server"))
    return [Path(spec.origin) for spec in specs if spec is not None and spec.origin]


def _probe(url: str, netns: str | None) -> ReadyCheck:
    async def ready() -> bool:
        return await http_ok(url, netns)

    return ready
