"""Probe classification: blocked, reachable or error, and an error is never read as blocked (even one a
workload provokes in its own zone)."""

from __future__ import annotations

import contextlib
import errno
import random
import socket
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from medvault.isolation import Isolation, _sys
from medvault.isolation._probes import (
    EchoSent,
    Probe,
    Verdict,
    _from_oserror,
    _gateway_for,
    _icmp_parse,
    _icmp_verdict,
    _udp_refusal,
    dns_query,
    egress_probes,
    run_probe,
)
from medvault.isolation._verify import verify
from tests.conftest import require_root
from tests.isolation.conftest import TARGET4, Lab, sh

RANGE = "net.ipv4.ip_local_port_range"
_V6_LINE = "fd000000000000000000000000000002 04 40 00 82     eth0\n"


@pytest.mark.parametrize(
    ("error", "verdict"),
    [
        (OSError(errno.ENETUNREACH, "Network is unreachable"), Verdict.BLOCKED),
        (OSError(errno.EHOSTUNREACH, "No route to host"), Verdict.BLOCKED),
        (OSError(errno.EACCES, "Permission denied"), Verdict.BLOCKED),
        (ConnectionRefusedError(errno.ECONNREFUSED, "refused"), Verdict.REACHABLE),
        (OSError(errno.EADDRNOTAVAIL, "Cannot assign requested address"), Verdict.ERROR),
        (OSError(errno.EPERM, "Operation not permitted"), Verdict.ERROR),
        (OSError(errno.EMFILE, "Too many open files"), Verdict.ERROR),
        (OSError(errno.ENFILE, "Too many open files in system"), Verdict.ERROR),
        (OSError(errno.ENOBUFS, "No buffer space"), Verdict.ERROR),
        (OSError(errno.ENOMEM, "Cannot allocate memory"), Verdict.ERROR),
        (OSError(errno.EINVAL, "Invalid argument"), Verdict.ERROR),
        (OSError(errno.ECONNRESET, "Connection reset by peer"), Verdict.ERROR),
        (OSError(None, "no errno at all"), Verdict.ERROR),
    ],
)
def test_socket_errors_are_classified(tmp_path: Path, error: OSError, verdict: Verdict) -> None:
    """Only a refusal by our own host counts as blocked; a reset proves the packet left; the rest is error."""
    listing = tmp_path / "if_inet6"
    listing.write_text(_V6_LINE)
    assert _from_oserror(error)[0] is verdict
    assert _from_oserror(error, v6=True, if_inet6=listing)[0] is verdict


@pytest.mark.parametrize(
    ("v6", "addresses", "verdict"),
    [
        (True, "", Verdict.BLOCKED),  # IPv6 disabled in the zone: nothing of that family can be sent
        (True, None, Verdict.BLOCKED),  # IPv6 not in the kernel at all
        (True, _V6_LINE, Verdict.ERROR),  # an address exists: the ports ran out, which proves nothing
        (False, "", Verdict.ERROR),  # IPv4 always has the zone's address: a local shortage
    ],
)
def test_address_not_available_is_blocked_only_without_any_ipv6_address(
    tmp_path: Path, v6: bool, addresses: str | None, verdict: Verdict
) -> None:
    """EADDRNOTAVAIL reads as blocked only for IPv6 in a zone whose address list is empty."""
    listing = tmp_path / "if_inet6"
    if addresses is not None:
        listing.write_text(addresses)
    error = OSError(errno.EADDRNOTAVAIL, "Cannot assign requested address")
    assert _from_oserror(error, v6=v6, if_inet6=listing)[0] is verdict


# -- ICMP messages, crafted as the kernel would deliver them to the probe's raw socket ------------------

ZONE4, GATEWAY4, REMOTE4 = "100.72.0.2", "100.72.0.1", "198.51.100.7"
ZONE6, GATEWAY6, TARGET6 = "fe80::2", "fe80::1", "2001:db8:1::10"
IDENT, PAYLOAD = 4242, b"medvault" + bytes(range(8))
SENT4 = EchoSent(IDENT, PAYLOAD, ZONE4, TARGET4, GATEWAY4)
SENT6 = EchoSent(IDENT, PAYLOAD, ZONE6, TARGET6, GATEWAY6)


