"""The active monitor: probes from every zone every interval, and audits on every rule or route change.

It lives in the supervisor's process, in the host role, outside every zone: its probe threads join the
zones' namespaces, but no zone process can see, signal or answer for it. Two threads:

- the watcher listens on netlink for nftables changes in the host role (the group `nft monitor` reads),
  for link and tc changes in the host role and inside every zone (an XDP program attached shows as a
  link change, a qdisc or filter added as a tc change), and for route changes inside every zone, and
  audits the moment anything changes; every 0.5 s it also reads the audited sysctls, the host role's
  iptables-legacy tables and the links and qdiscs on both sides of the zone links (file reads, one
  syscall per table, two rtnetlink dumps per namespace, no tool started): none of these reliably sends
  an event (XDP attached through a BPF link sends none);
- the prober runs a short battery from every zone every `interval_s`, and a full audit every few rounds.

The first finding triggers the kill switch (`Isolation.contain`) and then `on_breach`. If the monitor
cannot do its job (probes keep erroring, a netlink socket breaks), it calls `on_failure` once and stops:
the supervisor then stops the service (fail closed) and does not restart it.
"""

from __future__ import annotations

import errno
import selectors
import socket
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

import structlog

from medvault.errors import IsolationError
from medvault.isolation import _integrity, _sys
from medvault.isolation._probes import Probe, ProbeResult, Verdict, ZoneProber

if TYPE_CHECKING:  # the isolation object creates its monitor; only its type is needed here
    from medvault.isolation._isolation import Isolation

log = structlog.get_logger("medvault.isolation.monitor")

_NETLINK_NETFILTER = 12
_NFNLGRP_NFTABLES = 7
_RTMGRP_IPV4_ROUTE = 0x40
_RTMGRP_IPV6_ROUTE = 0x400
_RTMGRP_IPV4_RULE = 0x80
_RTMGRP_LINK = 0x1
_RTMGRP_TC = 0x8
# Rounds between full audits when nothing changed: only the net under the events and polls, since every
# kind of change audited now has either (nftables, routes, links, tc: events; sysctls, iptables-legacy,
# XDP through a BPF link: the 0.5 s poll). Every 10 s, not 5, keeps the monitor within 2 % of a core.
_AUDIT_EVERY = 10
_POLL_EVERY_S = 0.5  # sysctls, iptables-legacy, XDP links: changes with no event this monitor hears


def _netlink_socket(protocol: int, groups: int) -> socket.socket:
    sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, protocol)
    sock.bind((0, groups))
    sock.setblocking(False)
    return sock


def quick_battery(iso: Isolation, zone: str) -> list[Probe]:
    """What the monitor sends from `zone` each round: echo, TCP 443 and DNS per target, and the host."""
    probes = []
    for target in (str(t) for t in iso.policy.monitor.targets):
        probes += [Probe("icmp", target), Probe("tcp", target, 443), Probe("dns", target, 53)]
    return [*probes, Probe("tcp", str(iso.links[zone].host_addr), iso.policy.ingress.port)]


