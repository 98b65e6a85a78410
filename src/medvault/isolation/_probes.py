"""Egress probes made from inside a zone: ICMP/ICMPv6 echo, TCP connect, UDP, DNS.

A probe runs on a thread that has joined the zone's network namespace, so its packets leave exactly as
a workload's would, while the process making them stays in the host role where no workload can reach
it. Each result is `blocked`, `reachable` or `error`, and an error is never read as blocked:

- blocked: a definite refusal only. The zone has no route (ENETUNREACH, or an unreachable/prohibit
  route: EHOSTUNREACH, EACCES, all found by the zone's own route lookup before a packet exists); or the
  zone's gateway, i.e. the host role's address on the zone link, answered with an ICMP destination
  unreachable (administratively prohibited is what our firewall sends; any other code means the host
  role had no route for it either); or, for IPv6, the zone holds no IPv6 address at all (EADDRNOTAVAIL,
  confirmed by reading the zone's address list), so nothing of that family can be sent.
- reachable: a peer answered: a connection, a reply, a TCP reset or an ICMP port-unreachable (our host
  firewall never sends resets or port-unreachables, so those prove the packet left), or an ICMP error
  about our very packet sent by someone beyond the host role.
- error: anything else, a timeout included: silence proves nothing. So is every refusal made inside the
  zone before a packet exists (EADDRNOTAVAIL with an address present, EMFILE, ENFILE, ENOBUFS, ENOMEM,
  EPERM): a workload can cause those itself, e.g. by holding every ephemeral port, and they say nothing
  about what the host role would do with the packet. An error fails `verify` and counts toward the
  monitor's failure limit.

Who sent an ICMP error matters, because a workload can make the zone's stack and the host role send
errors about its own packets. The ICMP probe reads every ICMP message of the zone on a raw socket, so a
message counts only if it is about our echo: a reply from the target (any other address for a multicast
target) carrying our random identifier and payload, or an error quoting an ICMP echo request with our
identifier, from the zone's source address to the target. A refusal counts only from the gateway and
only if the quote carries our random payload too (Linux quotes the whole echo), so no workload can mask
a probe with an error about a packet of its own. Everything else is ignored and the probe keeps waiting.
The UDP probe reads who sent an error from the socket's error queue (IP_RECVERR) and likewise counts it
as blocked only from the gateway. The kernel matches UDP errors to our socket by its ports, which no
other user can bind.

Residual: a TCP probe's EHOSTUNREACH/EACCES comes from an ICMP error the kernel matched to the
connection by its addresses and ports, but the socket API does not say who sent it. A workload cannot
bind the probe's port, and the drift audit keeps the zone's routes to the host role; an error forged by
anything on the path would still read as blocked.

Where the caller names no gateway for a family (the lab's probes from the host role or the lan, and
IPv6, since a zone's gateway is given as its IPv4 address), the next hop of the probing namespace's own
route to the target is taken: a workload cannot change the routes of its zone, and the drift audit
watches them.
"""

from __future__ import annotations

import errno
import ipaddress
import json
import os
import random
import socket
import struct
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from enum import StrEnum
from pathlib import Path

from medvault.errors import IsolationError
from medvault.isolation import _sys

_BLOCKED_ERRNOS = {errno.ENETUNREACH, errno.EHOSTUNREACH, errno.EACCES}
# The IPv6 addresses of the calling thread's network namespace: a probe thread reads its zone's.
_IF_INET6 = Path("/proc/thread-self/net/if_inet6")
_PROHIBITED_V4 = {9, 10, 13}  # ICMP destination unreachable: administratively prohibited codes
_PROHIBITED_V6 = {1}
_IP_RECVERR, _IPV6_RECVERR = 11, 25  # Linux values; Python's socket module does not export them
_SO_EE_ORIGIN_ICMP, _SO_EE_ORIGIN_ICMP6 = 2, 3  # struct sock_extended_err: the error came in by ICMP
_SOCK_EXTENDED_ERR = struct.Struct("=IBBBBII")  # ee_errno, origin, type, code, pad, info, data
# (echo request, echo reply, destination unreachable, every error type that quotes a packet) per family
_ICMP_V4 = (8, 0, 3, frozenset({3, 4, 5, 11, 12}))
_ICMP_V6 = (128, 129, 1, frozenset({1, 2, 3, 4}))
_ECHO_MARK = b"medvault"


class Verdict(StrEnum):
    BLOCKED = "blocked"
    REACHABLE = "reachable"
    ERROR = "error"