def _ip4(source: str, destination: str, proto: int, body: bytes) -> bytes:
    """An IPv4 header (no options) and `body`."""
    addresses = socket.inet_aton(source) + socket.inet_aton(destination)
    return struct.pack("!BBHHHBBH", 0x45, 0, 20 + len(body), 0, 0, 64, proto, 0) + addresses + body


def _ip6(source: str, destination: str, next_header: int, body: bytes) -> bytes:
    """An IPv6 header (no extension headers) and `body`."""
    addresses = socket.inet_pton(socket.AF_INET6, source) + socket.inet_pton(socket.AF_INET6, destination)
    return struct.pack("!IHBB", 6 << 28, len(body), next_header, 64) + addresses + body


def _icmp(kind: int, code: int, rest: bytes) -> bytes:
    return struct.pack("!BBH", kind, code, 0) + rest


def _echo(kind: int, ident: int = IDENT, payload: bytes = PAYLOAD) -> bytes:
    return _icmp(kind, 0, struct.pack("!HH", ident, 1) + payload)


def _udp(length: int) -> bytes:
    """A UDP header whose length field (bytes 4-6, where an echo has its identifier) is `length`."""
    return struct.pack("!HHHH", 40000, 9, length, 0)


def _error4(sender: str, kind: int, code: int, quoted: bytes) -> bytes:
    """What the raw socket reads: the outer IPv4 header, then an ICMP error quoting `quoted`."""
    return _ip4(sender, ZONE4, 1, _icmp(kind, code, bytes(4) + quoted))


def _request4(source: str = ZONE4, destination: str = TARGET4, **echo: Any) -> bytes:
    return _ip4(source, destination, 1, _echo(8, **echo))


_V4_CASES = [
    # (what, sender, packet, verdict or None: ignored, the probe keeps waiting)
    ("echo reply from the target", TARGET4, _ip4(TARGET4, ZONE4, 1, _echo(0)), Verdict.REACHABLE),
    (
        "echo reply, someone else's payload",
        TARGET4,
        _ip4(TARGET4, ZONE4, 1, _echo(0, payload=b"x" * 16)),
        None,
    ),
    ("echo reply, another identifier", TARGET4, _ip4(TARGET4, ZONE4, 1, _echo(0, ident=7)), None),
    ("our echo reply, but from loopback", "127.0.0.1", _ip4("127.0.0.1", ZONE4, 1, _echo(0)), None),
    ("admin-prohibited from the gateway", GATEWAY4, _error4(GATEWAY4, 3, 13, _request4()), Verdict.BLOCKED),
    ("net unreachable from the gateway", GATEWAY4, _error4(GATEWAY4, 3, 0, _request4()), Verdict.BLOCKED),
    ("gateway quote without our payload", GATEWAY4, _error4(GATEWAY4, 3, 13, _request4()[:28]), None),
    ("a workload's echo, same identifier", GATEWAY4, _error4(GATEWAY4, 3, 13, _request4(payload=b"w")), None),
    ("time exceeded from the gateway", GATEWAY4, _error4(GATEWAY4, 11, 0, _request4()), None),
    (
        "UDP length spoof, rejected by the gateway",
        GATEWAY4,
        _error4(GATEWAY4, 3, 13, _ip4(ZONE4, TARGET4, 17, _udp(IDENT))),
        None,
    ),
    (
        "UDP length spoof, port unreachable on lo",
        "127.0.0.1",
        _error4("127.0.0.1", 3, 3, _ip4("127.0.0.1", "127.0.0.1", 17, _udp(IDENT))),
        None,
    ),
    (
        "UDP length spoof from the target",
        TARGET4,
        _error4(TARGET4, 3, 3, _ip4(ZONE4, TARGET4, 17, _udp(IDENT))),
        None,
    ),
    (
        "quote of an echo to another target",
        GATEWAY4,
        _error4(GATEWAY4, 3, 13, _request4(destination=REMOTE4)),
        None,
    ),
    (
        "quote of an echo from another source",
        GATEWAY4,
        _error4(GATEWAY4, 3, 13, _request4(source="100.72.0.9")),
        None,
    ),
    (
        "quote of an echo reply, not a request",
        GATEWAY4,
        _error4(GATEWAY4, 3, 13, _ip4(ZONE4, TARGET4, 1, _echo(0))),
        None,
    ),
    ("the zone's own stack (no neighbour)", ZONE4, _error4(ZONE4, 3, 1, _request4()), None),
    (
        "host unreachable from a router beyond",
        REMOTE4,
        _error4(REMOTE4, 3, 1, _request4()[:28]),
        Verdict.REACHABLE,
    ),
    (
        "admin-prohibited from the target itself",
        TARGET4,
        _error4(TARGET4, 3, 13, _request4()),
        Verdict.REACHABLE,
    ),
]


