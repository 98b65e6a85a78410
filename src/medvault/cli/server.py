"""`medvault up`, `down`, `status`, and the hidden `serve` that runs one gateway process."""

from __future__ import annotations

import asyncio
import gc
import json
import os
import signal
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Annotated, Any

import typer

from medvault.cli._common import ConfigOption, console, fail, settings_from
from medvault.config import Settings
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
    state = _recorded_state(settings)
    return state if state and _alive(int(state["pid"])) else None


def up(
    config: ConfigOption = None,
    port: Annotated[int | None, typer.Option(help="gateway port (MEDVAULT_PORT)")] = None,
    no_isolation: Annotated[
        bool, typer.Option("--no-isolation", help="development only: everything on loopback, NOT isolated")
    ] = False,
    host_netns: Annotated[
        str | None, typer.Option(help="let this network namespace play the host role (tests, demo)")
    ] = None,
) -> None:
    """Start MedVault in the foreground: isolation, engines, gateway and monitor."""
    from medvault.supervisor import Supervisor

    settings = settings_from(config, **({"port": port} if port else {}))
    configure_logging(settings.log_level)
    isolate = not no_isolation and settings.isolation.enabled
    if isolate and os.geteuid() != 0:
        fail(
            "network isolation needs root (namespaces, nftables). Run as root, or pass --no-isolation for "
            "development without patient data.",
            status=2,
        )
    running = _running_state(settings)
    if running:
        fail(f"MedVault already runs here (pid {running['pid']}); run `medvault down` first", status=2)
    if not isolate:
        console.print("[bold red on yellow] NETWORK ISOLATION IS OFF [/] development mode: no patient data.")
    supervisor = Supervisor(
        settings,
        config_file=config,
        isolate=isolate,
        host_netns=host_netns,
        announce=console.print,
        status=console.status,
    )
    try:
        code = asyncio.run(supervisor.run())
    except MedVaultError as exc:
        fail(str(exc), status=1)
    raise typer.Exit(code)


def down(
    config: ConfigOption = None,
    timeout: Annotated[float, typer.Option(help="seconds to wait before SIGKILL")] = 30.0,
) -> None:
    """Stop MedVault and remove what it created; safe to repeat."""
    settings = settings_from(config)
    recorded = _recorded_state(settings)
    running = _running_state(settings)
    if running:
        pid = int(running["pid"])
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        if _alive(pid):
            os.kill(pid, signal.SIGKILL)
        console.print(f"stopped MedVault (pid {pid})")
    else:
        console.print("MedVault was not running")
    # Leftovers of an isolated run that crashed: only ever what that run recorded it had built.
    if recorded and recorded.get("isolation") == "on" and os.geteuid() == 0:
        from medvault.isolation import build_isolation

        host_netns = recorded.get("host_netns")
        build_isolation(settings.isolation, data_dir=settings.data_dir, host_netns=host_netns).down()
        console.print("removed MedVault's namespaces and firewall table")


def _get(url: str) -> tuple[int, Any]:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=3) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")
    except (urllib.error.URLError, OSError, ValueError):
        return 0, None


def status(
    config: ConfigOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False,
) -> None:
    """Is MedVault running, are its models ready, is isolation intact?"""
    from medvault.isolation import read_state

    settings = settings_from(config)
    running = _running_state(settings)
    report: dict[str, Any] = {"running": running is not None, "pid": None, "url": None, "ready": False}
    isolation: dict[str, Any] = dict(read_state(settings.data_dir))
    if running:
        report.update(pid=running["pid"], url=running["url"])
        code, body = _get(running["url"] + "/readyz")
        report["ready"] = code == 200
        report["models"] = (body or {}).get("models", {})
        if running.get("isolation") == "off":
            isolation = {"state": "off", "host_netns": None, "zones": []}
        elif os.geteuid() == 0:
            from medvault.isolation import build_isolation

            iso = build_isolation(
                settings.isolation, data_dir=settings.data_dir, host_netns=running.get("host_netns")
            )
            isolation = iso.status()
    isolation.setdefault("state", "off")
    report["isolation"] = isolation
    if as_json:
        typer.echo(json.dumps(report, indent=2))
    else:
        colour = {"ok": "green", "breached": "bold red", "off": "yellow"}.get(isolation["state"], "red")
        console.print(f"running: {report['running']}  url: {report['url']}  ready: {report['ready']}")
        console.print(f"isolation: [{colour}]{isolation['state']}[/]")
    if isolation["state"] == "breached" or (running and not report["ready"]):
        raise typer.Exit(1)


def serve(
    runtime: Annotated[Path, typer.Option(help="engines description written by the supervisor")],
    host: Annotated[str, typer.Option()] = "127.0.0.1",
    port: Annotated[int, typer.Option()] = 8080,
    config: ConfigOption = None,
) -> None:
    """Run one gateway process (started by `medvault up`)."""
    import uvicorn

    from medvault.backends import Runtime
    from medvault.gateway import create_app
    from medvault.store import Store

    settings = settings_from(config)
    configure_logging(settings.log_level)
    store = Store.from_settings(settings)
    app = create_app(settings, Runtime.read(runtime), store)
    # What start-up built (modules, the app, templates) lives as long as the process: kept out of the
    # cyclic collector, so that its full collections, which pause every request, stay short.
    gc.collect()
    gc.freeze()
    uvicorn.run(
        app,
        host=host,
        port=port,
        loop="uvloop",
        http="httptools",
        access_log=False,
        log_config=None,
        server_header=False,
        timeout_graceful_shutdown=10,
    )
    store.close()
