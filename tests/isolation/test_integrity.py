"""Whole-firewall integrity: what beside `table inet medvault` could act on zone traffic is found by the
drift audit and contained by the monitor within 1 s; a host firewall that only filters is left alone."""

from __future__ import annotations

import ctypes
import os
import re
import socket
import struct
import subprocess
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from medvault.isolation import Isolation, Verdict, _integrity, _sys, read_state
from medvault.isolation._probes import Probe
from medvault.isolation._verify import verify
from tests.isolation import test_monitor
from tests.isolation.conftest import LAN_CLIENT, TARGET4, Lab, sh
from tests.isolation.test_monitor import Run
from tests.isolation.xdp import attach_xdp

running = test_monitor.running  # the fixture: isolation up, a workload per zone, the monitor on
ZONES = {"mv-dmz", "mv-vault"}
CONTAINMENT_S = 1.0


# -- the rule, table-driven (pure: no root) -------------------------------------------------------------
def _chain(table: str, name: str, family: str = "ip", **hook: Any) -> dict[str, Any]:
    return {"chain": {"family": family, "table": table, "name": name, **hook}}


def _rule(table: str, chain: str, *expr: dict[str, Any], family: str = "ip") -> dict[str, Any]:
    return {"rule": {"family": family, "table": table, "chain": chain, "expr": list(expr)}}


MATCH = {"match": {"op": "==", "left": {"meta": {"key": "iifname"}}, "right": "mv-dmz"}}
PRE = {"type": "filter", "hook": "prerouting", "prio": -300, "policy": "accept"}
INPUT = {"type": "filter", "hook": "input", "prio": 0, "policy": "accept"}
INGRESS = {"type": "filter", "hook": "ingress", "prio": 0, "policy": "accept"}


def _base(*statements: dict[str, Any], hook: dict[str, Any] = PRE) -> list[dict[str, Any]]:
    return [_chain("x", "pre", **hook), _rule("x", "pre", MATCH, *statements)]


HARMFUL: dict[str, tuple[list[dict[str, Any]], str, str]] = {
    "dup": (_base({"dup": {"addr": "192.0.2.254", "dev": "up0"}}), "", "(dup)"),
    "fwd": (_base({"fwd": {"dev": "up0"}}, hook=INPUT), "", "(fwd)"),
    "queue": (_base({"queue": {"num": 3}}), "", "(queue)"),
    "log group": (_base({"log": {"prefix": "x", "group": 2}}), "", "(log group)"),
    "tproxy": (_base({"tproxy": {"port": 9999}}), "", "(tproxy)"),
    "xt TEE": (_base({"xt": {"type": "target", "name": "TEE"}}), "", "(xt TEE)"),
    "dup in a regular chain": (
        [_chain("x", "side"), _rule("x", "side", {"dup": {"addr": "192.0.2.254"}})],
        "",
        "(dup)",
    ),
    "dnat": (_base({"dnat": {"addr": "203.0.113.5"}}), "", "does more than filter (dnat)"),
    "mangle after MedVault": (
        _base(
            {"mangle": {"key": {"payload": {"protocol": "ip", "field": "daddr"}}, "value": "1.2.3.4"}},
            hook={**PRE, "hook": "forward", "prio": 10},
        ),
        "",
        "does more than filter (mangle)",
    ),
    "mark set in a chain jumped to": (
        [
            *_base({"jump": {"target": "sub"}}),
            _chain("x", "sub"),
            _rule("x", "sub", {"mangle": {"key": {"meta": {"key": "mark"}}, "value": 1}}),
        ],
        "",
        "does more than filter (mangle)",
    ),
    "filter-only chain on a zone link": (
        [
            _chain("y", "a", family="netdev", **INGRESS),
            _rule("y", "a", MATCH, {"drop": None}, family="netdev"),
        ],
        'table netdev y {\n\tchain a {\n\t\ttype filter hook ingress device "mv-dmz" priority filter; '
        "policy accept;\n\t\tdrop\n\t}\n}\n",
        "bound to zone link mv-dmz",
    ),
    "a zone link among several devices": (
        [_chain("y", "a", family="netdev", **INGRESS)],
        "table netdev y {\n\tchain a {\n\t\ttype filter hook ingress devices = { lan0, mv-vault } "
        "priority filter; policy accept;\n\t}\n}\n",
        "bound to zone link mv-vault",
    ),
    "flowtable on a zone link": (
        [{"flowtable": {"family": "inet", "table": "f", "name": "ft", "hook": "ingress", "prio": 0}}],
        "table inet f {\n\tflowtable ft {\n\t\thook ingress priority filter\n\t\tdevices = { mv-dmz, up0 }\n"
        "\t}\n}\n",
        "flowtable ft of table inet f is bound to zone link mv-dmz",
    ),
}

