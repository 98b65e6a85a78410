"""Egress probes made from inside a zone: ICMP/ICMPv6 echo, TCP connect, UDP, DNS.

A probe runs on a thread that has joined the zone's network namespace, so its packets leave exactly as
a workload's would, while the process making them stays in the host role where no workload can reach
it. Each result is `blocked`, `reachable` or `error`, and an error is never read as blocked:

- blocked: a definite refusal only. The zone has no route (ENETUNREACH); the host role rejected the
  packet (EHOSTUNREACH, or EACCES, which is what an ICMPv6 administratively-prohibited answer becomes;
  an ICMP administratively-prohibited answer; any ICMP unreachable sent by the zone's own gateway, i.e.
  the host role, which has no route for it either); or, for IPv6, the zone holds no IPv6 address at all
  (EADDRNOTAVAIL, confirmed by reading the zone's address list), so nothing of that family can be sent.
- reachable: a peer answered: a connection, a reply, a TCP reset or an ICMP port-unreachable (our host
  firewall never sends resets or port-unreachables, so those prove the packet left).
- error: anything else, a timeout included: silence proves nothing. So is every refusal made inside the
  zone before a packet exists (EADDRNOTAVAIL with an address present, EMFILE, ENFILE, ENOBUFS, ENOMEM,
  EPERM): a workload can cause those itself, e.g. by holding every ephemeral port, and they say nothing
  about what the host role would do with the packet. An error fails `verify` and counts toward the
  monitor's failure limit.
"""

from __future__ import annotations

import errno
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

from medvault.isolation import _sys

_BLOCKED_ERRNOS = {errno.ENETUNREACH, errno.EHOSTUNREACH, errno.EACCES}
# The IPv6 addresses of the calling thread's network namespace: a probe thread reads its zone's.
_IF_INET6 = Path("/proc/thread-self/net/if_inet6")
_PROHIBITED_V4 = {9, 10, 13}  # ICMP destination unreachable: administratively prohibited codes
_PROHIBITED_V6 = {1}
_IP_RECVERR, _IPV6_RECVERR = 11, 25  # Linux values; Python's socket module does not export them


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


def _udp(probe: Probe, timeout: float) -> tuple[Verdict, str]:
    family, addr = _sockaddr(probe)
    with socket.socket(family, socket.SOCK_DGRAM) as sock:
        # Without RECVERR a UDP socket only reports "hard" ICMP errors; a net-unreachable from the host
        # role would then look like silence (an error) instead of blocked.
        if family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, _IPV6_RECVERR, 1)
        else:
            sock.setsockopt(socket.IPPROTO_IP, _IP_RECVERR, 1)
        sock.settimeout(timeout)
        try:
            sock.connect(addr)
            sock.send(_payload(probe.kind, probe.port))
            data = sock.recv(4096)
        except TimeoutError:
            return Verdict.ERROR, f"no answer within {timeout} s"
        except OSError as exc:
            return _from_oserror(exc, family == socket.AF_INET6)
    return Verdict.REACHABLE, f"answered with {len(data)} bytes"


def _icmp_parse(data: bytes, v6: bool, ident: int) -> tuple[int, int, int] | None:
    """(type, code, ident of the echo it refers to) of a received ICMP message, or None if unrelated."""
    if not v6:
        data = data[(data[0] & 0x0F) * 4 :]  # raw IPv4 sockets deliver the IP header too
    if len(data) < 8:
        return None
    kind, code = data[0], data[1]
    if kind in (0, 129):
        echo_id = struct.unpack("!H", data[4:6])[0]
    else:  # an error quotes the offending packet: IP header, then our echo request header
        inner = data[8:]
        offset = 40 if v6 else (inner[0] & 0x0F) * 4 if inner else 0
        if len(inner) < offset + 8:
            return None
        echo_id = struct.unpack("!H", inner[offset + 4 : offset + 6])[0]
    return (kind, code, echo_id) if echo_id == ident else None


def _icmp(probe: Probe, timeout: float, gateway: str | None) -> tuple[Verdict, str]:
    family, addr = _sockaddr(probe)
    v6 = family == socket.AF_INET6
    ident = random.getrandbits(16)
    kind = 128 if v6 else 8
    header = struct.pack("!BBHHH", kind, 0, 0, ident, 1) + b"medvault"
    if not v6:  # the kernel computes the ICMPv6 checksum; for ICMPv4 it is ours to fill in
        header = header[:2] + struct.pack("!H", _checksum(header)) + header[4:]
    proto = socket.IPPROTO_ICMPV6 if v6 else socket.IPPROTO_ICMP
    with socket.socket(family, socket.SOCK_RAW, proto) as sock:
        try:
            sock.sendto(header, addr)
        except OSError as exc:
            return _from_oserror(exc, v6)
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            sock.settimeout(left)
            try:
                data, sender = sock.recvfrom(4096)
            except TimeoutError:
                break
            parsed = _icmp_parse(data, v6, ident)
            if parsed is None or parsed[0] == kind:  # not ours, or our own request seen on loopback
                continue
            return _icmp_verdict(parsed, v6, sender[0], gateway)
    return Verdict.ERROR, f"no answer within {timeout} s"


def _icmp_verdict(
    parsed: tuple[int, int, int], v6: bool, sender: str, gateway: str | None = None
) -> tuple[Verdict, str]:
    kind, code, _ = parsed
    if kind in (0, 129):
        return Verdict.REACHABLE, f"echo reply from {sender}"
    unreachable = 1 if v6 else 3
    prohibited = _PROHIBITED_V6 if v6 else _PROHIBITED_V4
    if kind == unreachable and code in prohibited:
        return Verdict.BLOCKED, f"administratively prohibited by {sender}"
    if kind == unreachable and sender == gateway:  # the host role itself had nowhere to send it
        return Verdict.BLOCKED, f"unreachable (code {code}) from the host role {sender}"
    return Verdict.REACHABLE, f"ICMP type {kind} code {code} from {sender}: the packet got out"


def _checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    total = (total >> 16) + (total & 0xFFFF)
    total += total >> 16
    return ~total & 0xFFFF


def run_probe(zone: str, probe: Probe, timeout: float, gateway: str | None = None) -> ProbeResult:
    """Make one probe from the calling thread's namespace and classify it.

    `gateway` is the zone's next hop (the host role's side of its link): an ICMP unreachable from it
    means the host had nowhere to send the packet, so it did not leave.
    """
    started = time.monotonic()
    try:
        if probe.kind == "icmp":
            verdict, detail = _icmp(probe, timeout, gateway)
        else:
            verdict, detail = (_tcp if probe.kind == "tcp" else _udp)(probe, timeout)
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