@dataclass(frozen=True)
class Probe:
    """One attempt to get a packet out: `kind` is icmp, tcp, udp or dns."""

    kind: str
    target: str
    port: int | None = None
    scope: str | None = None  # interface of an IPv6 link-local target

    def label(self) -> str:
        where = f"{self.target}%{self.scope}" if self.scope else self.target
        return f"{self.kind} {where}" + (f":{self.port}" if self.port else "")


@dataclass(frozen=True)
class ProbeResult:
    zone: str
    probe: Probe
    verdict: Verdict
    detail: str
    elapsed_ms: float

    def as_dict(self) -> dict[str, object]:
        return {**asdict(self), "probe": self.probe.label(), "verdict": str(self.verdict)}


def dns_query(name: str = "medvault-probe.example") -> bytes:
    """A minimal DNS query (A record, recursion desired)."""
    header = struct.pack("!HHHHHH", random.getrandbits(16), 0x0100, 1, 0, 0, 0)
    qname = b"".join(bytes([len(part)]) + part.encode() for part in name.split(".")) + b"\0"
    return header + qname + struct.pack("!HH", 1, 1)


def _payload(kind: str, port: int | None) -> bytes:
    if kind == "dns" or port == 53:
        return dns_query()
    if port == 123:
        return b"\x1b" + bytes(47)  # NTP client request
    return b"medvault isolation probe\n"


def _sockaddr(probe: Probe) -> tuple[socket.AddressFamily, tuple[object, ...]]:
    if ":" not in probe.target:
        return socket.AF_INET, (probe.target, probe.port or 0)
    scope = socket.if_nametoindex(probe.scope) if probe.scope else 0
    return socket.AF_INET6, (probe.target, probe.port or 0, 0, scope)


def _from_oserror(exc: OSError, v6: bool = False, if_inet6: Path = _IF_INET6) -> tuple[Verdict, str]:
    """Classify a failed socket call; `if_inet6` is the zone's IPv6 address list (a seam for tests)."""
    if isinstance(exc, ConnectionRefusedError):
        return Verdict.REACHABLE, "refused by a peer (reset or port-unreachable): the packet got out"
    if exc.errno in _BLOCKED_ERRNOS:
        return Verdict.BLOCKED, os.strerror(exc.errno or 0)
    # Without any IPv6 address the kernel cannot pick a source, whatever the workload does with ports;
    # with one, the same errno is a local shortage (ephemeral ports) that proves nothing.
    if exc.errno == errno.EADDRNOTAVAIL and v6 and not _has_ipv6_address(if_inet6):
        return Verdict.BLOCKED, os.strerror(exc.errno)  # the kernel's words, like every other refusal
    return Verdict.ERROR, f"{type(exc).__name__}: {exc} (a local failure proves nothing about the host role)"


def _has_ipv6_address(if_inet6: Path) -> bool:
    try:
        return bool(if_inet6.read_text().strip())
    except FileNotFoundError:  # IPv6 compiled out or disabled at boot: the zone has no address either
        return False


def _tcp(probe: Probe, timeout: float) -> tuple[Verdict, str]:
    family, addr = _sockaddr(probe)
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        try:
            sock.connect(addr)
        except TimeoutError:
            return Verdict.ERROR, f"no answer within {timeout} s"
        except OSError as exc:
            return _from_oserror(exc, family == socket.AF_INET6)
    return Verdict.REACHABLE, "connected"


def _udp(probe: Probe, timeout: float, gateway: str | None = None) -> tuple[Verdict, str]:
    family, addr = _sockaddr(probe)
    v6 = family == socket.AF_INET6
    with socket.socket(family, socket.SOCK_DGRAM) as sock:
        # Without RECVERR a UDP socket only reports "hard" ICMP errors; a net-unreachable from the host
        # role would then look like silence (an error) instead of blocked. With it, the error queue
        # also says who sent each ICMP error.
        if v6:
            sock.setsockopt(socket.IPPROTO_IPV6, _IPV6_RECVERR, 1)
        else:
            sock.setsockopt(socket.IPPROTO_IP, _IP_RECVERR, 1)
        sock.settimeout(timeout)
        try:
            sock.connect(addr)  # the zone's own route lookup: its refusals are definite and local
        except OSError as exc:
            return _from_oserror(exc, v6)
        try:
            sock.send(_payload(probe.kind, probe.port))
            data = sock.recv(4096)
        except TimeoutError:
            return Verdict.ERROR, f"no answer within {timeout} s"
        except OSError as exc:
            return _udp_refusal(exc, _error_origin(sock), sock.getsockname()[0], probe, gateway)
    return Verdict.REACHABLE, f"answered with {len(data)} bytes"


