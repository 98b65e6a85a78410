"""Whole-firewall integrity: everything in the host role that could act on zone traffic beside MedVault.

`table inet medvault` is audited by canonical comparison (`_nft`); this module looks at the rest of the
host role and at both sides of every zone link, and returns findings, each a breach:

1. a `dup`, `fwd`, `queue`, `tproxy` or userspace `log` (`log group`) statement in any rule of any
   foreign table, whatever its family, hook or priority (an iptables-nft `TEE`, `NFQUEUE`, `NFLOG`,
   `TPROXY` target likewise): it copies a packet or hands it out of the kernel's filtering path;
2. a foreign base chain or flowtable bound to a zone link (netdev ingress/egress, inet ingress): it sees
   zone frames before MedVault's link chain, or after its last word;
3. a foreign base chain in the ip, ip6, inet or netdev family whose rules (with the chains they jump
   or go to) do anything but filter. Filtering is matching, the verdicts (accept, drop, reject,
   continue, return, jump, goto, verdict maps), counter, limit, quota, last and kernel `log`: a drop is
   final and an accept ends only that chain, so a filtering chain can refuse zone traffic (probes then
   meet silence and the monitor fails closed) but never let out or divert what MedVault refuses,
   whatever its priority. Anything else (NAT, mangling addresses, marks or conntrack, notrack, set
   updates, flow offload, synproxy, other xt targets) could rewrite or steer what MedVault let through,
   before or after MedVault's chains, so its priority does not make it safe either;
4. a tc qdisc other than the kernel's default (handle `0:`, no ingress/clsact), hence any tc filter,
   on either side of a zone link; an XDP program on either side; a device that enslaves a zone link
   (bridge, bond, VRF) or is stacked on it (macvlan, ipvlan, VLAN);
5. an iptables-legacy table in the host role holding any rule (a table with only its built-in chains'
   policies, ACCEPT or DROP, is harmless: an empty table appears as soon as any tool merely lists it).

A foreign table that only filters and is not bound to a zone link (the hospital's own host firewall,
e.g. `table inet filter` whose input chain accepts ssh) is not a finding. The monitor reads the legacy
tables on its sysctl poll: their changes send no netlink event. The analysis is pure over what the
tools print (`analyse_ruleset`, `analyse_links`), so each rule has a table-driven test.
"""

from __future__ import annotations

import ctypes
import functools
import json
import os
import re
import socket
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from medvault.errors import IsolationError
from medvault.isolation import _sys
from medvault.isolation._layout import ZoneLink
from medvault.isolation._render import TABLE

_COPIES = {"dup", "fwd", "queue", "tproxy"}
_XT_COPIES = {"TEE", "NFQUEUE", "NFLOG", "TPROXY", "ULOG", "QUEUE"}
_XT_FILTERS = {"REJECT", "LOG"}
_FILTERS = {
    *("match", "accept", "drop", "reject", "continue", "return", "jump", "goto", "vmap"),
    *("counter", "limit", "quota", "last", "log"),
}
_PACKET_FAMILIES = {"ip", "ip6", "inet", "netdev"}
_DEFAULT_QDISCS = {"noqueue", "pfifo_fast", "mq", "fq_codel", "fq", "pfifo", "sfq", "cake"}
_OBJECT = re.compile(r"^\s*(table|chain|flowtable)\s+(?:(\w+)\s+)?(\S+)\s*\{")
_DEVICES = re.compile(r'^\s*(?:type .*\bdevices?|devices)\s*=?\s*(\{[^}]*\}|"[^"]*"|\S+)')

_TABLE = re.compile(r"^table (\w+) (\S+) \{", re.MULTILINE)
Key = tuple[str, str, str]  # family, table, chain or flowtable


