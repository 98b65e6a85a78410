"""Render the host firewall (`table inet medvault`) and the panic ruleset from the policy.

Pure functions: the text they return is what `nft -c` validates, `nft -f` applies in one transaction,
and the drift audit loads into a scratch namespace for the canonical comparison. Each file starts by
adding and deleting the table, so applying it replaces the previous version atomically.

Design choices, each for a reason:
- Rules match the zone interface names: a zone cannot rename the host side of its link, and spoofed
  source addresses still arrive on that interface.
- Rejects (`icmpx admin-prohibited`) rather than drops, so probes fail fast; TCP resets are avoided on
  purpose so that a reset seen by a probe always means that a real peer answered (the packet got out).
- Every reject has a named counter, so tests and operators can see which rule fired.
- Traffic that touches no zone interface is accepted by `input`/`output` (the host's own firewall
  governs it), but every forward not declared here is dropped: MedVault owns forwarding on its host.
- Zone traffic is decided first at the ingress hook of each zone link (`<zone>_link` chains, the lowest
  priority there is), before any prerouting, bridge or other table can see it: only the declared flows
  pass, everything else is refused right there. The chains for the later hooks stay as a second line.
"""

from __future__ import annotations

from collections.abc import Iterable

from medvault.isolation._layout import ZoneLink
from medvault.isolation.policy import IsolationPolicy

TABLE = "medvault"
PANIC_TABLE = "medvault_panic"
REJECT = "reject with icmpx admin-prohibited"


# The lowest priority a hook accepts: the link chains run before every other chain on the zone links.
LINK_PRIORITY = -(2**31)


def counter_names(links: dict[str, ZoneLink]) -> list[str]:
    """Every named reject counter of the ruleset."""
    hooks = ("link", "input", "forward", "noroute", "ipv6")
    names = [f"{zone}_{hook}_reject" for zone in links for hook in hooks]
    names += [f"{zone}_spoof_drop" for zone in links]
    return [*names, "inbound_forward_reject", "host_output_reject"]


_ND = "icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } ip6 hoplimit 255"


def _ifset(links: dict[str, ZoneLink]) -> str:
    return "{ " + ", ".join(f'"{link.host_if}"' for link in links.values()) + " }"


def _unspoofed(zone: str, link: ZoneLink) -> list[str]:
    """Spoofed sources dropped (a reject would be routed to them), zone IPv6 rejected but for on-link ND.

    - A source other than the zone's own address is dropped, not rejected: the reject would go to that
      source, i.e. possibly out of the host, quoting the zone's packet (a reflection channel).
    - IPv6 is off in the zones and on their links; should it ever come back on, every IPv6 packet from
      a zone is rejected, whatever the host's IPv6 forwarding says. Only link-local sources get this far,
      so the reject goes back over the zone's own link. Neighbour discovery on the link (hop limit 255,
      so it cannot come from further away) is let through to the host, or the host could not resolve
      the zone's address to deliver that reject.
    """
    return [
        f"ip saddr != {link.zone_addr} counter name {zone}_spoof_drop drop",
        f"ip6 saddr != fe80::/10 counter name {zone}_spoof_drop drop",
        f"{_ND} accept",
        f"meta nfproto ipv6 counter name {zone}_ipv6_reject {REJECT}",
    ]


def _early_chain(links: dict[str, ZoneLink]) -> list[str]:
    """Before routing, per zone (the second line behind the link chains): the same spoofing and IPv6
    rules, and a reject for what has no route.

    Where the host role has no route, the kernel would answer with its own rate-limited ICMP (five,
    then one per second) and probes would meet silence; such packets are rejected here instead.
    """
    rules = []
    for zone, link in links.items():
        where = f'iifname "{link.host_if}"'
        rules += [f"{where} {rule}" for rule in _unspoofed(zone, link)]
        no_route = "fib daddr type != local fib daddr oif missing"
        rules.append(f"{where} {no_route} counter name {zone}_noroute_reject {REJECT}")
    return rules


def _set(items: Iterable[object]) -> str:
    """An nft anonymous set of `items`."""
    return "{ " + ", ".join(str(item) for item in items) + " }"