@pytest.mark.parametrize(("what", "sender", "packet", "verdict"), _V4_CASES, ids=[c[0] for c in _V4_CASES])
def test_icmp_messages_count_only_when_they_are_about_our_echo(
    what: str, sender: str, packet: bytes, verdict: Verdict | None
) -> None:
    """An ICMP message decides the probe only if it is about our echo (identifier, payload, source and
    target); a refusal counts only from the gateway; a workload's UDP whose length equals our identifier
    is neither reachable nor blocked."""
    parsed = _icmp_parse(packet, v6=False)
    result = _icmp_verdict(parsed, False, sender, SENT4) if parsed else None
    assert (result[0] if result else None) is verdict, (what, result)


def _request6(source: str = ZONE6, destination: str = TARGET6, **echo: Any) -> bytes:
    return _ip6(source, destination, 58, _echo(128, **echo))


def _error6(kind: int, code: int, quoted: bytes) -> bytes:
    return _icmp(kind, code, bytes(4) + quoted)  # a raw ICMPv6 socket reads no IPv6 header


_V6_CASES = [
    ("echo reply from the target", TARGET6, TARGET6, _echo(129), Verdict.REACHABLE),
    ("echo reply from loopback", TARGET6, "::1", _echo(129), None),
    ("multicast: a neighbour answers", "ff02::1", "fe80::5", _echo(129), Verdict.REACHABLE),
    ("multicast: our own stack answers", "ff02::1", ZONE6, _echo(129), None),
    ("admin-prohibited from the gateway", TARGET6, GATEWAY6, _error6(1, 1, _request6()), Verdict.BLOCKED),
    (
        "the same, gateway written with a scope",
        TARGET6,
        "fe80::1%eth0",
        _error6(1, 1, _request6()),
        Verdict.BLOCKED,
    ),
    ("a workload's echo, same identifier", TARGET6, GATEWAY6, _error6(1, 1, _request6(payload=b"w")), None),
    (
        "UDP length spoof, rejected by the gateway",
        TARGET6,
        GATEWAY6,
        _error6(1, 1, _ip6(ZONE6, TARGET6, 17, _udp(IDENT))),
        None,
    ),
    (
        "UDP length spoof, port unreachable on lo",
        TARGET6,
        "::1",
        _error6(1, 4, _ip6("::1", "::1", 17, _udp(IDENT))),
        None,
    ),
    (
        "address unreachable from a router beyond",
        TARGET6,
        "2001:db8:ff::2",
        _error6(1, 3, _request6()),
        Verdict.REACHABLE,
    ),
]


@pytest.mark.parametrize(
    ("what", "target", "sender", "packet", "verdict"), _V6_CASES, ids=[c[0] for c in _V6_CASES]
)
def test_icmpv6_messages_count_only_when_they_are_about_our_echo(
    what: str, target: str, sender: str, packet: bytes, verdict: Verdict | None
) -> None:
    """The same rules for ICMPv6; for a multicast target any node but ourselves may answer."""
    sent = EchoSent(IDENT, PAYLOAD, ZONE6, target, GATEWAY6)
    parsed = _icmp_parse(packet, v6=True)
    result = _icmp_verdict(parsed, True, sender, sent) if parsed else None
    assert (result[0] if result else None) is verdict, (what, result)