class Monitor:
    """Started by `Isolation.start_monitor`; `stop()` ends it."""

    def __init__(
        self,
        iso: Isolation,
        on_breach: Callable[[str], None],
        on_failure: Callable[[str], None],
        battery: Callable[[Isolation, str], list[Probe]] = quick_battery,
    ) -> None:
        self._iso = iso
        self._on_breach = on_breach
        self._on_failure = on_failure
        self._battery = battery
        self._stopped = threading.Event()
        self._once = threading.Lock()
        self._done = False
        self.rounds = 0
        self.audits = 0
        self._probers = {
            zone: ZoneProber(zone, link.netns, workers=8, gateway=str(link.host_addr))
            for zone, link in iso.links.items()
        }
        self._sockets = self._open_sockets()
        self._threads = [
            threading.Thread(target=self._guard(self._watch), name="isolation-watch", daemon=True),
            threading.Thread(target=self._guard(self._probe_loop), name="isolation-probe", daemon=True),
        ]

    def _open_sockets(self) -> list[socket.socket]:
        host = self._iso.host_netns
        socks = [
            _sys.call_in(host, lambda: _netlink_socket(_NETLINK_NETFILTER, 1 << (_NFNLGRP_NFTABLES - 1))),
            _sys.call_in(host, lambda: _netlink_socket(socket.NETLINK_ROUTE, _RTMGRP_LINK | _RTMGRP_TC)),
        ]
        groups = _RTMGRP_IPV4_ROUTE | _RTMGRP_IPV6_ROUTE | _RTMGRP_IPV4_RULE | _RTMGRP_LINK | _RTMGRP_TC
        for link in self._iso.links.values():
            socks.append(_sys.call_in(link.netns, lambda: _netlink_socket(socket.NETLINK_ROUTE, groups)))
        return socks

    def start(self) -> Monitor:
        # A baseline audit first: the monitor never starts on top of a ruleset that already drifted.
        try:
            self._audit("at start")
        except IsolationError:
            self.stop()
            raise
        for thread in self._threads:
            thread.start()
        return self

    def stop(self) -> None:
        self._stopped.set()
        for thread in self._threads:
            if thread.is_alive() and thread is not threading.current_thread():
                thread.join(timeout=5)
        for prober in self._probers.values():
            prober.close()
        for sock in self._sockets:
            sock.close()

    def breach(self, reason: str) -> None:
        """A breach found outside this monitor (the supervisor's engine port check): the same kill switch,
        taken once, and the monitor stops (its probes would otherwise fail against the cut zones)."""
        self._breach(reason)

    # -- the two loops ----------------------------------------------------------------------------
    def _guard(self, loop: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:
            try:
                loop()
            except Exception as exc:  # noqa: BLE001 — a monitor that crashed for any reason must fail closed
                if not self._stopped.is_set():  # errors while being stopped are the shutdown itself
                    self._fail(f"{type(exc).__name__}: {exc}")

        return run

    def _watch(self) -> None:
        with selectors.DefaultSelector() as selector:
            for sock in self._sockets:
                selector.register(sock, selectors.EVENT_READ)
            next_poll = time.monotonic()
            while not self._stopped.is_set():
                ready = selector.select(timeout=0.2)
                if time.monotonic() >= next_poll:
                    next_poll = time.monotonic() + _POLL_EVERY_S
                    self._audit("sysctl, iptables-legacy and link poll", self._polled)
                if not ready:
                    continue
                for key, _ in ready:
                    self._drain(key.fileobj)  # type: ignore[arg-type]
                self._audit("after a ruleset or route change")

    def _polled(self) -> list[str]:
        return self._iso.sysctl_problems() + _integrity.polled_problems(self._iso.host_netns, self._iso.links)

    @staticmethod
    def _drain(sock: socket.socket) -> None:
        while True:
            try:
                sock.recv(65536)
            except BlockingIOError:
                return
            except OSError as exc:  # ENOBUFS: events were lost; the audit that follows covers them
                if exc.errno != errno.ENOBUFS:
                    raise

    def _probe_loop(self) -> None:
        policy = self._iso.policy.monitor
        error_rounds = 0
        while not self._stopped.wait(policy.interval_s):
            self.rounds += 1
            if self.rounds % _AUDIT_EVERY == 0:
                self._audit("periodic audit")
            results = self._probe_round(policy.timeout_s)
            if self._done:
                return
            reachable = [r for r in results if r.verdict is Verdict.REACHABLE]
            if reachable:
                first = reachable[0]
                self._breach(f"zone {first.zone}: {first.probe.label()} reachable ({first.detail})")
                return
            errors = [r for r in results if r.verdict is Verdict.ERROR]
            error_rounds = error_rounds + 1 if errors else 0
            if error_rounds >= policy.max_error_rounds:
                first = errors[0]
                self._fail(
                    f"{error_rounds} probe rounds in a row with errors, e.g. zone {first.zone}: "
                    f"{first.probe.label()}: {first.detail}"
                )
                return

    def _probe_round(self, timeout: float) -> list[ProbeResult]:
        results: list[ProbeResult] = []
        threads = [
            threading.Thread(
                target=lambda z=z, p=p: results.extend(p.run(self._battery(self._iso, z), timeout))
            )
            for z, p in self._probers.items()
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return results

    # -- findings ---------------------------------------------------------------------------------
    def _audit(self, why: str, audit: Callable[[], list[str]] | None = None) -> None:
        if self._done:
            return
        self.audits += 1
        problems = (audit or self._iso.audit)()
        if problems:
            more = f" (+{len(problems) - 1} more)" if len(problems) > 1 else ""
            self._breach(f"{why}: {problems[0].splitlines()[0]}{more}")

    def _breach(self, reason: str) -> None:
        with self._once:
            if self._done:
                return
            self._done = True
        log.error("isolation.breach", reason=reason)
        self._stopped.set()
        try:
            self._iso.contain(reason)
        except IsolationError as exc:  # still report the breach, and say that the cut is incomplete
            reason = f"{reason}; CONTAINMENT INCOMPLETE: {exc}"
        try:
            self._on_breach(reason)
        except Exception:  # the cut stands; a failing callback is logged here, then fails the thread
            log.exception("isolation.on_breach_failed")
            raise

    def _fail(self, reason: str) -> None:
        with self._once:
            if self._done:
                return
            self._done = True
        log.error("isolation.monitor_failed", reason=reason)
        self._stopped.set()
        self._on_failure(reason)
