"""The isolation part of the evidence report: the policy, its data flows, the rendered ruleset and a fresh
`verify` run at the moment the report is made.

Fail closed: the report says "verified" only when an isolated instance runs (`state` ok, live supervisor)
and every check of `medvault verify` passed and every egress probe was blocked. No instance, a breach, a
report run without root (the firewall and the zones cannot be read), or any error reads "NOT verified".
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from medvault.config import Settings
from medvault.errors import IsolationError
from medvault.isolation import build_isolation, read_state
from medvault.isolation._verify import Check, VerifyReport, verify


@dataclass(frozen=True)
class Flow:
    """One data flow the firewall lets through (everything else is rejected)."""

    source: str
    destination: str
    what: str


@dataclass(frozen=True)
class IsolationEvidence:
    state: dict[str, Any]
    started_at: datetime
    finished_at: datetime
    verified: bool
    verdict: str  # one plain sentence
    checks: tuple[Check, ...]
    probes: tuple[dict[str, object], ...]
    policy: dict[str, Any]
    ruleset: str
    flows: tuple[Flow, ...]
    zones: dict[str, str]  # zone -> its address


def data_flows(settings: Settings, zones: dict[str, str]) -> list[Flow]:
    """The flows the policy declares, in the words of the security model (docs/security-model.md)."""
    policy = settings.isolation
    ingress = policy.ingress
    clients = ", ".join(str(net) for net in ingress.clients) or "(none)"
    flows = [
        Flow(f"hospital clients {clients}", f"ingress {ingress.address}:{settings.port} (DNAT)",
             f"HTTPS to the gateway in the dmz ({zones.get('dmz', '?')})"),
        Flow(f"dmz {zones.get('dmz', '?')} (gateway, workbench)",
             f"vault {zones.get('vault', '?')} TCP {', '.join(map(str, policy.vault_ports))}",
             "prompts to the inference engines, answers back on the same connection"),
    ]  # fmt: skip
    flows += [
        Flow(f"{airlock.zone} {zones.get(airlock.zone, '?')}", f"airlock {airlock.name}: {airlock.address}:"
             f"{airlock.port}/tcp", "one pinned address and port, masqueraded")
        for airlock in policy.airlocks
    ]  # fmt: skip
    flows.append(
        Flow(f"vault {zones.get('vault', '?')}", "anywhere else", "nothing: no route, every packet rejected")
    )
    return flows


def _not_running_as_root(state: dict[str, Any]) -> VerifyReport:
    return VerifyReport(
        checks=[
            Check("state", True, f"ok since {state.get('since')}"),
            Check(
                "privileges",
                False,
                "the report was not made as root: the firewall, the zones and their processes could not "
                "be read, so nothing was verified; run `medvault report evidence` as root",
            ),
        ]
    )


def _verdict(state: dict[str, Any], report: VerifyReport, verified: bool) -> str:
    if verified:
        return "Isolation verified: every check passed and every egress probe was blocked."
    name = state["state"]
    if name in ("off", "down"):
        return (
            f"No isolated MedVault instance is running (isolation state: {name}). Isolation is NOT "
            "verified: this report cannot attest that data cannot leave the host."
        )
    if name == "breached":
        return f"Isolation was BREACHED ({state.get('reason')}, at {state.get('since')}). NOT verified."
    failed = ", ".join(c.name for c in report.checks if not c.ok) or "egress probes"
    return f"Isolation NOT verified: {failed} failed (details below)."


def isolation_evidence(settings: Settings, clock: Callable[[], datetime]) -> IsolationEvidence:
    """Run `verify` now (as `medvault verify` does) and collect what the report shows about isolation."""
    state = read_state(settings.data_dir)
    running = state["state"] == "ok"
    root = os.geteuid() == 0
    # Without root the isolation object is only used to render: verify() stops at a state that is not ok.
    iso = build_isolation(
        settings.isolation, data_dir=settings.data_dir, host_netns=state.get("host_netns"), dry_run=not root
    )
    started = clock()
    if running and not root:
        report = _not_running_as_root(state)
    else:
        try:
            report = verify(iso)
        # A tool that failed, or a namespace that is gone (a thread pool that cannot enter it raises
        # BrokenThreadPool, a RuntimeError): a verify that could not finish is not a pass.
        except (IsolationError, OSError, RuntimeError) as exc:
            report = VerifyReport(checks=[Check("verify", False, f"{type(exc).__name__}: {exc}")])
    finished = clock()
    state_ok = any(c.name == "state" and c.ok for c in report.checks)
    verified = running and state_ok and report.ok
    zones = {zone: str(link.zone_addr) for zone, link in iso.links.items()}
    return IsolationEvidence(
        state=state, started_at=started, finished_at=finished, verified=verified,
        verdict=_verdict(state, report, verified), checks=tuple(report.checks),
        probes=tuple(p.as_dict() for p in report.probes),
        policy=settings.isolation.model_dump(mode="json"),
        ruleset=iso.render(state.get("gateway_port") if running else None),
        flows=tuple(data_flows(settings, zones)), zones=zones,
    )  # fmt: skip