def test_icmp_refusal_without_a_known_gateway_is_an_error() -> None:
    """With no gateway known (the route lookup failed) a refusal cannot be attributed: error, not blocked."""
    parsed = _icmp_parse(_error4(GATEWAY4, 3, 13, _request4()), v6=False)
    assert parsed is not None
    result = _icmp_verdict(parsed, False, GATEWAY4, EchoSent(IDENT, PAYLOAD, ZONE4, TARGET4, None))
    assert result is not None and result[0] is Verdict.ERROR, result


@pytest.mark.parametrize(
    "packet",
    [
        b"",
        bytes([0x45]),
        bytes([0x45]) + bytes(19),
        _error4(GATEWAY4, 3, 13, b""),
        _error4(GATEWAY4, 3, 13, bytes([0x45])),
    ],
)
def test_short_or_malformed_icmp_is_ignored(packet: bytes) -> None:
    """Truncated messages and quotes are ignored, never an exception."""
    assert _icmp_parse(packet, v6=False) is None
    assert _icmp_parse(packet[20:], v6=True) is None


def test_a_real_udp_port_unreachable_with_our_identifier_as_length_is_ignored() -> None:
    """The kernel's own port-unreachable for a UDP datagram whose length equals the probe's identifier,
    read on a raw socket as the probe reads it, is not taken for an answer to the echo; the control
    shows the raw socket did receive that very error."""
    require_root()
    ident = 8 + 300
    with (
        socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP) as raw,
        socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as closed,
        socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender,
    ):
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
        closed.close()  # nothing listens there any more
        raw.settimeout(2)
        sender.sendto(bytes(ident - 8), ("127.0.0.1", port))
        while True:
            data, source = raw.recvfrom(4096)
            if data[20] == 3 and struct.unpack_from("!H", data, 50)[0] == port:  # our port unreachable
                break
    assert struct.unpack_from("!H", data, 52)[0] == ident  # the UDP length, where an echo id would sit
    sent = EchoSent(ident, PAYLOAD, "127.0.0.1", "127.0.0.1", "127.0.0.1")
    parsed = _icmp_parse(data, v6=False)
    assert parsed is None or _icmp_verdict(parsed, False, source[0], sent) is None


@pytest.mark.parametrize(
    ("error", "origin", "verdict"),
    [
        (OSError(errno.EHOSTUNREACH, "No route to host"), (GATEWAY4, 3, 13), Verdict.BLOCKED),
        (OSError(errno.ENETUNREACH, "Network is unreachable"), (GATEWAY4, 3, 0), Verdict.BLOCKED),
        (OSError(errno.EHOSTUNREACH, "No route to host"), (REMOTE4, 3, 1), Verdict.REACHABLE),
        (OSError(errno.EHOSTUNREACH, "No route to host"), (ZONE4, 3, 1), Verdict.ERROR),
        (OSError(errno.EHOSTUNREACH, "No route to host"), None, Verdict.ERROR),
        (ConnectionRefusedError(errno.ECONNREFUSED, "refused"), (TARGET4, 3, 3), Verdict.REACHABLE),
        (OSError(errno.EMSGSIZE, "Message too long"), (GATEWAY4, 3, 4), Verdict.ERROR),
        (OSError(errno.EHOSTUNREACH, "No route to host"), (GATEWAY4, 11, 0), Verdict.ERROR),
    ],
)
def test_udp_refusals_count_as_blocked_only_from_the_gateway(
    error: OSError, origin: tuple[str, int, int] | None, verdict: Verdict
) -> None:
    """A UDP refusal is blocked only if the error queue says the gateway sent it; from beyond the host
    role the packet got out; from the zone itself or with nothing queued it proves nothing."""
    assert _udp_refusal(error, origin, ZONE4, Probe("udp", TARGET4, 53), GATEWAY4)[0] is verdict


def test_the_given_gateway_is_used_for_its_own_family_only() -> None:
    """The zone's IPv4 gateway decides IPv4 probes; it is never compared with an IPv6 sender."""
    assert _gateway_for(Probe("icmp", TARGET4), GATEWAY4) == GATEWAY4
    assert _gateway_for(Probe("icmp", TARGET6), GATEWAY6) == GATEWAY6
    assert _gateway_for(Probe("icmp", "::1"), GATEWAY4) != GATEWAY4


