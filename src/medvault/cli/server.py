"""`medvault up`, `down`, `status`, and the hidden `serve` that runs one gateway process."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import os
import resource
import signal
import socket
import time
import tomllib
import urllib.error
import urllib.request
from pathlib import Path
from typing import Annotated, Any

import typer
from starlette.types import ASGIApp

from medvault import tls
from medvault.cli._common import (
    ConfigOption,
    announce_data_dir,
    config_file,
    console,
    err_console,
    fail,
    say,
    settings_from,
    warn,
)
from medvault.config import Settings, load_settings
from medvault.errors import MedVaultError
from medvault.logs import configure_logging


def register(app: typer.Typer) -> None:
    app.command()(up)
    app.command()(down)
    app.command()(status)
    app.command(hidden=True)(serve)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _recorded_state(settings: Settings) -> dict[str, Any] | None:
    """What the last `up` wrote, even if that process has since died."""
    from medvault.supervisor import state_file

    path = state_file(settings)
    return json.loads(path.read_text()) if path.is_file() else None


def _running_state(settings: Settings) -> dict[str, Any] | None:
    """What the running supervisor wrote, or None when none runs: its data-directory lock is free (the
    kernel drops it when the supervisor exits, SIGKILL included, even before its parent reaps it, while
    `kill(pid, 0)` still finds such a zombie), or the pid it recorded is gone."""
    from medvault.supervisor import data_dir_lock, lock_held

    state = _recorded_state(settings)
    if state and lock_held(data_dir_lock(settings.data_dir)) and _alive(int(state["pid"])):
        return state
    return None


def _instance_settings(config: Path | None) -> tuple[Settings, str | None]:
    """The settings `down` and `status` act on, and the config problem if the file no longer loads.

    A medvault.toml edited while MedVault runs must not lock the operator out of the running instance:
    it is found by its data directory (where the supervisor records its pid and holds its lock), read from
    MEDVAULT_DATA_DIR, else from the file's `data_dir` if the file still parses, else the default."""
    config = config_file(config)
    try:
        return load_settings(config), None
    except MedVaultError as exc:
        problem = str(exc)
    data_dir = os.environ.get("MEDVAULT_DATA_DIR")
    if data_dir is None and config is not None:
        try:
            data_dir = str(tomllib.loads(config.read_text(encoding="utf-8")).get("data_dir", "")) or None
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
            data_dir = None
    # Unvalidated on purpose: only `data_dir` is read, and the broken values must not be read again.
    settings = Settings.model_construct(data_dir=Path(data_dir)) if data_dir else Settings.model_construct()
    warn(f"{problem}\n(looking for the running MedVault by its data directory {settings.data_dir.resolve()})")
    return settings, problem


def up(
    config: ConfigOption = None,
    port: Annotated[
        int | None, typer.Option(help="the port users reach, isolated or not (MEDVAULT_PORT)")
    ] = None,
    no_isolation: Annotated[
        bool, typer.Option("--no-isolation", help="development only: everything on loopback, NOT isolated")
    ] = False,
    host_netns: Annotated[
        str | None, typer.Option(help="let this network namespace play the host role (tests, demo)")
    ] = None,
) -> None:
    """Start MedVault in the foreground: isolation, engines, gateway and monitor."""
    from medvault.supervisor import InstanceRunning, Supervisor

    settings = settings_from(config, **({"port": port} if port is not None else {}))
    announce_data_dir(settings)
    _check_templates(settings, config)
    if settings.port_conflict:
        warn(settings.port_conflict)
    configure_logging(settings.log_level)
    # No process of the service leaves a core dump when it crashes: the gateway's and the engines' memory
    # holds the requests in flight, patient text included. Children inherit the limit. 1 byte, not 0:
    # the kernel ignores 0 when core_pattern pipes dumps to a handler (systemd-coredump, apport) but
    # takes 1 as "no dump" there, and 1 byte is below the smallest core file it would write.
    hard = resource.getrlimit(resource.RLIMIT_CORE)[1]
    resource.setrlimit(resource.RLIMIT_CORE, (0 if hard == 0 else 1, hard))  # RLIM_INFINITY is -1
    isolate = not no_isolation and settings.isolation.enabled
    if isolate and os.geteuid() != 0:
        fail(
            "network isolation needs root (namespaces, nftables). Run as root, or pass --no-isolation for "
            "development without patient data.",
            status=2,
        )
    if not isolate:
        console.print("[bold red on yellow] NETWORK ISOLATION IS OFF [/] development mode: no patient data.")
    supervisor = Supervisor(
        settings,
        config_file=config,
        isolate=isolate,
        host_netns=host_netns,
        announce=say,
        status=console.status,
        environ=os.environ,
    )
    try:
        code = asyncio.run(supervisor.run())
    except InstanceRunning as exc:  # refused before anything was touched
        fail(str(exc), status=2)
    except MedVaultError as exc:
        fail(str(exc), status=1)
    raise typer.Exit(code)