# -- nftables ----------------------------------------------------------------------------------------
def analyse_ruleset(objects: list[dict[str, Any]], listing: str, zone_ifs: set[str]) -> list[str]:
    """Findings 1-3 over `nft -j list ruleset` (its `nftables` list) and `nft list ruleset` (text).

    The devices come from the text: nft 1.0.6 leaves them out of the JSON of chains and flowtables.
    """
    devices = _devices(listing)
    chains: dict[Key, dict[str, Any]] = {}
    rules: dict[Key, list[list[dict[str, Any]]]] = {}
    problems: list[str] = []
    for obj in objects:
        kind, body = next(iter(obj.items()))
        if not isinstance(body, dict) or (body.get("family"), body.get("table")) == ("inet", TABLE):
            continue
        if kind == "chain":
            chains[(body["family"], body["table"], body["name"])] = body
        elif kind == "rule":
            rules.setdefault((body["family"], body["table"], body["chain"]), []).append(body["expr"])
        elif kind == "flowtable":
            key = (body["family"], body["table"], body["name"])
            problems += _bound(f"flowtable {_name(key)}", devices.get(key, set()), zone_ifs)
    for key, exprs in rules.items():
        copies = sorted({found for expr in exprs for found in _copies(expr)})
        if copies:
            problems.append(
                f"foreign chain {_name(key)} copies or hands packets out of the filtering path "
                f"({', '.join(copies)})"
            )
    for key, chain in chains.items():
        if "hook" not in chain:
            continue
        where = f"foreign {chain['hook']} chain {_name(key)}"
        problems += _bound(where, devices.get(key, set()), zone_ifs)
        if key[0] in _PACKET_FAMILIES:
            acting = sorted(_actions(key, rules))
            if acting:
                problems.append(
                    f"{where} (priority {chain.get('prio')}) does more than filter ({', '.join(acting)}): "
                    "it could rewrite or steer zone traffic"
                )
    return problems


def _name(key: Key) -> str:
    return f"{key[2]} of table {key[0]} {key[1]}"


def _bound(where: str, devices: set[str], zone_ifs: set[str]) -> list[str]:
    on_zone = sorted(devices & zone_ifs)
    if not on_zone:
        return []
    return [f"{where} is bound to zone link {', '.join(on_zone)}: it sees zone traffic at the link"]


def _devices(listing: str) -> dict[Key, set[str]]:
    """The devices of every chain and flowtable in a text listing, keyed like the JSON objects."""
    found: dict[Key, set[str]] = {}
    family = table = ""
    current: Key | None = None
    for line in listing.splitlines():
        opened = _OBJECT.match(line)
        if opened:
            kind, fam, name = opened.groups()
            if kind == "table":
                family, table, current = fam or "ip", name, None
            else:
                current = (family, table, name)
            continue
        # Only a chain's `type` line or a flowtable's `devices` line binds (not `dup ... device` in a rule).
        hit = _DEVICES.match(line)
        if hit and current is not None:
            names = {part.strip().strip('"') for part in hit.group(1).strip("{}").split(",")}
            found.setdefault(current, set()).update(name for name in names if name)
    return found


