"""`medvault verify` and `medvault isolation reset|render`: the operator's view of network isolation."""

from __future__ import annotations

import json
import os
from typing import Annotated

import typer
from rich.table import Table

from medvault.cli._common import ConfigOption, announce_data_dir, console, fail, settings_from
from medvault.cli.keys import cli_store, record_cli_action
from medvault.config import Settings
from medvault.errors import IsolationError
from medvault.isolation import Isolation, build_isolation, read_state
from medvault.isolation._verify import verify_and_record

isolation_app = typer.Typer(name="isolation", help="Network isolation: reset after a breach, render rules.")

HostNetnsOption = Annotated[
    str | None,
    typer.Option(help="namespace playing the host role (default: the one `medvault up` recorded)"),
]


def register(app: typer.Typer) -> None:
    app.command("verify")(verify)
    app.add_typer(isolation_app)


def _iso(settings: Settings, host_netns: str | None) -> Isolation:
    if os.geteuid() != 0:
        fail("this needs root (it reads nftables and enters the zone namespaces)", status=2)
    recorded = read_state(settings.data_dir).get("host_netns")
    return build_isolation(settings.isolation, data_dir=settings.data_dir, host_netns=host_netns or recorded)


def verify(
    config: ConfigOption = None,
    host_netns: HostNetnsOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False,
    probes: Annotated[bool, typer.Option(help="run the egress probes from every zone")] = True,
) -> None:
    """Prove isolation: state, firewall drift, routes and sysctls, then egress probes from every zone.

    The outcome is recorded beside the isolation state (time, result, what failed) for the admin status
    page and the evidence report; a pass without probes is not recorded (it proves less)."""
    settings = settings_from(config)
    announce_data_dir(settings)
    try:
        report, unrecorded = verify_and_record(_iso(settings, host_netns), probes=probes)
    except IsolationError as exc:
        fail(str(exc))
    if as_json:
        typer.echo(json.dumps(report.as_dict(), indent=2))
    else:
        checks = Table("check", "result", "detail", title="isolation audit")
        for check in report.checks:
            checks.add_row(check.name, "[green]ok[/]" if check.ok else "[bold red]FAIL[/]", check.detail)
        console.print(checks)
        if report.probes:
            probes_table = Table("zone", "probe", "verdict", "detail", "ms", title="egress probes")
            colour = {"blocked": "green", "reachable": "bold red", "error": "yellow"}
            for result in report.probes:
                verdict = str(result.verdict)
                probes_table.add_row(
                    result.zone,
                    result.probe.label(),
                    f"[{colour[verdict]}]{verdict}[/]",
                    result.detail,
                    str(result.elapsed_ms),
                )
            console.print(probes_table)
        console.print(
            "[bold green]isolation verified[/]" if report.ok else "[bold red]isolation NOT verified[/]"
        )
    if unrecorded:
        fail(unrecorded)
    if not report.ok:
        raise typer.Exit(1)


@isolation_app.command()
def reset(
    config: ConfigOption = None,
    host_netns: HostNetnsOption = None,
    yes: Annotated[bool, typer.Option("--yes", help="confirm that the breach was investigated")] = False,
) -> None:
    """After investigating a breach: remove the cut, the zones and the `breached` state."""
    settings = settings_from(config)
    announce_data_dir(settings)
    from medvault.supervisor import data_dir_lock, first_holder, isolation_locks

    locks = [(data_dir_lock(settings.data_dir), f"data dir {settings.data_dir}")]
    busy = first_holder(locks + isolation_locks(settings.isolation.netns_prefix, host_netns))
    if busy:  # a reset tears down zones and rules: never those of a running instance
        fail(f"MedVault runs for {busy}; nothing was changed. Stop it with `medvault down` first")
    state = read_state(settings.data_dir)
    if state["state"] == "breached" and not yes:
        console.print(f"recorded breach: {state.get('reason')} (at {state.get('since')})")
        typer.confirm("Has the breach been investigated?", abort=True)
    iso = _iso(settings, host_netns)
    # Opened first: a reset that cannot be audited (no database) changes nothing.
    with cli_store(config) as store:
        try:
            iso.reset()
        except IsolationError as exc:
            fail(str(exc))
        # Who cleared which state and when (the event's own time), never the breach's reason: no content.
        since = str(state.get("since"))
        record_cli_action(store, "isolation.reset", previous_state=state["state"], since=since)
    console.print("isolation reset: zones and rules removed, state cleared; `medvault up` may start again")


@isolation_app.command()
def render(
    config: ConfigOption = None,
    gateway_port: Annotated[int | None, typer.Option(help="render the ingress DNAT to this dmz port")] = None,
    check: Annotated[bool, typer.Option(help="also validate with `nft -c` (needs root)")] = False,
) -> None:
    """Print the host firewall rendered from the policy (what `nft -f` applies)."""
    settings = settings_from(config)
    iso = build_isolation(settings.isolation, data_dir=settings.data_dir, dry_run=True)
    text = iso.render(gateway_port)
    if check:
        try:
            iso.check(gateway_port)
        except IsolationError as exc:
            fail(str(exc))
    typer.echo(text)