def test_udp_port_unreachable_is_read_from_the_error_queue() -> None:
    """A UDP probe to a closed loopback port is reachable, and the error queue names who answered."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    result = run_probe("here", Probe("udp", "127.0.0.1", port), timeout=1.0)
    assert result.verdict is Verdict.REACHABLE and "from 127.0.0.1" in result.detail, result.as_dict()


def test_dns_query_is_well_formed() -> None:
    """The DNS probe asks one A question for a name under .example."""
    query = dns_query("a.example")
    assert struct.unpack("!HHHH", query[2:10]) == (0x0100, 1, 0, 0)
    assert query[12:] == b"\x01a\x07example\x00\x00\x01\x00\x01"


def test_full_battery_covers_every_kind() -> None:
    """The battery has echo, the listed TCP ports plus a random high one, UDP ports and DNS per resolver."""
    probes = egress_probes(["192.0.2.1", "2001:db8::1"], [22, 443], [53], ["198.51.100.53"])
    assert Probe("icmp", "2001:db8::1") in probes
    high = [p.port for p in probes if p.kind == "tcp" and p.target == "192.0.2.1" and p.port not in (22, 443)]
    assert len(high) == 1 and high[0] is not None and high[0] >= 20000
    assert Probe("dns", "198.51.100.53", 53) in probes


def test_silence_is_an_error_not_blocked() -> None:
    """A UDP probe to a loopback port that swallows datagrams times out and reads as error."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sink:
        sink.bind(("127.0.0.1", 0))
        result = run_probe("here", Probe("udp", "127.0.0.1", sink.getsockname()[1]), timeout=0.2)
    assert result.verdict is Verdict.ERROR and "no answer" in result.detail


def test_loopback_listener_is_reachable_and_closed_port_is_reachable_too() -> None:
    """A listener is reachable; a closed port answers with a reset, which also proves reachability."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        assert run_probe("here", Probe("tcp", "127.0.0.1", port), 0.5).verdict is Verdict.REACHABLE
    assert run_probe("here", Probe("tcp", "127.0.0.1", port), 0.5).verdict is Verdict.REACHABLE


@contextlib.contextmanager
def _ephemeral_ports_held(netns: str, port: int) -> Iterator[None]:
    """Inside `netns` only: one ephemeral port, held by a bound socket, as a workload could arrange."""
    before = sh("ip", "netns", "exec", netns, "sysctl", "-n", RANGE).stdout.split()
    sh("ip", "netns", "exec", netns, "sysctl", "-qw", f"{RANGE}={port} {port}")
    holder = _sys.netns_executor(netns, 1, "hold-port")
    sock = holder.submit(socket.socket).result()  # created in the zone, so it holds the zone's port
    try:
        sock.bind(("0.0.0.0", port))
        yield
    finally:
        sock.close()
        holder.shutdown()
        sh("ip", "netns", "exec", netns, "sysctl", "-qw", f"{RANGE}={before[0]} {before[1]}")


def test_exhausted_ephemeral_ports_make_tcp_probes_errors_and_verify_fails(lab: Lab, iso: Isolation) -> None:
    """A zone that holds its only ephemeral port gets `error`, never `blocked`, for its TCP probes, and
    `verify` fails; with the port free the same probe is blocked, and from the host role it gets out."""
    dmz = iso.links["dmz"]
    probe = Probe("tcp", TARGET4, 443)
    with _ephemeral_ports_held(dmz.netns, 40000 + random.randrange(20000)):
        [starved] = lab.probe(dmz.netns, [probe], timeout=0.5)
        report = verify(iso)
    assert starved.verdict is Verdict.ERROR and "Cannot assign" in starved.detail, starved.as_dict()
    tcp4 = [p for p in report.probes if p.probe.kind == "tcp" and ":" not in p.probe.target]
    assert tcp4 and all(p.verdict is Verdict.ERROR for p in tcp4 if p.zone == "dmz")
    assert not report.ok and report.as_dict()["ok"] is False
    # Controls over the same path: the honest verdict with the port free, and the path itself works.
    assert lab.probe(dmz.netns, [probe], timeout=0.5, zone="dmz")[0].verdict is Verdict.BLOCKED
    assert lab.probe(lab.host, [probe], timeout=0.5)[0].verdict is Verdict.REACHABLE