def _walk(node: Any) -> Iterator[tuple[str, Any]]:
    """Every (key, value) pair at any depth of a JSON rule expression."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield key, value
            yield from _walk(value)
    elif isinstance(node, list):
        for item in node:
            yield from _walk(item)


def _xt_target(value: Any) -> str | None:
    if isinstance(value, dict) and value.get("type") == "target":
        return str(value.get("name"))
    return None


def _copies(expr: list[dict[str, Any]]) -> Iterator[str]:
    """Statements of finding 1 in one rule: copies and hand-offs out of the filtering path."""
    for key, value in _walk(expr):
        if key in _COPIES:
            yield key
        elif key == "log" and isinstance(value, dict) and "group" in value:
            yield "log group"
        elif key == "xt" and _xt_target(value) in _XT_COPIES:
            yield f"xt {_xt_target(value)}"


def _actions(start: Key, rules: dict[Key, list[list[dict[str, Any]]]]) -> set[str]:
    """Statements that do more than filter, in `start` and every chain it reaches by jump or goto."""
    seen, todo, acting = {start}, [start], set()
    while todo:
        key = todo.pop()
        for expr in rules.get(key, []):
            for statement in expr:
                name, value = next(iter(statement.items()))
                target = _xt_target(value) if name == "xt" else None
                if name not in _FILTERS | _COPIES and not (name == "xt" and target in (None, *_XT_FILTERS)):
                    acting.add(f"xt {target}" if target else name)
            for name, value in _walk(expr):
                if name in ("jump", "goto") and isinstance(value, dict):
                    following = (key[0], key[1], str(value.get("target")))
                    if following not in seen:
                        seen.add(following)
                        todo.append(following)
    return acting


def _json_objects(host_netns: str | None, *what: str) -> list[dict[str, Any]]:
    out = _sys.run(_sys.in_role(host_netns, ["nft", "-j", "list", *what]))
    objects = json.loads(out)["nftables"]  # ValueError (JSONDecodeError) when nft garbled it
    if not isinstance(objects, list):
        raise ValueError("no list of objects")
    return objects


def _bindable(objects: list[dict[str, Any]]) -> bool:
    """Whether a foreign object could be bound to a device (so the text listing must be read)."""
    for obj in objects:
        kind, body = next(iter(obj.items()))
        foreign = isinstance(body, dict) and (body.get("family"), body.get("table")) != ("inet", TABLE)
        if foreign and (
            kind == "flowtable" or (kind == "chain" and body.get("hook") in ("ingress", "egress"))
        ):
            return True
    return False


def nft_problems(host_netns: str | None, zone_ifs: set[str]) -> list[str]:
    """Findings 1-3 for the live ruleset of the host role (one `nft` run unless a foreign object has
    devices or the JSON is garbled: the monitor runs this on every audit)."""
    try:
        objects = _json_objects(host_netns, "ruleset")
    except (ValueError, KeyError):
        objects = []  # nft 1.0.6 can garble the JSON of a dormant table: read the others one by one
    else:
        if not _bindable(objects):
            return analyse_ruleset(objects, "", zone_ifs)
    listing = _sys.run(_sys.in_role(host_netns, ["nft", "list", "ruleset"]))
    if objects:
        return analyse_ruleset(objects, listing, zone_ifs)
    problems: list[str] = []
    for family, table in _TABLE.findall(listing):
        if (family, table) == ("inet", TABLE):
            continue  # audited as text against the rendered table; a dormant one is reported there
        try:
            objects += _json_objects(host_netns, "table", family, table)
        except (ValueError, KeyError):
            problems.append(
                f"foreign table {family} {table} cannot be read back (nft garbles it, a dormant table?): "
                "MedVault cannot tell what it does"
            )
    return problems + analyse_ruleset(objects, listing, zone_ifs)


# -- tc, XDP and stacked devices ---------------------------------------------------------------------
def analyse_links(
    where: str, links: list[dict[str, Any]], qdiscs: list[dict[str, Any]], watched: set[str]
) -> list[str]:
    """Finding 4 over the links and qdiscs of one namespace (shaped like `ip -j -d link show` and
    `tc -j qdisc show` print them), for the `watched` devices."""
    problems: list[str] = []
    for link in links:
        name = link.get("ifname", "?")
        if name in watched:
            if "xdp" in link:
                prog = link["xdp"].get("prog", {})
                problems.append(f"{where}: XDP program (id {prog.get('id', '?')}) on zone link {name}")
            if "master" in link:
                problems.append(f"{where}: zone link {name} is enslaved to {link['master']}")
        elif link.get("link") in watched and "link_netnsid" not in link:
            problems.append(f"{where}: device {name} is stacked on zone link {link['link']}")
    for qdisc in qdiscs:
        name = qdisc.get("dev")
        if name not in watched:
            continue
        default = qdisc.get("handle") == "0:" and qdisc.get("kind") in _DEFAULT_QDISCS
        if not default:
            problems.append(
                f"{where}: tc qdisc {qdisc.get('kind')} (handle {qdisc.get('handle')}) on zone link {name}: "
                "tc filters and actions there act before any firewall"
            )
    return problems


# Read over rtnetlink in-process, not with `ip`/`tc`: the monitor polls this twice a second, because
# XDP attached through a BPF link (bpf(BPF_LINK_CREATE)) sends no netlink event, unlike `ip link set xdp`.
_RTM_GETLINK, _RTM_GETQDISC, _NLMSG_ERROR, _NLMSG_DONE = 18, 38, 2, 3
_NLM_F_REQUEST, _NLM_F_DUMP = 0x1, 0x300
_IFLA_IFNAME, _IFLA_LINK, _IFLA_MASTER, _IFLA_LINK_NETNSID, _IFLA_XDP = 3, 5, 10, 37, 43
_IFLA_XDP_ATTACHED, _IFLA_XDP_PROG_ID, _TCA_KIND = 2, 4, 1
_NLA_TYPE_MASK = 0x3FFF


def _attrs(data: bytes) -> dict[int, bytes]:
    """Netlink attributes in `data`, by type."""
    found, offset = {}, 0
    while offset + 4 <= len(data):
        length, kind = struct.unpack_from("<HH", data, offset)
        if length < 4:
            break
        found[kind & _NLA_TYPE_MASK] = data[offset + 4 : offset + length]
        offset += (length + 3) & ~3
    return found


def _dump(msg_type: int, header: bytes) -> Iterator[bytes]:
    """The payload of every message of an rtnetlink dump in the calling thread's namespace."""
    request = struct.pack("<IHHII", 16 + len(header), msg_type, _NLM_F_REQUEST | _NLM_F_DUMP, 1, 0) + header
    with socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, socket.NETLINK_ROUTE) as sock:
        sock.send(request)
        while True:
            data, offset = sock.recv(1 << 20), 0
            while offset + 16 <= len(data):
                length, kind = struct.unpack_from("<IH", data, offset)
                if kind == _NLMSG_DONE:
                    return
                if kind == _NLMSG_ERROR:
                    err = -struct.unpack_from("<i", data, offset + 16)[0]
                    raise OSError(err, os.strerror(err))
                yield data[offset + 16 : offset + length]
                offset += (length + 3) & ~3