HARMLESS: dict[str, tuple[list[dict[str, Any]], str]] = {
    "host firewall accepting ssh": (
        [
            _chain("filter", "input", family="inet", **INPUT),
            _rule(
                "filter",
                "input",
                {
                    "match": {
                        "op": "==",
                        "left": {"payload": {"protocol": "tcp", "field": "dport"}},
                        "right": 22,
                    }
                },
                {"accept": None},
                family="inet",
            ),
        ],
        "",
    ),
    "earlier filter that drops, counts, limits and logs to the kernel": (
        _base(
            {"counter": None},
            {"limit": {"rate": 10, "per": "second"}},
            {"log": {"prefix": "x"}},
            {"drop": None},
        ),
        "",
    ),
    "netdev filter on another device, with a `dup ... device` text in a rule elsewhere": (
        [_chain("y", "a", family="netdev", **INGRESS), _rule("y", "a", {"drop": None}, family="netdev")],
        'table netdev y {\n\tchain a {\n\t\ttype filter hook ingress device "eth0" priority filter; '
        "policy accept;\n\t\tdrop\n\t}\n}\n"
        'table ip z {\n\tchain c {\n\t\tcomment "device \\"mv-dmz\\""\n\t}\n}\n',
    ),
    "MedVault's own table": (
        [
            _chain("medvault", "dmz_link", family="inet", **INGRESS),
            _rule("medvault", "early", {"dnat": {"addr": "100.72.0.2"}}, family="inet"),
        ],
        'table inet medvault {\n\tchain dmz_link {\n\t\ttype filter hook ingress device "mv-dmz" priority '
        "-2147483648; policy drop;\n\t}\n}\n",
    ),
}


@pytest.mark.parametrize("case", list(HARMFUL))
def test_rule_flags_what_can_act_on_zone_traffic(case: str) -> None:
    """Each harmful construct (copy or hand-off anywhere, a hook on a zone link, a non-filtering base
    chain at any priority) is a finding that names it."""
    objects, listing, expected = HARMFUL[case]
    found = _integrity.analyse_ruleset(objects, listing, ZONES)
    assert any(expected in problem for problem in found), found


@pytest.mark.parametrize("case", list(HARMLESS))
def test_rule_leaves_filtering_tables_alone(case: str) -> None:
    """A foreign table that only filters and is bound to no zone link (a host firewall) is no finding."""
    objects, listing = HARMLESS[case]
    assert _integrity.analyse_ruleset(objects, listing, ZONES) == []


