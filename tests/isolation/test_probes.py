"""Probe classification: blocked, reachable or error, and an error is never read as blocked."""

from __future__ import annotations

import errno
import socket
import struct

import pytest

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


@pytest.mark.parametrize(
    ("error", "verdict"),
    [
        (OSError(errno.ENETUNREACH, "Network is unreachable"), Verdict.BLOCKED),
        (OSError(errno.EHOSTUNREACH, "No route to host"), Verdict.BLOCKED),
        (OSError(errno.EACCES, "Permission denied"), Verdict.BLOCKED),
        (ConnectionRefusedError(errno.ECONNREFUSED, "refused"), Verdict.REACHABLE),
        (OSError(errno.EMFILE, "Too many open files"), Verdict.ERROR),
        (OSError(errno.ENOBUFS, "No buffer space"), Verdict.ERROR),
    ],
)
def test_socket_errors_are_classified(error: OSError, verdict: Verdict) -> None:
    """Only a refusal by our own host counts as blocked; a reset proves the packet left; the rest is error."""
    assert _from_oserror(error)[0] is verdict


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
