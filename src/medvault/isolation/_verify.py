"""`medvault verify`: the proof a security officer can rerun at any time.

It fails on a recorded breach, on any drift of the firewall (missing, dormant, changed, or a netdev
table that could steer zone traffic), on changed routes or sysctls, on any zone process that is not
sandboxed (see _inspect), and on any egress probe that is not `blocked` (an `error` fails too: silence
proves nothing).

`verify_and_record` also records the outcome beside the state (`_state.record_verify`), for the admin
status page and the evidence report's "last verify".
"""

from __future__ import annotations

import contextlib
from concurrent.futures import BrokenExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from medvault.errors import IsolationError
from medvault.isolation import _inspect, _state, _sys
from medvault.isolation._isolation import Isolation
from medvault.isolation._probes import ProbeResult, Verdict


@dataclass
class Check:
    name: str
    ok: bool
    detail: str


@dataclass
class VerifyReport:
    checks: list[Check] = field(default_factory=list)
    probes: list[ProbeResult] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks) and all(p.verdict is Verdict.BLOCKED for p in self.probes)

    def failures(self) -> list[str]:
        """What failed, by name: the checks, then each probe that was not blocked (zone, probe, verdict)."""
        checks = [c.name for c in self.checks if not c.ok]
        probes = [
            f"{p.zone} {p.probe.label()} {p.verdict}" for p in self.probes if p.verdict is not Verdict.BLOCKED
        ]
        return checks + probes

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "checks": [vars(c) for c in self.checks],
            "probes": [p.as_dict() for p in self.probes],
        }


def verify(iso: Isolation, *, probes: bool = True) -> VerifyReport:
    """Audit the state, the firewall and the zones, then probe from every zone."""
    report = VerifyReport()
    state = _state.read_state(iso.data_dir)
    if state["state"] == "breached":
        report.checks.append(
            Check(
                "state",
                False,
                f"breached since {state.get('since')}: {state.get('reason')}; investigate, then run "
                "`medvault isolation reset`",
            )
        )
        return report
    if state["state"] != "ok":
        report.checks.append(Check("state", False, "isolation is not up (run `medvault up` as root)"))
        return report
    report.checks.append(Check("state", True, f"ok since {state.get('since')}"))
    if iso.host_netns is not None and not _sys.netns_path(iso.host_netns).exists():
        raise IsolationError(_vanished(iso.host_netns))
    try:
        _audit(iso, report, probes=probes)
    except BrokenExecutor:  # a thread could not enter its namespace: it vanished while we looked
        missing = [n for n in _namespaces(iso) if not _sys.netns_path(n).exists()]
        raise IsolationError(
            _vanished(", ".join(missing)) if missing else "a namespace could not be entered while verifying"
        ) from None
    return report


def verify_and_record(iso: Isolation, *, probes: bool = True) -> tuple[VerifyReport, str | None]:
    """`verify`, then record its outcome for the state it verified (`_state.record_verify`).

    Returns the report and, when the outcome could not be written, why (the caller must say so: an
    older pass must not stand unnoticed). Nothing is recorded without a state, nor for a pass without
    probes (it proves less; a failure without them still counts). A verify that could not finish is
    recorded as failed ("verify"), then its error raised.
    """
    since = _state.read_state(iso.data_dir).get("since")
    try:
        report = verify(iso, probes=probes)
    except IsolationError:
        with contextlib.suppress(OSError):  # the verify's own error is the one to report
            _state.record_verify(iso.data_dir, since, False, ["verify"])
        raise
    if report.ok and not probes:
        return report, None
    try:
        _state.record_verify(iso.data_dir, since, report.ok, report.failures())
    except OSError as exc:
        return report, f"the outcome could not be recorded in {_state.verify_path(iso.data_dir)}: {exc}"
    return report, None


def _namespaces(iso: Isolation) -> list[str]:
    return [n for n in (iso.host_netns, *(link.netns for link in iso.links.values())) if n is not None]


def _vanished(names: str) -> str:
    return (
        f"network namespace {names} does not exist (any more), so nothing in it can be verified; "
        "the isolation MedVault set up is gone or was never there: check `medvault status`, then "
        "`medvault down` and `medvault up` (or pass --host-netns if another namespace plays the host role)"
    )


def _audit(iso: Isolation, report: VerifyReport, *, probes: bool) -> None:
    """The firewall, the zones, the workloads and (with `probes`) the egress battery, into `report`."""
    drift = iso.drift()
    report.checks.append(
        Check("firewall", not drift, "\n".join(drift) or "live ruleset equals the rendered one")
    )
    zones = iso.zone_problems()
    report.checks.append(
        Check("zones", not zones, "\n".join(zones) or "namespaces, routes and sysctls as set")
    )
    report.checks.append(_workloads(iso))
    if probes:
        report.probes = iso.probe_zones(iso.full_battery, iso.policy.monitor.timeout_s)


def _workloads(iso: Isolation, proc: Path = Path("/proc")) -> Check:
    """Every process in every zone is sandboxed (namespaces, user, capabilities, seccomp; see _inspect).

    A zone whose processes cannot be listed fails the check, and so does a verifier that could not see
    other users' processes in the listing (no CAP_SYS_PTRACE): "0 workloads" must mean none ran.
    """
    host = _inspect.host_namespaces(proc)
    checked = 0
    problems: list[str] = []
    if not _inspect.may_read_every_process(proc):
        problems.append(
            "cannot see other users' processes without CAP_SYS_PTRACE: run verify as root with it"
        )
    for zone, link in iso.links.items():
        facts = _inspect.ZoneFacts(zone, _sys.netns_path(link.netns), iso.zone_user(zone))
        try:
            pids = _sys.netns_pids(link.netns, proc)
        except IsolationError as exc:
            problems.append(f"{zone}: its processes cannot be listed, so none was checked: {exc}")
            continue
        count, found = _inspect.workload_problems(facts, pids, host, proc)
        checked, problems = checked + count, problems + found
    detail = "\n".join(problems) or (
        f"{checked} workload(s) sandboxed: own mnt/pid/ipc/uts namespaces, the zone's netns and user, "
        "no capabilities, no-new-privs, seccomp"
    )
    return Check("workloads", not problems, detail)