def test_link_rule_flags_tc_xdp_and_stacking_but_not_the_defaults() -> None:
    """Non-default qdiscs, XDP, a master and a stacked device on a zone link are findings; the kernel's
    default qdisc and devices elsewhere are not."""
    links: list[dict[str, Any]] = [
        {"ifname": "mv-dmz", "link": "eth0", "link_netnsid": 1, "xdp": {"mode": 2, "prog": {"id": 7}}},
        {"ifname": "mv-vault", "link": "eth0", "link_netnsid": 2, "master": "br0"},
        {"ifname": "mac0", "link": "mv-vault"},
        {"ifname": "up0", "xdp": {"mode": 2, "prog": {"id": 8}}},
    ]
    qdiscs: list[dict[str, Any]] = [
        {"kind": "noqueue", "handle": "0:", "dev": "mv-dmz", "root": True},
        {"kind": "clsact", "handle": "ffff:", "dev": "mv-dmz"},
        {"kind": "fq_codel", "handle": "8001:", "dev": "mv-vault", "root": True},
        {"kind": "clsact", "handle": "ffff:", "dev": "up0"},
    ]
    found = _integrity.analyse_links("host role", links, qdiscs, ZONES)
    assert len(found) == 5, found
    for expected in ("XDP program", "enslaved to br0", "mac0 is stacked", "clsact", "fq_codel"):
        assert any(expected in problem for problem in found), (expected, found)
    assert _integrity.analyse_links("host role", links[3:], qdiscs[:1], ZONES) == []


# -- injected into the lab's host role, with the monitor running (root) ----------------------------------
def _attach_xdp(netns: str, device: str) -> int:
    try:
        return attach_xdp(netns, device)
    except OSError as exc:
        pytest.skip(f"the kernel refused the XDP program: {exc}")


def _legacy_filter(rules: int) -> list[int]:
    """Replace the legacy `filter` table of the calling thread's namespace with `rules` ACCEPT rules in
    INPUT (IPT_SO_SET_REPLACE, as iptables-legacy would; the iptables tools are not needed for this)."""

    def entry(target: bytes) -> bytes:  # ipt_ip matching everything, offsets, zero counters, target
        return b"\0" * 84 + struct.pack("<IHHI16x", 0, 112, 112 + len(target), 0) + target

    accept = entry(struct.pack("<H29sBi4x", 40, b"", 0, -2))  # standard target, verdict NF_ACCEPT
    error = entry(struct.pack("<H29sB32s", 64, b"ERROR", 0, b"ERROR"))
    blob = accept * (rules + 3) + error  # INPUT: rules + policy; FORWARD, OUTPUT: policy
    hooks = [0, 0, len(accept) * (rules + 1), len(accept) * (rules + 2), 0]
    underflows = [0, len(accept) * rules, *hooks[2:]]
    _, old = _integrity._legacy_entries(socket.AF_INET, socket.IPPROTO_IP, 64, 5, "filter")
    counters = ctypes.create_string_buffer(16 * old)
    head = struct.pack(
        "<32sIII5I5IIQ", b"filter", 0b1110, rules + 4, len(blob), *hooks, *underflows, old,
        ctypes.addressof(counters),
    )  # fmt: skip
    buf = ctypes.create_string_buffer(head + blob, len(head) + len(blob))
    with socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW) as sock:
        if _integrity._libc.setsockopt(sock.fileno(), socket.IPPROTO_IP, 64, buf, len(head) + len(blob)) != 0:
            pytest.skip(f"the kernel refused an iptables-legacy table: {os.strerror(ctypes.get_errno())}")
    return []  # no fd to hold


def _nft(netns: str, text: str) -> list[int]:
    """Load `text` into `netns`; skip when the kernel refuses it. Returns no fd to hold."""
    done = subprocess.run(
        ["ip", "netns", "exec", netns, "nft", "-f", "-"],
        input=text,
        capture_output=True,
        text=True,
        check=False,
    )
    assert "syntax error" not in done.stderr, done.stderr
    if done.returncode != 0:  # the kernel lacks the expression (nft_queue, say)
        pytest.skip(f"the kernel refused the injected table: {done.stderr.strip()}")
    return []


def _table(family: str, header: str, *rules: str, counters: tuple[str, ...] = ()) -> str:
    """`table <family> x` with one base chain `a`: `header`, then `rules`; named `counters` first."""
    body = [*(f"counter {name} {{ }}" for name in counters), f"chain a {{ {header}", *rules, "}"]
    return "\n".join([f"table {family} x {{", *body, "}", ""])