def _link_flows(
    policy: IsolationPolicy, links: dict[str, ZoneLink], gateway_port: int | None
) -> dict[str, list[str]]:
    """Per zone, what its link lets in: the flows the later chains accept, matched without state.

    The ingress hook comes before connection tracking, so `ct` cannot be matched here: a reply is let
    through by its addresses and ports, and the forward and input chains then demand the state.
    """
    dmz, vault = links["dmz"], links["vault"]
    ports = _set(policy.vault_ports)
    flows = {
        "dmz": [f"ip daddr {vault.zone_addr} tcp dport {ports} accept"],
        "vault": [f"ip daddr {dmz.zone_addr} tcp sport {ports} accept"],
    }
    flows["dmz"] += [
        f'ip daddr {lock.address} tcp dport {lock.port} accept comment "airlock {lock.name}"'
        for lock in policy.airlocks
    ]
    if gateway_port is not None:  # ingress replies to the allowed clients, and to the host role's bridge
        clients = policy.ingress.clients
        # The bridge's address once only: nft refuses overlapping elements in a set.
        bridge = [] if any(dmz.host_addr in net for net in clients) else [dmz.host_addr]
        peers = _set([*clients, *bridge])
        flows["dmz"].append(f'ip daddr {peers} tcp sport {gateway_port} accept comment "ingress replies"')
    return flows


def _link_chains(policy: IsolationPolicy, links: dict[str, ZoneLink], gateway_port: int | None) -> list[str]:
    """One chain per zone at the ingress hook of the host side of its link: the first and final word.

    Only IPv4 and IPv6 reach an `inet` ingress chain (ARP, which the declared flows need, passes
    untouched). What no flow declares is rejected here, at once, with the zone's link counter: no
    prerouting chain of any table, no bridge and no route lookup ever sees it.
    """
    flows = _link_flows(policy, links, gateway_port)
    lines: list[str] = []
    for zone, link in links.items():
        rules = [*_unspoofed(zone, link), *flows[zone], f"counter name {zone}_link_reject {REJECT}"]
        header = f'type filter hook ingress device "{link.host_if}" priority {LINK_PRIORITY}; policy drop;'
        lines += _chain(f"{zone}_link", header, rules)
    return lines


def _input_chain(links: dict[str, ZoneLink], gateway_port: int | None) -> list[str]:
    dmz = links["dmz"]
    rules = [f"iifname != {_ifset(links)} accept", f"iifname {_ifset(links)} {_ND} accept"]
    if gateway_port is not None:  # replies to the host role's own connections to the gateway (bridge)
        rules.append(
            f'iifname "{dmz.host_if}" ip saddr {dmz.zone_addr} ip daddr {dmz.host_addr} '
            f"tcp sport {gateway_port} ct state established accept"
        )
    rules += [
        f'iifname "{link.host_if}" counter name {zone}_input_reject {REJECT}' for zone, link in links.items()
    ]
    return rules


def _forward_chain(
    policy: IsolationPolicy, links: dict[str, ZoneLink], gateway_port: int | None
) -> list[str]:
    dmz, vault, zones = links["dmz"], links["vault"], _ifset(links)
    ports = _set(policy.vault_ports)
    rules = [
        f'iifname "{dmz.host_if}" oifname "{vault.host_if}" ip saddr {dmz.zone_addr} '
        f"ip daddr {vault.zone_addr} tcp dport {ports} accept",
        f'iifname "{vault.host_if}" oifname "{dmz.host_if}" ip saddr {vault.zone_addr} '
        f"ip daddr {dmz.zone_addr} tcp sport {ports} ct state established accept",
    ]
    for lock in policy.airlocks:
        rules += [
            f'iifname "{dmz.host_if}" oifname != {zones} ip saddr {dmz.zone_addr} ip daddr {lock.address} '
            f'tcp dport {lock.port} accept comment "airlock {lock.name}"',
            f'iifname != {zones} oifname "{dmz.host_if}" ip saddr {lock.address} ip daddr {dmz.zone_addr} '
            f'tcp sport {lock.port} ct state established accept comment "airlock {lock.name} replies"',
        ]
    if gateway_port is not None:
        clients = _set(policy.ingress.clients)
        rules += [
            f'iifname != {zones} oifname "{dmz.host_if}" ip saddr {clients} ip daddr {dmz.zone_addr} '
            f'tcp dport {gateway_port} ct status dnat accept comment "ingress"',
            f'iifname "{dmz.host_if}" oifname != {zones} ip saddr {dmz.zone_addr} tcp sport {gateway_port} '
            f'ct status dnat ct state established accept comment "ingress replies"',
        ]
    rules += [
        f'iifname "{link.host_if}" counter name {zone}_forward_reject {REJECT}'
        for zone, link in links.items()
    ]
    rules.append(f"oifname {zones} counter name inbound_forward_reject {REJECT}")
    return rules