def _check_templates(settings: Settings, config: Path | None) -> None:
    """Load the template library as the gateway will, before anything starts: a broken template file or a
    missing directory in `workbench.template_dirs` stops `up` here (status 2), not in a gateway's log."""
    from medvault.templates import TemplateLibrary

    try:
        TemplateLibrary.for_settings(settings)
    except MedVaultError as exc:
        fail(
            f"{exc}; fix: correct that template file, or take its directory out of "
            f"`workbench.template_dirs` in {config_file(config) or 'the configuration'}",
            status=2,
        )


def down(
    config: ConfigOption = None,
    timeout: Annotated[float, typer.Option(help="seconds to wait before SIGKILL")] = 30.0,
) -> None:
    """Stop MedVault and remove what it created; safe to repeat."""
    settings, problem = _instance_settings(config)
    if problem is None:
        announce_data_dir(settings)
    broken = str(config_file(config) or "the configuration")
    recorded = _recorded_state(settings)
    running = _running_state(settings)
    if running:
        _stop(int(running["pid"]), settings, timeout, broken if problem else None)
        recorded = _recorded_state(settings)  # a clean stop removed its record along with what it built
    elif problem is not None:
        fail(
            f"no MedVault runs with the data directory {settings.data_dir.resolve()}; if one runs with "
            f"another, fix {broken} (or set MEDVAULT_DATA_DIR to its data directory) and run `medvault down` "
            "again",
            status=2,
        )
    else:
        console.print("MedVault was not running")
    # Leftovers of an isolated run that crashed: only ever what that run recorded it had built, and
    # only while no supervisor holds the prefix (another data directory's instance may use it now).
    if recorded and recorded.get("isolation") == "on" and os.geteuid() == 0:
        if problem is not None:  # the namespace prefix is in the file that does not load
            fail(
                f"MedVault is stopped; its namespaces and firewall are named in {broken}: fix it and run "
                "`medvault down` again to remove any it left",
                status=2,
            )
        from medvault.isolation import build_isolation
        from medvault.supervisor import first_holder, isolation_locks

        host_netns = recorded.get("host_netns")
        busy = first_holder(isolation_locks(settings.isolation.netns_prefix, host_netns))
        if busy:
            fail(f"left the namespaces and firewall alone: another MedVault runs for {busy}", status=1)

        build_isolation(settings.isolation, data_dir=settings.data_dir, host_netns=host_netns).down()
        console.print("removed MedVault's namespaces and firewall table")
    if recorded and _running_state(settings) is None:  # a dead supervisor's record: cleaned up now
        from medvault.supervisor import state_file

        state_file(settings).unlink(missing_ok=True)