def _pre(statement: str) -> str:
    header = "type filter hook prerouting priority -300; policy accept;"
    return _table("ip", header, f'iifname "mv-dmz" udp dport 5353 {statement}')


_ON = "type filter hook ingress device {} priority 0; policy accept;"
_FWD = _table("netdev", _ON.format('"lan0"'), 'fwd to "mv-dmz"')  # LAN frames steered into the zone link
_ON_LINK = _table("netdev", _ON.format('"mv-vault"'), "counter")  # it only counts, but sits on the link
_MIRROR = (
    "tc qdisc add dev mv-dmz clsact && "
    "tc filter add dev mv-dmz ingress u32 match u32 0 0 action mirred egress mirror dev up0"
)

# fault: (inject into the running lab; returns fds to hold until the end, what the finding says)
INJECT: dict[str, tuple[Callable[[Lab, Isolation], list[int]], str]] = {
    "dup": (lambda lab, iso: _nft(lab.host, _pre('dup to 192.0.2.254 device "up0"')), "(dup)"),
    "queue": (lambda lab, iso: _nft(lab.host, _pre("queue num 3 bypass")), "(queue)"),
    "fwd": (lambda lab, iso: _nft(lab.host, _FWD), "(fwd)"),
    "log group": (lambda lab, iso: _nft(lab.host, _pre("log group 2")), "(log group)"),
    "chain on a zone link": (lambda lab, iso: _nft(lab.host, _ON_LINK), "bound to zone link mv-vault"),
    "tc filter": (lambda lab, iso: _shell(lab.host, _MIRROR), "host role: tc qdisc clsact"),
    "tc in a zone": (
        lambda lab, iso: _shell(iso.links["vault"].netns, "tc qdisc add dev eth0 clsact"),
        "zone vault: tc qdisc clsact",
    ),
    "xdp": (lambda lab, iso: [_attach_xdp(lab.host, "mv-dmz")], "XDP program"),
    "iptables-legacy rule": (
        lambda lab, iso: _sys.call_in(lab.host, lambda: _legacy_filter(1)),
        "iptables-legacy ip table filter holds 1 rule",
    ),
}