def _output_chain(links: dict[str, ZoneLink], gateway_port: int | None) -> list[str]:
    dmz, zones = links["dmz"], _ifset(links)
    # ICMP from the host to a zone carries the rejects; it opens nothing.
    rules = [f"oifname != {zones} accept", f"oifname {zones} meta l4proto {{ icmp, ipv6-icmp }} accept"]
    if gateway_port is not None:
        rules.append(
            f'oifname "{dmz.host_if}" ip daddr {dmz.zone_addr} tcp dport {gateway_port} '
            'accept comment "bridge"'
        )
    rules.append(f"oifname {zones} counter name host_output_reject {REJECT}")
    return rules


def _nat_chains(policy: IsolationPolicy, links: dict[str, ZoneLink], gateway_port: int | None) -> list[str]:
    dmz, zones = links["dmz"], _ifset(links)
    lines: list[str] = []
    if gateway_port is not None:
        ingress = policy.ingress
        where = "fib daddr type local" if ingress.address.is_unspecified else f"ip daddr {ingress.address}"
        lines += _chain(
            "prerouting",
            "type nat hook prerouting priority dstnat; policy accept;",
            [
                f"iifname != {zones} {where} tcp dport {ingress.port} "
                f"dnat ip to {dmz.zone_addr}:{gateway_port}"
            ],
        )
    if policy.airlocks:
        # Airlock peers (a hospital LDAP server) have no route back to the zone link network.
        lines += _chain(
            "postrouting",
            "type nat hook postrouting priority srcnat; policy accept;",
            [
                f"oifname != {zones} ip saddr {dmz.zone_addr} ip daddr {lock.address} "
                f"tcp dport {lock.port} masquerade"
                for lock in policy.airlocks
            ],
        )
    return lines


def _chain(name: str, header: str, rules: list[str]) -> list[str]:
    return [f"\tchain {name} {{", f"\t\t{header}", *(f"\t\t{rule}" for rule in rules), "\t}"]


def _replace(family: str, table: str) -> list[str]:
    return [f"add table {family} {table}", f"delete table {family} {table}"]


def render(
    policy: IsolationPolicy,
    links: dict[str, ZoneLink],
    gateway_port: int | None = None,
    *,
    link_chains: bool = True,
) -> str:
    """The complete `nft -f` file for the host role: replaces `table inet medvault` atomically.

    `gateway_port` is the dmz port ingress is DNAT'ed to; None renders no ingress at all. Without
    `link_chains` the ruleset has only the second line (for the moment before the zone links exist:
    kernels before 6.16 refuse a hook on a device that does not exist yet).
    """
    body = [f"\tcounter {name} {{\n\t}}" for name in counter_names(links)]
    if link_chains:
        body += _link_chains(policy, links, gateway_port)
    body += _chain(
        "early", "type filter hook prerouting priority filter; policy accept;", _early_chain(links)
    )
    body += _chain(
        "input", "type filter hook input priority filter; policy drop;", _input_chain(links, gateway_port)
    )
    body += _chain(
        "forward",
        "type filter hook forward priority filter; policy drop;",
        _forward_chain(policy, links, gateway_port),
    )
    body += _chain(
        "output", "type filter hook output priority filter; policy drop;", _output_chain(links, gateway_port)
    )
    body += _nat_chains(policy, links, gateway_port)
    return "\n".join([*_replace("inet", TABLE), f"table inet {TABLE} {{", *body, "}", ""])


def render_panic(links: dict[str, ZoneLink], present_ifs: list[str]) -> str:
    """The kill-switch ruleset: every zone link cut, in one transaction.

    It replaces `table inet medvault` with drop-only chains and adds a netdev table that drops every
    frame arriving from a zone at the ingress hook (before any other table can see it). A drop is final
    in nftables, so no other table can re-open what this closes.
    """
    zones = _ifset(links)
    body = [
        "\tcounter panic_drop {\n\t}",
        *_chain(
            "input",
            "type filter hook input priority -400; policy accept;",
            [f"iifname {zones} counter name panic_drop drop"],
        ),
        *_chain(
            "forward",
            "type filter hook forward priority -400; policy accept;",
            [
                f"iifname {zones} counter name panic_drop drop",
                f"oifname {zones} counter name panic_drop drop",
            ],
        ),
        *_chain(
            "output",
            "type filter hook output priority -400; policy accept;",
            [f"oifname {zones} counter name panic_drop drop"],
        ),
    ]
    lines = [*_replace("inet", TABLE), *_replace("netdev", PANIC_TABLE), f"table inet {TABLE} {{", *body, "}"]
    if present_ifs:
        lines.append(f"table netdev {PANIC_TABLE} {{")
        for index, name in enumerate(present_ifs):
            lines += _chain(
                f"cut{index}", f'type filter hook ingress device "{name}" priority -500; policy drop;', []
            )
        lines.append("}")
    return "\n".join([*lines, ""])