def _links_and_qdiscs() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Links and qdiscs of the calling thread's namespace, shaped as `analyse_links` reads them."""
    raw = []
    for payload in _dump(_RTM_GETLINK, struct.pack("<BxHiII", socket.AF_UNSPEC, 0, 0, 0, 0)):
        index = struct.unpack_from("<i", payload, 4)[0]
        raw.append((index, _attrs(payload[16:])))
    names = {index: attrs.get(_IFLA_IFNAME, b"?").rstrip(b"\0").decode() for index, attrs in raw}

    def u32(attr: bytes) -> int:
        return int(struct.unpack_from("<I", attr)[0])

    links: list[dict[str, Any]] = []
    for index, attrs in raw:
        link: dict[str, Any] = {"ifname": names[index]}
        if _IFLA_LINK in attrs:
            link["link"] = names.get(u32(attrs[_IFLA_LINK]), "?")
        if _IFLA_LINK_NETNSID in attrs:
            link["link_netnsid"] = u32(attrs[_IFLA_LINK_NETNSID])
        if _IFLA_MASTER in attrs:
            link["master"] = names.get(u32(attrs[_IFLA_MASTER]), "?")
        xdp = _attrs(attrs.get(_IFLA_XDP, b""))
        if xdp.get(_IFLA_XDP_ATTACHED, b"\0")[0] != 0:
            link["xdp"] = {"prog": {"id": u32(xdp[_IFLA_XDP_PROG_ID]) if _IFLA_XDP_PROG_ID in xdp else "?"}}
        links.append(link)
    qdiscs = []
    for payload in _dump(_RTM_GETQDISC, struct.pack("<BxxxiIII", socket.AF_UNSPEC, 0, 0, 0, 0)):
        index, handle = struct.unpack_from("<iI", payload, 4)
        kind = _attrs(payload[20:]).get(_TCA_KIND, b"?").rstrip(b"\0").decode()
        qdiscs.append({"kind": kind, "handle": f"{handle >> 16:x}:", "dev": names.get(index, "?")})
    return links, qdiscs