def _shell(netns: str, command: str) -> list[int]:
    """Run `command` in `netns`; skip when the kernel refuses it. Returns no fd to hold."""
    done = subprocess.run(
        ["ip", "netns", "exec", netns, "sh", "-c", command], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        pytest.skip(f"the kernel refused `{command}`: {done.stderr.strip()}")
    return []


def _remove_foreign(lab: Lab) -> None:
    """Take away what a test injected into the host role (the zones and their links go with `reset`)."""
    sh("ip", "netns", "exec", lab.host, "nft", "delete", "table", "ip", "x", check=False)
    sh("ip", "netns", "exec", lab.host, "nft", "delete", "table", "netdev", "x", check=False)
    _sys.call_in(lab.host, lambda: _legacy_filter(0))


@pytest.fixture
def clean(lab: Lab) -> Iterator[list[int]]:
    """fds the test holds (XDP links), closed afterwards; foreign tables removed afterwards."""
    held: list[int] = []
    yield held
    for fd in held:
        os.close(fd)
    _remove_foreign(lab)


@pytest.mark.root
@pytest.mark.slow
@pytest.mark.parametrize("fault", list(INJECT))
def test_foreign_hook_is_found_and_contained_within_one_second(
    lab: Lab, running: Callable[..., Run], clean: list[int], fault: str
) -> None:
    """Each injected foreign hook is found by the drift audit and contained by the monitor within 1 s:
    links cut, workloads killed, state breached."""
    inject, finding = INJECT[fault]
    run = running()
    iso = run.iso
    assert iso.drift() == [] and not run.breached.is_set()
    started = time.monotonic()
    clean += inject(lab, iso)
    assert run.breached.wait(5), f"no breach for {fault}"
    assert run.at[0] - started <= CONTAINMENT_S, run.at[0] - started
    assert finding in run.reasons[0], run.reasons
    for workload in run.workloads:
        assert workload.wait(timeout=1) == -9
    assert read_state(lab.data_dir)["state"] == "breached"
    assert "state DOWN" in sh("ip", "-n", lab.host, "link", "show", "mv-dmz").stdout
    assert any(finding in problem for problem in iso.drift())  # what `verify` reports too
    assert not verify(iso, probes=False).ok


@pytest.mark.root
@pytest.mark.slow
def test_host_firewall_that_only_filters_is_no_breach(
    lab: Lab, running: Callable[..., Run], clean: list[int]
) -> None:
    """The hospital's own firewall (inet filter, input accepting ssh, forward with a policy) and an empty
    iptables-legacy table leave the monitor running and `verify` ok."""
    run = running()
    _nft(
        lab.host,
        "table inet filter {\nchain input { type filter hook input priority 0; policy accept;\n"
        "tcp dport 22 accept\n}\nchain forward { type filter hook forward priority 0; policy accept;\n"
        "counter\n}\n}\n",
    )
    _sys.call_in(lab.host, lambda: _legacy_filter(0))
    try:
        time.sleep(1.5)  # several polls, and the audit the nftables event triggers
        assert not run.breached.is_set() and not run.failed.is_set(), run.reasons
        assert run.iso.drift() == []
        report = verify(run.iso, probes=False)
        assert report.ok, report.as_dict()
    finally:
        sh("ip", "netns", "exec", lab.host, "nft", "delete", "table", "inet", "filter")
    # The same check says what a rule would make of it, so the harmless verdict is not a blind spot.
    _sys.call_in(lab.host, lambda: _legacy_filter(2))
    assert any("holds 2 rule(s)" in p for p in _integrity.legacy_problems(lab.host))


def _x_counters(lab: Lab) -> dict[str, int]:
    out = sh("ip", "netns", "exec", lab.host, "nft", "list", "counters", "table", "ip", "x").stdout
    return {name: int(n) for name, n in re.findall(r"counter (\w+) \{\s*packets (\d+)", out)}


@pytest.mark.root
@pytest.mark.slow
def test_dup_copies_host_traffic_but_zone_traffic_meets_the_link_reject_first(
    lab: Lab, clean: list[int]
) -> None:
    """An injected `dup` at prerouting -300 really copies packets out of the host role (a LAN packet the
    forward chain drops still reaches the fake internet), while the same packet from the dmz is rejected
    at the dmz link first: its counter moves, the dup never sees it, the fake internet sees nothing."""
    iso = lab.isolation()
    iso.up()
    try:
        rule = 'iifname "{}" udp dport 53 counter name {} dup to 192.0.2.254 device "up0"'
        header = "type filter hook prerouting priority -300; policy accept;"
        rules = rule.format("mv-dmz", "from_dmz"), rule.format("lan0", "from_lan")
        _nft(lab.host, _table("ip", header, *rules, counters=("from_dmz", "from_lan")))
        assert any("(dup)" in problem for problem in iso.drift())
        hits = len(lab.settled_hits())
        lab.probe(lab.lan, [Probe("udp", TARGET4, 53)], timeout=0.5)  # the original is dropped: no answer
        copied = lab.settled_hits()[hits:]
        assert any(hit["src"] == LAN_CLIENT and hit["port"] == 53 for hit in copied), copied
        assert _x_counters(lab)["from_lan"] >= 1
        before = lab.counters()
        [result] = lab.probe(iso.links["dmz"].netns, [Probe("udp", TARGET4, 53)])
        assert result.verdict is Verdict.BLOCKED, result.as_dict()
        assert lab.counters()["dmz_link_reject"] > before["dmz_link_reject"]
        assert _x_counters(lab)["from_dmz"] == 0
        assert len(lab.settled_hits()) == hits + len(copied)
    finally:
        iso.down()