def _udp_refusal(
    exc: OSError, origin: tuple[str, int, int] | None, source: str, probe: Probe, gateway: str | None
) -> tuple[Verdict, str]:
    """Classify an error on a UDP socket bound to `source` by the ICMP error behind it, `origin`:
    (sender, type, code) from the error queue, None when nothing was queued."""
    if origin is None:  # a local failure, or one nobody can attribute
        return Verdict.ERROR, f"{type(exc).__name__}: {exc} (no ICMP error says who refused: proves nothing)"
    sender, kind, code = origin
    what = f"ICMP type {kind} code {code} from {sender}"
    if isinstance(exc, ConnectionRefusedError):
        return Verdict.REACHABLE, f"port unreachable from {sender}: the packet got out"
    if exc.errno not in _BLOCKED_ERRNOS or _same(sender, source):  # the zone's own stack: no neighbour
        return Verdict.ERROR, f"{type(exc).__name__}: {exc} ({what}: proves nothing)"
    host_role = _gateway_for(probe, gateway)
    if host_role is None:
        return Verdict.ERROR, f"{what}, but the zone's gateway is unknown"
    v6 = ":" in source
    if _same(sender, host_role) and kind == (_ICMP_V6 if v6 else _ICMP_V4)[2]:
        return Verdict.BLOCKED, _refusal(v6, code, sender)
    if _same(sender, host_role):  # time exceeded, parameter problem: not a refusal
        return Verdict.ERROR, f"{what}: not a refusal"
    return Verdict.REACHABLE, f"{what}, beyond the host role: the packet got out"


def _refusal(v6: bool, code: int, gateway: str) -> str:
    """How a destination unreachable with `code` from the zone's gateway reads in a probe result."""
    if code in (_PROHIBITED_V6 if v6 else _PROHIBITED_V4):
        return f"administratively prohibited by the host role {gateway}"
    return f"unreachable (code {code}) from the host role {gateway}: it has no route either"


def _error_origin(sock: socket.socket) -> tuple[str, int, int] | None:
    """(sender, ICMP type, code) of the ICMP error queued on `sock` (IP_RECVERR), or None if there is none."""
    try:
        _, ancillary, _, _ = sock.recvmsg(512, 512, socket.MSG_ERRQUEUE | socket.MSG_DONTWAIT)
    except OSError:  # nothing queued (EAGAIN)
        return None
    for level, kind, data in ancillary:
        if (level, kind) not in ((socket.IPPROTO_IP, _IP_RECVERR), (socket.IPPROTO_IPV6, _IPV6_RECVERR)):
            continue
        _, origin, icmp_type, code, _, _, _ = _SOCK_EXTENDED_ERR.unpack_from(data)
        if origin not in (_SO_EE_ORIGIN_ICMP, _SO_EE_ORIGIN_ICMP6):
            return None
        return _offender(data[_SOCK_EXTENDED_ERR.size :]), icmp_type, code
    return None


def _offender(sockaddr: bytes) -> str:
    """The address in a raw `sockaddr_in` / `sockaddr_in6` (SO_EE_OFFENDER: who sent the ICMP error)."""
    if struct.unpack_from("=H", sockaddr)[0] == socket.AF_INET6:
        return str(ipaddress.ip_address(sockaddr[8:24]))
    return str(ipaddress.ip_address(sockaddr[4:8]))


def _same(address: str | None, other: str | None) -> bool:
    """Two addresses are the same (textual forms differ: zero compression, an IPv6 `%scope`)."""
    if address is None or other is None:
        return False
    return ipaddress.ip_address(address.split("%")[0]) == ipaddress.ip_address(other.split("%")[0])


def _gateway_for(probe: Probe, gateway: str | None) -> str | None:
    """The zone's gateway for the probe's family: the one given, else the route's next hop (module doc)."""
    if gateway is not None and (":" in gateway) == (":" in probe.target):
        return gateway
    return _next_hop(probe)


def _next_hop(probe: Probe) -> str | None:
    """The next hop of the calling thread's namespace towards the target (the target itself when it is on
    the link), or None if the lookup fails: then no refusal can be attributed to the host role."""
    where = ["oif", probe.scope] if probe.scope else []
    try:  # `ip` started from this thread runs in the thread's network namespace
        routes = json.loads(_sys.ip(None, "-j", "route", "get", probe.target, *where) or "[]")
    except (IsolationError, ValueError):
        return None
    return str(routes[0].get("gateway", probe.target)) if routes else None