def _stop(pid: int, settings: Settings, timeout: float, broken: str | None) -> None:
    """SIGTERM the supervisor `pid` and wait for it (SIGKILL after `timeout`); `broken` names the config
    file that did not load, if any, for the advice when it cannot be signalled."""
    try:
        os.kill(pid, signal.SIGTERM)
    except PermissionError:
        fix = f"fix {broken}" if broken else "run `medvault down` as the user that started it"
        fail(
            f"MedVault is still running as pid {pid} (not permitted to signal it); {fix} or send SIGTERM "
            f"to {pid}",
            status=1,
        )
    except ProcessLookupError:  # it exited since `down` looked: what the wait below would find
        pass
    deadline = time.monotonic() + timeout
    # Running means holding the data directory's lock too: the kernel frees it when the supervisor
    # exits, before whoever started it reaps the zombie, and a pid reused since never holds it.
    while _running_state(settings) and time.monotonic() < deadline:
        time.sleep(0.1)
    if _running_state(settings):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        console.print(f"stopped MedVault (pid {pid}): it did not stop within {timeout:g} s, so it was killed")
    else:
        console.print(f"stopped MedVault (pid {pid})")


def _get(url: str, pin: Path | None = None) -> tuple[int, Any]:
    """GET `url` as JSON; an https `url` must present the certificate in `pin` (the served one)."""
    try:
        with tls.direct_opener(pin).open(url, timeout=3) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")
    except (urllib.error.URLError, OSError, ValueError):
        return 0, None


def status(
    config: ConfigOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False,
) -> None:
    """Is MedVault running, are its models ready, is isolation intact? Exit 0 when it runs and is ready,
    1 when not (not running included), 2 when it runs but the config file does not load."""
    from medvault.isolation import read_state

    settings, problem = _instance_settings(config)
    if problem is None:
        announce_data_dir(settings)
    running = _running_state(settings)
    report: dict[str, Any] = {"running": running is not None, "pid": None, "url": None, "ready": False}
    isolation: dict[str, Any] = dict(read_state(settings.data_dir))
    if running:
        report.update(pid=running["pid"], url=running["url"])
        report["starting"] = _starting(running)
        if running.get("isolation") == "off":
            isolation = {"state": "off", "host_netns": None, "zones": []}
        if problem is not None:
            # Readiness is not asked: the certificate to pin and the isolation policy are in that file.
            report["config_error"] = problem
        else:
            served = tls.served(settings) if running["url"].startswith("https://") else None
            if served is not None:
                report["tls"] = {"certificate": str(served.cert_file), "sha256": served.fingerprint}
            code, body = _get(running["url"] + "/readyz", served.cert_file if served else None)
            report["ready"] = code == 200
            report["models"] = (body or {}).get("models", {})
            report["held"] = (body or {}).get("held", {})  # models change control holds back, and why
            if running.get("isolation") != "off" and os.geteuid() == 0:
                from medvault.isolation import build_isolation

                iso = build_isolation(
                    settings.isolation, data_dir=settings.data_dir, host_netns=running.get("host_netns")
                )
                isolation = iso.status()
    else:
        isolation, gone = _without_supervisor(settings, isolation)
        if gone:
            report["down"] = gone
            err_console.print(f"[bold red]{gone}[/]", highlight=False)
        else:
            err_console.print("MedVault is not running", highlight=False)
    isolation.setdefault("state", "off")
    report["isolation"] = isolation
    if as_json:
        typer.echo(json.dumps(report, indent=2))
    else:
        colour = {"ok": "green", "breached": "bold red", "off": "yellow"}.get(isolation["state"], "red")
        console.print(f"running: {report['running']}  url: {report['url']}  ready: {report['ready']}")
        console.print(f"isolation: [{colour}]{isolation['state']}[/]")
        if report.get("tls"):
            say(f"tls: {report['tls']['certificate']}  SHA-256 {report['tls']['sha256']}")
        for reason in report.get("held", {}).values():
            say(f"not served: {reason}")
        for child in report.get("starting", []):
            say(f"starting: {child['name']} (loading for {child['loading_s']} s)")
    if isolation["state"] == "breached" or not report["ready"]:  # not running is not ready
        raise typer.Exit(2 if running and problem is not None and isolation["state"] != "breached" else 1)


