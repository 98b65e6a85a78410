"""The isolation of one MedVault deployment: set up, audit, probe, contain, tear down.

`build_isolation()` is what the supervisor and the CLI call. With `dry_run=True` nothing is applied:
the ruleset is rendered and validated with `nft -c` only, which is the seam for unit tests.
"""

from __future__ import annotations

import contextlib
import difflib
import ipaddress
import json
import os
import signal
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import structlog

from medvault.errors import IsolationError
from medvault.isolation import (
    _cgroup,
    _integrity,
    _nft,
    _sandbox,
    _seccomp,
    _state,
    _sys,
    _topology,
    _workload,
)
from medvault.isolation._ingress import IngressHandle, LoopbackBridge
from medvault.isolation._layout import ZoneLink, zone_links
from medvault.isolation._monitor import Monitor
from medvault.isolation._probes import Probe, ProbeResult, ZoneProber, egress_probes, resolvers_seen_by
from medvault.isolation._render import PANIC_TABLE, TABLE, render, render_panic
from medvault.isolation.policy import IsolationPolicy

log = structlog.get_logger("medvault.isolation")


class Isolation:
    """Zones, host firewall and kill switch for one data directory and one host role."""

    def __init__(
        self, policy: IsolationPolicy, *, data_dir: Path, host_netns: str | None = None, dry_run: bool = False
    ) -> None:
        self.policy = policy
        self.data_dir = data_dir
        self.host_netns = host_netns
        self.dry_run = dry_run
        self.links: dict[str, ZoneLink] = zone_links(policy)
        persisted = _state.read_state(data_dir)
        self.gateway_port: int | None = persisted.get("gateway_port") if persisted["state"] == "ok" else None
        self._expected: str | None = None
        self._users: dict[str, _workload.WorkloadUser] = {}
        self._cgroups: _cgroup.ZoneCgroups | None = None
        self._lock = threading.RLock()  # rules change and drift audits never interleave
        self._monitor_pending = False  # `up(monitored=True)` built the zones; the state says `off` until then

    # -- rendering and applying ------------------------------------------------------------------
    def render(self, gateway_port: int | None = None, *, link_chains: bool = True) -> str:
        """The host firewall for this policy (with ingress to `gateway_port` when given)."""
        return render(self.policy, self.links, gateway_port, link_chains=link_chains)

    def check(self, gateway_port: int | None = None) -> None:
        """Validate the rendered ruleset with `nft -c` against the host role's kernel; applies nothing."""
        _nft.check(self.render(gateway_port), self.host_netns)

    def _apply(self, gateway_port: int | None, *, link_chains: bool = True) -> None:
        text = self.render(gateway_port, link_chains=link_chains)
        with self._lock:
            _nft.check(text, self.host_netns)
            if self.dry_run:
                return
            expected = _nft.canonical(text, self._link_devices())
            _nft.apply(text, self.host_netns)
            self._expected, self.gateway_port = expected, gateway_port

    def _link_devices(self) -> list[str]:
        return [link.host_if for link in self.links.values()]

    def expected_listing(self) -> str:
        """The canonical listing the live table must equal (computed once per applied ruleset)."""
        with self._lock:
            if self._expected is None:
                self._expected = _nft.canonical(self.render(self.gateway_port), self._link_devices())
            return self._expected

    # -- lifecycle -------------------------------------------------------------------------------
    def preflight(self) -> None:
        """Refuse to start on a breached state, without root, or without the system tools."""
        state = _state.read_state(self.data_dir)
        if state["state"] == "breached":
            raise IsolationError(
                f"isolation was breached ({state.get('reason', 'no reason recorded')}, "
                f"at {state.get('since')}); "
                "the service stays down until an admin has investigated and run `medvault isolation reset`"
            )
        if os.geteuid() != 0:
            raise IsolationError("isolation needs root (namespaces, nftables); run as root")
        missing = _sys.missing_tools()
        if missing:
            raise IsolationError(
                f"missing system tools: {', '.join(missing)}; install the Debian packages nftables, "
                "iproute2, util-linux and bubblewrap"
            )
        if self.host_netns is not None and "/" in self.host_netns:
            raise IsolationError(f"--host-netns {self.host_netns!r} must be a namespace name, not a path")

    def up(self, *, monitored: bool = False) -> None:
        """Clean leftovers, apply the firewall, then create the zones (filtered from their first packet).

        The state says `ok` at the end, or with `monitored` (the supervisor) only once `start_monitor` has
        the monitor running: green means watched (docs/isolation.md), and until then it says `off`.
        """
        if self.dry_run:
            self._apply(None)
            return
        self.down()  # after a crash; this also removes a host namespace a previous run created
        self._resolve_users(create=True)
        _seccomp.export(self._seccomp_file())
        created_host = self.host_netns is not None and not _sys.netns_exists(self.host_netns)
        if created_host:
            _sys.run(["ip", "netns", "add", str(self.host_netns)])
            _sys.ip(self.host_netns, "link", "set", "lo", "up")
        # Recorded before anything changes them, so that `down` can put them back.
        before = _topology.host_globals_before(self.host_netns, self.links)
        self._cgroups = _cgroup.create(
            self.policy.netns_prefix, list(self.links), pids_max=self.policy.zone_pids_max
        )
        cgroup = str(self._cgroups.root) if self._cgroups else None
        self._persist("off", host_netns_created=created_host, host_sysctls_before=before, cgroup=cgroup)
        # The second line first, so the zones are filtered from their first packet; the link chains
        # once their devices exist (kernels before 6.16 refuse a hook on a missing device). In between
        # no zone process exists yet (`down` above emptied the zones, workloads start after `up`), and
        # the second line already filters whatever the kernel itself sends.
        self._apply(None, link_chains=False)
        _topology.create(self.host_netns, self.links)
        self._apply(None)
        problems = _topology.audit(self.host_netns, self.links)
        if problems:
            raise IsolationError("the zones are not as created: " + "; ".join(problems))
        self._monitor_pending = monitored
        if not monitored:
            self._persist("ok")

    def set_ingress(self, gateway_port: int | None) -> None:
        """Render and apply the ruleset with (or without) ingress DNAT to the dmz's `gateway_port`.

        Refused once a breach is recorded: the panic ruleset stays (the check and the apply hold the
        lock under which `contain` cuts and records).
        """
        with self._lock:
            if not self.dry_run and self.breached():
                raise IsolationError("isolation was breached: the cut stays, no ruleset is applied over it")
            self._apply(gateway_port)
            if not self.dry_run:
                self._persist("ok")

    def breached(self) -> bool:
        """Whether the persisted state records a breach."""
        return bool(_state.read_state(self.data_dir)["state"] == "breached")

    def expose_ingress(self, port: int) -> IngressHandle:
        """DNAT the policy's ingress to the dmz gateway on `port`; with a named host role also bridge the
        machine's 127.0.0.1:<ingress port> to it. `close()` on the handle undoes both."""
        self.set_ingress(port)
        bridge = None
        if self.host_netns is not None and not self.dry_run:
            bridge = LoopbackBridge(
                self.policy.ingress.port, (self.zone_address("dmz"), port), self.host_netns
            )
        return IngressHandle(self._withdraw_ingress, bridge)

    def _withdraw_ingress(self) -> None:
        # After a breach the panic ruleset is in place and must stay: never re-apply over it.
        with self._lock:
            if not self.dry_run and _state.read_state(self.data_dir)["state"] == "ok":
                self.set_ingress(None)

    def start_monitor(self, on_breach: Callable[[str], None], on_failure: Callable[[str], None]) -> Monitor:
        """Start the active monitor (probes, netlink watch, kill switch); `stop()` on it ends it.

        After `up(monitored=True)` the state turns `ok` here, once the monitor's baseline audit passed
        and its threads run (a breach that audit found stays recorded).
        """
        if self.dry_run:
            raise IsolationError("a dry run has no zones to monitor")
        monitor = Monitor(self, on_breach, on_failure).start()
        with self._lock:
            if self._monitor_pending and _state.read_state(self.data_dir)["state"] == "off":
                self._persist("ok")
            self._monitor_pending = False
        return monitor

    def down(self, *, unless_breached: bool = False) -> bool:
        """Remove every namespace, link and table MedVault created; safe to repeat.

        With `unless_breached` (the supervisor's stop) a recorded breach leaves everything as it is, the
        cut included, and returns False; the check holds the lock `contain` records a breach under.
        """
        if self.dry_run:
            return True
        with self._lock:
            state = _state.read_state(self.data_dir)
            if unless_breached and state["state"] == "breached":
                log.warning("down_skipped_after_breach", reason=state.get("reason"))
                return False
            self._remove(state)
        return True

    def _remove(self, state: dict[str, Any]) -> None:
        """`down`'s work: kill, then remove cgroups, zones, host sysctls, tables and a created host role."""
        host_alive = self.host_netns is None or _sys.netns_exists(self.host_netns)
        survivors = self.kill_zone_processes()
        cgroups = self._zone_cgroups()
        if cgroups is not None and not survivors:
            cgroups.remove()
        self._cgroups = None
        _topology.remove(self.host_netns, self.links)
        if host_alive and state.get("host_sysctls_before"):
            _topology.restore_host_globals(self.host_netns, self.links, state["host_sysctls_before"])
        if host_alive:
            for family, table in (("inet", TABLE), ("netdev", PANIC_TABLE)):
                _sys.run(
                    _sys.in_role(self.host_netns, ["nft", "delete", "table", family, table]), check=False
                )
        if state.get("host_netns_created") and self.host_netns and host_alive:
            _sys.run(["ip", "netns", "del", self.host_netns], check=False)
        if state["state"] != "breached":  # a breach stays recorded until `isolation reset`
            _state.write_state(self.data_dir)
        self._expected, self.gateway_port, self._monitor_pending = None, None, False
        if survivors:
            raise IsolationError(f"zone processes survived SIGKILL: {survivors}")

    def kill_zone_processes(self, deadline_s: float = 2.0) -> list[int]:
        """Kill every zone process: the zone cgroups at once (exact), then whatever the pid loop finds.

        Returns the pids still alive after `deadline_s` (normally none).
        """
        cgroups = self._zone_cgroups()
        left: list[int] = []
        if cgroups is not None:
            try:
                left = cgroups.kill(deadline_s)
            except OSError as exc:  # the pid loop below still runs: the kill switch never stops halfway
                log.error("cgroup_kill_failed", error=str(exc))
        return sorted(set(left) | set(self._kill_loop(deadline_s)))

    def _kill_loop(self, deadline_s: float) -> list[int]:
        """SIGKILL every process in every zone namespace, again and again until none is left.

        The fallback where no zone cgroup exists, and a sweep for anything that entered a zone without
        joining its cgroup (an admin's `ip netns exec`). One pass over `ip netns pids` is not enough: a
        process that forks between the listing and the kill leaves a child behind.
        """
        own = os.getpid()
        deadline = time.monotonic() + deadline_s
        while True:
            pids = [pid for link in self.links.values() for pid in _sys.netns_pids(link.netns) if pid != own]
            if not pids or time.monotonic() > deadline:
                return pids
            for pid in pids:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            time.sleep(0.02)

    def _zone_cgroups(self) -> _cgroup.ZoneCgroups | None:
        """This run's zone cgroups, or those a previous run recorded in the state (for `down`, `up`)."""
        if self._cgroups is None and not self.dry_run:
            recorded = _state.read_state(self.data_dir).get("cgroup")
            self._cgroups = _cgroup.persisted(recorded, self.policy.netns_prefix, list(self.links))
        return self._cgroups

    def _persist(self, state: str, **extra: Any) -> None:
        with self._lock:  # `contain` records a breach under this lock: never `ok` over it
            previous = _state.read_state(self.data_dir)
            if state == "ok" and previous["state"] == "breached":
                raise IsolationError(f"isolation was breached ({previous.get('reason')}): `ok` not recorded")
            kept = {key: previous.get(key) for key in ("host_netns_created", "host_sysctls_before", "cgroup")}
            _state.write_state(
                self.data_dir,
                state=state,
                host_netns=self.host_netns,
                netns_prefix=self.policy.netns_prefix,
                gateway_port=self.gateway_port,
                zones=[self._zone_entry(link, with_processes=False) for link in self.links.values()],
                **(kept | extra),
            )

    # -- facts for the supervisor ----------------------------------------------------------------
    def zone_address(self, zone: str) -> str:
        """The IPv4 address a workload in `zone` binds to and is reached at."""
        return str(self._link(zone).zone_addr)

    def _resolve_users(self, *, create: bool) -> None:
        specs = {"dmz": self.policy.dmz_user, "vault": self.policy.vault_user}
        users = {zone: _workload.resolve(spec, create=create) for zone, spec in specs.items()}
        _workload.check_distinct(users)
        self._users = users

    def zone_user(self, zone: str) -> _workload.WorkloadUser:
        """The unprivileged user `zone`'s workloads run as (`isolation.dmz_user` / `vault_user`)."""
        self._link(zone)
        if not self._users:
            self._resolve_users(create=False)
        return self._users[zone]

    def exec_prefix(
        self,
        zone: str,
        *,
        read_only: Sequence[Path] = (),
        writable: Sequence[Path] = (),
        devices: Sequence[Path] = (),
    ) -> list[str]:
        """argv prefix that runs a command inside `zone`: in the zone's cgroup where there is one (joined
        as root, first), its network namespace, a bubblewrap sandbox of its own (mount, PID, IPC and UTS
        namespaces, the seccomp filter; see _sandbox) that shows the system, the interpreter and
        `read_only` read-only and `writable` writable, as the zone's user with no capabilities.

        Dropping every capability (not only NET_RAW and NET_ADMIN) matters: with CAP_SYS_ADMIN a
        workload could setns() back into the host's namespace and leave the zone. Not being uid 0
        matters as much: it keeps the workload from writing root's files and signalling the supervisor;
        a user per zone keeps the engine from signalling the gateway or reading the database.
        `devices` are the GPU device nodes of a GPU engine (exactly its own; none for anything else).
        """
        link = self._link(zone)
        seccomp = self._seccomp_file()
        if not seccomp.is_file():
            raise IsolationError(f"no seccomp filter at {seccomp}: isolation is not up (run `medvault up`)")
        hostname = f"{self.policy.netns_prefix}-{zone}"
        sandbox = _sandbox.Sandbox(
            seccomp, hostname, tuple(read_only), tuple(writable), Path.cwd(), tuple(devices)
        )
        cgroups = self._zone_cgroups()
        join = cgroups.join_prefix(zone) if cgroups is not None else []
        return [*join, "ip", "netns", "exec", link.netns, *sandbox.argv(), *self.zone_user(zone).setpriv()]

    def gateway_prefix(self, database_files: Sequence[Path], read_only: Sequence[Path] = ()) -> list[str]:
        """`exec_prefix` of the gateway: the data directory read-only but for the directory of the
        database files (SQLite creates its -wal and -shm beside the database), with `run/`, `isolation/`,
        `tls/` and `logs/` read-only again inside it, plus `read_only` (template directories). Inside,
        the ownership and the sticky bit that `share_data_dir` sets still decide what of the rest the
        gateway may change: nothing root owns."""
        data = self.data_dir.resolve()
        inside = [data / name for name in ("run", "isolation", "tls", "logs")]
        writable = sorted({Path(path).resolve().parent for path in database_files})
        return self.exec_prefix("dmz", read_only=[data, *inside, *read_only], writable=writable)

    def _seccomp_file(self) -> Path:
        """The workload filter `up` exports (root's, in the root-only-writable `isolation/`)."""
        return self.data_dir.resolve() / "isolation" / "seccomp.bpf"

    def check_engine_files(self, python: Path, files: list[Path]) -> None:
        """Raise unless the vault user can run `python` and read `files` (model, engine package)."""
        _workload.readable_for(self.zone_user("vault"), python, files)

    def share_data_dir(self, owned: list[Path]) -> None:
        """Let the dmz user into the data directory as far as the gateway needs (see _workload)."""
        _workload.share_data_dir(self.data_dir, self.zone_user("dmz"), owned)

    def _link(self, zone: str) -> ZoneLink:
        try:
            return self.links[zone]
        except KeyError:
            raise IsolationError(f"unknown zone {zone!r}; zones are {', '.join(self.links)}") from None

    def _zone_entry(self, link: ZoneLink, *, with_processes: bool) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "name": link.name,
            "netns": link.netns,
            "addresses": [str(link.zone_addr)],
            "processes": [],
        }
        if with_processes:
            entry["processes"] = [
                {"pid": pid, "name": _sys.process_name(pid)} for pid in _sys.netns_pids(link.netns)
            ]
        return entry

    def status(self) -> dict[str, Any]:
        """`{"state", "host_netns", "zones": [{"name", "netns", "addresses", "processes"}]}`."""
        state = _state.read_state(self.data_dir)
        zones = [self._zone_entry(link, with_processes=os.geteuid() == 0) for link in self.links.values()]
        return {
            "state": state["state"],
            "host_netns": self.host_netns,
            "since": state.get("since"),
            "reason": state.get("reason"),
            "zones": zones if state["state"] != "off" or self._monitor_pending else [],
        }

    # -- audit and probes ------------------------------------------------------------------------
    def drift(self) -> list[str]:
        """Differences between the live firewall and the rendered one, and whatever else in the host role
        or on the zone links could act on zone traffic (see _integrity); empty when there is none."""
        with self._lock:
            live = _nft.listing(self.host_netns)
            if live is None:
                return [f"table inet {TABLE} is missing"]
            problems = []
            if _nft.is_dormant(live):
                problems.append(f"table inet {TABLE} is dormant: its chains filter nothing")
            expected = self.expected_listing()
            if live != expected:
                diff = _diff(expected, live)
                changed = [line for line in diff.splitlines()[2:] if line[:1] in "+-"]
                first = changed[0].strip() if changed else "(order)"
                problems.append(
                    f"live ruleset differs from the rendered one ({len(changed)} lines, first: {first})\n"
                    + diff
                )
        # Everything else that could act on zone traffic: foreign tables, tc, XDP, iptables-legacy.
        return problems + _integrity.problems(self.host_netns, self.links)

    def zone_problems(self) -> list[str]:
        """Missing namespaces, unexpected or missing routes, and changed sysctls."""
        return _topology.audit(self.host_netns, self.links)

    def sysctl_problems(self) -> list[str]:
        """Changed sysctls only: what the monitor polls twice a second (no netlink event announces them)."""
        return _topology.sysctl_audit(self.host_netns, self.links)

    def audit(self) -> list[str]:
        """Drift of the firewall, then of routes and sysctls."""
        return self.drift() + self.zone_problems()

    def host_probes(self) -> list[Probe]:
        """Probes at the host role's own addresses on its listening ports (the input hook's job)."""
        addresses = _host_addresses(self.host_netns)
        ports = sorted(set(_sys.call_in(self.host_netns, _listening_ports)) | {22, self.policy.ingress.port})
        probes = [Probe("tcp", addr, port) for addr in addresses for port in ports]
        return probes + [Probe("icmp", addr) for addr in addresses]

    def link_local_probes(self, zone: str, ports: list[int]) -> list[Probe]:
        """IPv6 link-local escapes over the zone's own link: the router anycast and all-nodes addresses."""
        scope = self._link(zone).zone_if
        probes = [Probe("tcp", "fe80::1", port, scope=scope) for port in ports]
        return [*probes, Probe("icmp", "fe80::1", scope=scope), Probe("icmp", "ff02::1", scope=scope)]

    def probe_zones(self, probes_for: Callable[[str], list[Probe]], timeout: float) -> list[ProbeResult]:
        """Run `probes_for(zone)` from inside every zone, the zones in parallel."""
        probers = {
            zone: ZoneProber(zone, link.netns, gateway=str(link.host_addr))
            for zone, link in self.links.items()
        }
        try:
            results: list[ProbeResult] = []
            threads = [
                threading.Thread(
                    target=lambda z=zone, p=prober: results.extend(p.run(probes_for(z), timeout))
                )
                for zone, prober in probers.items()
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            return results
        finally:
            for prober in probers.values():
                prober.close()

    def full_battery(self, zone: str, high_port: int | None = None) -> list[Probe]:
        """The egress battery of `verify` for one zone: targets, resolvers, host addresses."""
        monitor = self.policy.monitor
        targets = [str(t) for t in monitor.targets]
        resolvers = resolvers_seen_by(self._link(zone).netns)
        probes = egress_probes(targets, monitor.tcp_ports, monitor.udp_ports, resolvers, high_port)
        return probes + self.host_probes() + self.link_local_probes(zone, [22, self.policy.ingress.port])

    # -- kill switch ------------------------------------------------------------------------------
    def contain(self, reason: str) -> None:
        """Cut every zone link in one transaction, record the breach, kill every zone process.

        Cut and record happen under the lock, before the kill (which may take seconds): a stop asked for
        meanwhile finds `breached` and never re-applies the normal ruleset or records `ok` over it.
        Every step runs even if an earlier one failed (a half-done cut must still kill and record);
        failures are raised together at the end so the caller reports the containment as incomplete.
        """
        failures: list[str] = []
        with self._lock:
            present = [
                link.host_if for link in self.links.values() if _link_exists(self.host_netns, link.host_if)
            ]
            try:
                _nft.apply(render_panic(self.links, present), self.host_netns)
            except IsolationError:
                try:  # a link may have vanished meanwhile: cut without the netdev part
                    _nft.apply(render_panic(self.links, []), self.host_netns)
                except IsolationError as exc:
                    failures.append(f"panic ruleset not applied: {exc}")
            for name in present:
                _sys.ip(self.host_netns, "link", "set", name, "down", check=False)
            try:
                self._persist("breached", reason=reason)
            except OSError as exc:  # the kill below still runs
                failures.append(f"breach not recorded: {exc}")
        try:
            survivors = self.kill_zone_processes()
        except IsolationError as exc:  # the zones could not be listed: the breach is recorded all the same
            failures.append(f"zone processes not all killed: {exc}")
        else:
            if survivors:
                failures.append(f"zone processes survived SIGKILL: {survivors}")
        if failures:
            raise IsolationError("; ".join(failures))

    def reset(self) -> None:
        """After an investigation: remove the cut and the zones, and clear the breached state."""
        self.down()
        _state.write_state(self.data_dir)


def _diff(expected: str, live: str) -> str:
    return "\n".join(
        difflib.unified_diff(expected.splitlines(), live.splitlines(), "rendered", "live", lineterm="", n=1)
    )


def _link_exists(netns: str | None, name: str) -> bool:
    return bool(_sys.ip(netns, "-o", "link", "show", "dev", name, check=False).strip())


def _host_addresses(netns: str | None) -> list[str]:
    out = _sys.ip(netns, "-j", "addr", "show")
    found = []
    for iface in json.loads(out or "[]"):
        for addr in iface.get("addr_info", []):
            ip = ipaddress.ip_address(addr["local"])
            if not (ip.is_loopback or ip.is_link_local):
                found.append(str(ip))
    return found


def _listening_ports() -> list[int]:
    """TCP ports something listens on in the calling thread's namespace."""
    ports: set[int] = set()
    for name in ("tcp", "tcp6"):
        path = Path("/proc/thread-self/net") / name
        with contextlib.suppress(FileNotFoundError):
            for line in path.read_text().splitlines()[1:]:
                fields = line.split()
                if fields[3] == "0A":  # TCP_LISTEN
                    ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    return sorted(ports)


def build_isolation(
    policy: IsolationPolicy, *, data_dir: Path, host_netns: str | None = None, dry_run: bool = False
) -> Isolation:
    """The isolation of this deployment; `host_netns` None means the real root namespace is the host."""
    return Isolation(policy, data_dir=data_dir, host_netns=host_netns, dry_run=dry_run)