@dataclass(frozen=True)
class IcmpMessage:
    """A received ICMP message about an echo: an echo reply, or an error quoting an echo request.

    `ident` and `payload` are the reply's, or those of the request the error quotes (the payload as far
    as the quote goes); `quoted` is (source, destination) of the quoted request, None for a reply.
    """

    kind: int
    code: int
    ident: int
    payload: bytes
    quoted: tuple[str, str] | None = None


@dataclass(frozen=True)
class EchoSent:
    """The echo request a probe sent: its identifier and payload, its source and target, and the
    gateway a refusal must come from (None: nothing can be read as blocked)."""

    ident: int
    payload: bytes
    source: str
    target: str
    gateway: str | None


def _icmp_parse(data: bytes, v6: bool) -> IcmpMessage | None:
    """An echo reply, or an error quoting an ICMP echo request; None for anything else."""
    request, reply, _, errors = _ICMP_V6 if v6 else _ICMP_V4
    if not v6:
        if len(data) < 20:
            return None
        data = data[(data[0] & 0x0F) * 4 :]  # raw IPv4 sockets deliver the IP header too
    if len(data) < 8:
        return None
    kind, code = data[0], data[1]
    if kind == reply:
        return IcmpMessage(kind, code, struct.unpack_from("!H", data, 4)[0], data[8:])
    if kind not in errors:
        return None
    quoted = _quoted_echo(data[8:], v6, request)
    if quoted is None:
        return None
    ident, payload, source, destination = quoted
    return IcmpMessage(kind, code, ident, payload, (source, destination))


def _quoted_echo(inner: bytes, v6: bool, request: int) -> tuple[int, bytes, str, str] | None:
    """(ident, payload, source, destination) of the packet an error quotes, if it is an echo request."""
    if v6:  # our request carries no extension headers, so ICMPv6 must follow the fixed header
        if len(inner) < 48 or inner[0] >> 4 != 6 or inner[6] != socket.IPPROTO_ICMPV6:
            return None
        offset = 40
        source, destination = inner[8:24], inner[24:40]
    else:
        offset = (inner[0] & 0x0F) * 4 if inner else 0
        if offset < 20 or len(inner) < offset + 8 or inner[0] >> 4 != 4 or inner[9] != socket.IPPROTO_ICMP:
            return None
        source, destination = inner[12:16], inner[16:20]
    echo = inner[offset:]
    if echo[0] != request:
        return None
    ident = struct.unpack_from("!H", echo, 4)[0]
    return ident, echo[8:], str(ipaddress.ip_address(source)), str(ipaddress.ip_address(destination))


def _icmp(probe: Probe, timeout: float, gateway: str | None) -> tuple[Verdict, str]:
    family, addr = _sockaddr(probe)
    v6 = family == socket.AF_INET6
    request = _ICMP_V6[0] if v6 else _ICMP_V4[0]
    try:
        source = _source_towards(family, addr)
    except OSError as exc:  # the zone's own route lookup refused: nothing was sent
        return _from_oserror(exc, v6)
    sent = EchoSent(
        random.getrandbits(16),
        _ECHO_MARK + os.urandom(8),
        source,
        probe.target,
        _gateway_for(probe, gateway),
    )
    message = struct.pack("!BBHHH", request, 0, 0, sent.ident, 1) + sent.payload
    if not v6:  # the kernel computes the ICMPv6 checksum; for ICMPv4 it is ours to fill in
        message = message[:2] + struct.pack("!H", _checksum(message)) + message[4:]
    proto = socket.IPPROTO_ICMPV6 if v6 else socket.IPPROTO_ICMP
    with socket.socket(family, socket.SOCK_RAW, proto) as sock:
        try:
            sock.sendto(message, addr)
        except OSError as exc:
            return _from_oserror(exc, v6)
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            sock.settimeout(left)
            try:
                data, sender = sock.recvfrom(4096)
            except TimeoutError:
                break
            parsed = _icmp_parse(data, v6)
            verdict = _icmp_verdict(parsed, v6, sender[0], sent) if parsed else None
            if verdict is not None:
                return verdict
    return Verdict.ERROR, f"no answer within {timeout} s"


def _source_towards(family: socket.AddressFamily, addr: tuple[object, ...]) -> str:
    """The address the zone sends from towards `addr`: the same route lookup the echo's own sendto makes
    (connecting a UDP socket sends nothing)."""
    with socket.socket(family, socket.SOCK_DGRAM) as udp:
        udp.connect((addr[0], 9, *addr[2:]))
        return str(udp.getsockname()[0])