def _starting(running: dict[str, Any]) -> list[dict[str, Any]]:
    """The children the supervisor has spawned that are not ready yet (a large model loads for minutes)."""
    now = time.time()
    return [
        {"name": p["name"], "loading_s": round(now - p["since"])}
        for p in running.get("processes", [])
        if p.get("ready") is False and p.get("since")
    ]


def _without_supervisor(settings: Settings, isolation: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
    """The isolation state when no supervisor runs (never `ok`), and what to tell the operator if the
    last one died without cleaning up (SIGKILL, a crash: its supervisor.json is still there)."""
    if isolation.get("state") == "ok":  # a supervisor that never wrote a heartbeat is no more alive
        isolation = {**isolation, "state": "down", "reason": "no supervisor runs"}
    recorded = _recorded_state(settings)
    if not recorded:
        return isolation, None
    return isolation, (
        f"MedVault is down: its supervisor (pid {recorded['pid']}) is gone without cleaning up; "
        "run `medvault down` to remove what it left, then `medvault up`"
    )


def _shared_listener(host: str, port: int) -> socket.socket:
    """A listening socket on (host, port) that other processes of the same user may bind as well."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(2048)
    return sock


def serve(
    runtime: Annotated[Path, typer.Option(help="engines description written by the supervisor")],
    host: Annotated[str, typer.Option()] = "127.0.0.1",
    port: Annotated[int, typer.Option()] = 8080,
    config: ConfigOption = None,
    tls_cert: Annotated[Path | None, typer.Option(help="PEM certificate chain: serve HTTPS only")] = None,
    tls_key: Annotated[Path | None, typer.Option(help="the certificate's private key (PEM)")] = None,
    worker: Annotated[
        int, typer.Option(help="this process's number among several on one port (SO_REUSEPORT)")
    ] = 0,
    metrics_dir: Annotated[
        Path | None, typer.Option(help="the workers' shared Prometheus directory (with --worker)")
    ] = None,
) -> None:
    """Run one gateway process (started by `medvault up`, once per `gateway.workers`)."""
    import uvicorn

    from medvault.app import create_app
    from medvault.backends import Runtime
    from medvault.gateway import use_multiprocess
    from medvault.store import Store

    if (tls_cert is None) != (tls_key is None):
        fail("--tls-cert and --tls-key go together", status=2)
    if (worker > 0) != (metrics_dir is not None):
        fail("--worker and --metrics-dir go together", status=2)
    settings = settings_from(config)
    configure_logging(settings.log_level)
    if metrics_dir is not None:
        use_multiprocess(metrics_dir, worker)  # before the app creates its metrics
    store = Store.from_settings(settings)
    app: ASGIApp = create_app(settings, Runtime.read(runtime), store)
    app.state.gateway.worker = worker  # type: ignore[attr-defined]  # create_app's FastAPI app
    https: dict[str, Any] = {}
    if tls_cert is not None and tls_key is not None:
        app = tls.StrictTransportSecurity(app)
        context = tls.server_context(tls_cert, tls_key)  # read now: a bad file stops the start, not a client
        https["ssl_context_factory"] = lambda _config, _default: context
    # What start-up built (modules, the app, templates) lives as long as the process: kept out of the
    # cyclic collector, so that its full collections, which pause every request, stay short.
    gc.collect()
    gc.freeze()
    options: dict[str, Any] = dict(
        host=host,
        port=port,
        loop="uvloop",
        http="httptools",
        access_log=False,
        log_config=None,
        server_header=False,
        timeout_graceful_shutdown=10,
        # The gateway terminates TLS itself and trusts no proxy: X-Forwarded-For/-Proto must not change
        # the client address (the sign-in throttle counts by it) or the scheme (Secure cookies).
        proxy_headers=False,
        **https,
    )
    if worker:
        # Several workers share the port: each binds it with SO_REUSEPORT, so the kernel spreads
        # connections over them and one that dies leaves the others listening (docs/design.md).
        uvicorn.Server(uvicorn.Config(app, **options)).run(sockets=[_shared_listener(host, port)])
    else:
        uvicorn.run(app, **options)
    store.close()
