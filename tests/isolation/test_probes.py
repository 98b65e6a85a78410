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

import pytest

from medvault.isolation import Isolation, _sys
from medvault.isolation._probes import (
    Probe,
    Verdict,
    _from_oserror,
    _icmp_parse,
    _icmp_verdict,
    dns_query,
    egress_probes,
    run_probe,
)
from medvault.isolation._verify import verify
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


def test_icmp_replies_are_matched_by_identifier() -> None:
    """An echo reply or an error quoting our echo is recognised; someone else's is ignored."""
    reply = bytes([0x45]) + bytes(19) + struct.pack("!BBHHH", 0, 0, 0, 4242, 1)
    assert _icmp_parse(reply, v6=False, ident=4242) == (0, 0, 4242)
    assert _icmp_parse(reply, v6=False, ident=7) is None
    quoted = bytes([0x45]) + bytes(19) + struct.pack("!BBHHH", 8, 0, 0, 4242, 1)
    error = bytes([0x45]) + bytes(19) + struct.pack("!BBHI", 3, 13, 0, 0) + quoted
    assert _icmp_parse(error, v6=False, ident=4242) == (3, 13, 4242)
    v6_error = struct.pack("!BBHI", 1, 1, 0, 0) + bytes(40) + struct.pack("!BBHHH", 128, 0, 0, 99, 1)
    assert _icmp_parse(v6_error, v6=True, ident=99) == (1, 1, 99)


def test_icmp_verdicts() -> None:
    """Admin-prohibited or any unreachable from the zone's gateway is blocked; an echo reply or an
    unreachable from anywhere else proves the packet got out."""
    assert _icmp_verdict((3, 13, 1), False, "100.72.0.1")[0] is Verdict.BLOCKED
    assert _icmp_verdict((1, 1, 1), True, "fe80::1")[0] is Verdict.BLOCKED
    assert _icmp_verdict((0, 0, 1), False, "192.0.2.1")[0] is Verdict.REACHABLE
    assert _icmp_verdict((3, 3, 1), False, "192.0.2.1")[0] is Verdict.REACHABLE
    assert _icmp_verdict((3, 0, 1), False, "192.0.2.9", gateway="100.72.0.1")[0] is Verdict.REACHABLE
    assert _icmp_verdict((3, 0, 1), False, "100.72.0.1", gateway="100.72.0.1")[0] is Verdict.BLOCKED


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