def _links_in_caller(where: str, watched: set[str]) -> list[str]:
    try:
        links, qdiscs = _links_and_qdiscs()
    except OSError as exc:
        raise IsolationError(f"{where}: cannot read links and qdiscs over rtnetlink: {exc}") from exc
    return analyse_links(where, links, qdiscs, watched)


def link_problems(host_netns: str | None, links: dict[str, ZoneLink]) -> list[str]:
    """Finding 4 on both sides of every zone link: the host role and each zone's namespace (cheap: two
    rtnetlink dumps per namespace, no tool started)."""
    host_ifs = {link.host_if for link in links.values()}
    problems = _sys.call_in(host_netns, functools.partial(_links_in_caller, "host role", host_ifs))
    for zone, link in links.items():
        if _sys.netns_exists(link.netns):  # a missing zone is the zone audit's finding
            check = functools.partial(_links_in_caller, f"zone {zone}", {link.zone_if})
            problems += _sys.call_in(link.netns, check)
    return problems


# -- iptables-legacy ---------------------------------------------------------------------------------
# (family, level, IPT_SO_GET_INFO and its kin, hooks of the family, /proc/net file)
_LEGACY = (
    (socket.AF_INET, socket.IPPROTO_IP, 64, 5, "ip_tables_names"),
    (socket.AF_INET6, socket.IPPROTO_IPV6, 64, 5, "ip6_tables_names"),
    (socket.AF_INET, socket.IPPROTO_IP, 96, 3, "arp_tables_names"),
)
_libc = ctypes.CDLL(None, use_errno=True)


def _legacy_entries(family: int, level: int, option: int, hooks: int, table: str) -> tuple[int, int]:
    """(built-in chains, entries) of a loaded legacy table, from its `*_SO_GET_INFO`."""
    size = 32 + 4 + 8 * hooks + 8  # name, valid_hooks, hook_entry[], underflow[], num_entries, size
    buf = ctypes.create_string_buffer(table.encode(), size)
    length = ctypes.c_uint32(size)
    with socket.socket(family, socket.SOCK_RAW, socket.IPPROTO_RAW) as sock:
        if _libc.getsockopt(sock.fileno(), level, option, buf, ctypes.byref(length)) != 0:
            err = ctypes.get_errno()
            raise IsolationError(f"cannot read legacy table {table}: {os.strerror(err)}")
    valid_hooks, *_, entries, _size = struct.unpack_from(f"I{2 * hooks}III", buf.raw, 32)
    return bin(valid_hooks).count("1"), entries


def _legacy_in_caller() -> list[str]:
    problems = []
    for family, level, option, hooks, names in _LEGACY:
        try:
            tables = (Path("/proc/thread-self/net") / names).read_text().split()
        except FileNotFoundError:  # the legacy module is not loaded: no table can exist
            continue
        for table in tables:
            chains, entries = _legacy_entries(family, level, option, hooks, table)
            rules = entries - chains - 1  # each built-in chain's policy, and the closing error entry
            if rules > 0:
                kind = names.removesuffix("_tables_names").replace("_", "")
                problems.append(
                    f"host role: iptables-legacy {kind} table {table} holds {rules} rule(s), which "
                    "MedVault cannot audit; move them to nftables"
                )
    return problems


def legacy_problems(host_netns: str | None) -> list[str]:
    """Finding 5: iptables-legacy tables of the host role that hold rules (cheap: file reads, syscalls)."""
    return _sys.call_in(host_netns, _legacy_in_caller)


def polled_problems(host_netns: str | None, links: dict[str, ZoneLink]) -> list[str]:
    """What may change without an event, so the monitor polls it: iptables-legacy tables, and the links
    (XDP through a BPF link)."""
    return legacy_problems(host_netns) + link_problems(host_netns, links)


def problems(host_netns: str | None, links: dict[str, ZoneLink]) -> list[str]:
    """Every finding of this module for the host role and the zone links; empty when nothing can act."""
    zone_ifs = {link.host_if for link in links.values()}
    return nft_problems(host_netns, zone_ifs) + link_problems(host_netns, links) + legacy_problems(host_netns)