def _icmp_verdict(message: IcmpMessage, v6: bool, sender: str, sent: EchoSent) -> tuple[Verdict, str] | None:
    """What `message` from `sender` says about the echo `sent`; None when it is not about it (keep
    waiting): someone else's echo, or an error about a packet a workload sent."""
    _, reply, unreachable, _ = _ICMP_V6 if v6 else _ICMP_V4
    if message.ident != sent.ident:
        return None
    if message.quoted is None:
        from_target = _same(sender, sent.target) or (
            ipaddress.ip_address(sent.target.split("%")[0]).is_multicast and not _same(sender, sent.source)
        )
        if message.kind == reply and message.payload == sent.payload and from_target:
            return Verdict.REACHABLE, f"echo reply from {sender}"
        return None
    if not (_same(message.quoted[0], sent.source) and _same(message.quoted[1], sent.target)):
        return None
    if _same(sender, sent.source):  # the zone's own stack (a neighbour that never answered)
        return None
    if sent.gateway is None:
        return Verdict.ERROR, f"ICMP type {message.kind} from {sender}, but the zone's gateway is unknown"
    if _same(sender, sent.gateway):
        if message.kind != unreachable or not message.payload.startswith(sent.payload):
            return None  # not a refusal, or a quote too short to tell our echo from a workload's
        return Verdict.BLOCKED, _refusal(v6, message.code, sender)
    what = f"ICMP type {message.kind} code {message.code}"
    return Verdict.REACHABLE, f"{what} from {sender}, beyond the host role: the packet got out"


def _checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    total = (total >> 16) + (total & 0xFFFF)
    total += total >> 16
    return ~total & 0xFFFF


def run_probe(zone: str, probe: Probe, timeout: float, gateway: str | None = None) -> ProbeResult:
    """Make one probe from the calling thread's namespace and classify it.

    `gateway` is the zone's next hop (the host role's side of its link): an ICMP refusal counts as
    blocked only from it. None: the next hop of the route to the target (see the module docstring).
    """
    started = time.monotonic()
    try:
        if probe.kind == "icmp":
            verdict, detail = _icmp(probe, timeout, gateway)
        elif probe.kind == "tcp":
            verdict, detail = _tcp(probe, timeout)
        else:
            verdict, detail = _udp(probe, timeout, gateway)
    except OSError as exc:  # socket creation itself failed: that proves nothing about the path
        verdict, detail = Verdict.ERROR, f"{type(exc).__name__}: {exc}"
    return ProbeResult(zone, probe, verdict, detail, round((time.monotonic() - started) * 1000, 1))


def resolvers_seen_by(netns: str) -> list[str]:
    """Name servers a process in `netns` would use (`ip netns exec` shows it /etc/netns/NAME/ first)."""
    for path in (Path("/etc/netns") / netns / "resolv.conf", Path("/etc/resolv.conf")):
        if path.is_file():
            return [
                parts[1].split("%")[0]
                for parts in (line.split() for line in path.read_text().splitlines())
                if len(parts) >= 2 and parts[0] == "nameserver"
            ]
    return []


def egress_probes(
    targets: Iterable[str],
    tcp_ports: Iterable[int],
    udp_ports: Iterable[int],
    resolvers: Iterable[str],
    high_port: int | None = None,
) -> list[Probe]:
    """The full battery: echo, TCP ports plus one random high port, UDP ports, DNS via every resolver.

    `high_port` fixes the "random" high port (tests pair each probe with a control on the same port).
    """
    high = high_port or random.randint(20000, 60999)  # noqa: S311 — an unpredictable port, not a secret
    probes: list[Probe] = []
    for target in targets:
        probes.append(Probe("icmp", target))
        probes += [Probe("tcp", target, port) for port in (*tcp_ports, high)]
        probes += [Probe("udp", target, port) for port in udp_ports]
    probes += [Probe("dns", resolver, 53) for resolver in resolvers]
    return probes


class ZoneProber:
    """A pool of threads living in one zone's namespace, making probes in parallel."""

    def __init__(self, zone: str, netns: str, workers: int = 16, gateway: str | None = None) -> None:
        self.zone = zone
        self.gateway = gateway
        self._pool: ThreadPoolExecutor = _sys.netns_executor(netns, workers, f"probe-{zone}")

    def run(self, probes: list[Probe], timeout: float) -> list[ProbeResult]:
        return list(self._pool.map(lambda p: run_probe(self.zone, p, timeout, self.gateway), probes))

    def close(self) -> None:
        # The threads hold the namespace alive; they must end for `ip netns del` to free it.
        self._pool.shutdown(wait=True, cancel_futures=True)
