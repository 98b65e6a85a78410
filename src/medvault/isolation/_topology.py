"""Zone namespaces, their veth links to the host role, routes and sysctls: create, audit, remove.

The dmz gets an IPv4 default route through the host role (ingress replies and airlocks need it; the
host firewall decides what passes). The vault gets one host route, to the gateway, and nothing else.
IPv6 is disabled inside every zone and on the host side of every zone link: no addresses, not even
link-local ones, so no router advertisement, neighbour discovery or link-local escape exists to abuse.
Router advertisements and autoconfiguration are switched off as well, and the firewall still rejects
IPv6 from zone interfaces, so re-enabling IPv6 (which the sysctl audit reports) opens nothing.
"""

from __future__ import annotations

import functools
import ipaddress
import json

from medvault.errors import IsolationError
from medvault.isolation import _sys
from medvault.isolation._layout import ZoneLink

_BRIDGE = [f"net.bridge.bridge-nf-call-{t}" for t in ("iptables", "ip6tables", "arptables")]
# A closing SO_REUSEPORT listener (a gateway worker that dies or restarts) hands its queued connections to
# another worker of the group instead of resetting them. Linux >= 5.14 only: set (and audited) only where
# the kernel has it, so an older kernel neither fails `create` nor reports it missing.
_MIGRATE_REQ = "net.ipv4.tcp_migrate_req"


@functools.cache  # the monitor audits the zones twice a second; the kernel's answer never changes
def _kernel_migrates() -> bool:
    return _sys.read_sysctls([_MIGRATE_REQ])[_MIGRATE_REQ] is not None


def zone_sysctls(link: ZoneLink) -> dict[str, str]:
    """Sysctls inside a zone: no forwarding, no router advertisements, no address autoconfiguration, and
    queued connections of a closing SO_REUSEPORT listener migrated where the kernel can."""
    wanted = {
        "net.ipv4.conf.all.forwarding": "0",
        "net.ipv6.conf.all.forwarding": "0",
        "net.ipv6.conf.all.disable_ipv6": "1",
        "net.ipv6.conf.default.disable_ipv6": "1",
        f"net.ipv6.conf.{link.zone_if}.disable_ipv6": "1",
        "net.ipv6.conf.all.accept_ra": "0",
        "net.ipv6.conf.default.accept_ra": "0",
        "net.ipv6.conf.all.autoconf": "0",
        "net.ipv6.conf.default.autoconf": "0",
        f"net.ipv6.conf.{link.zone_if}.accept_ra": "0",
        f"net.ipv6.conf.{link.zone_if}.autoconf": "0",
    }
    if _kernel_migrates():
        wanted[_MIGRATE_REQ] = "1"
    return wanted | dict.fromkeys(_BRIDGE, "1")


def host_sysctls(links: dict[str, ZoneLink]) -> dict[str, str]:
    """Sysctls of the host role: IPv4 forwarding (for the zone links), strict reverse-path filtering on
    them, no RA/autoconf/IPv6 forwarding on them, and bridged frames through the inet hooks if a bridge
    ever carries them.

    Destination-unreachable is taken out of the ICMP rate limits (types 3 and 1): every reject must be
    answered at once, or a probe would see silence (an error) instead of a reject after six of them.
    """
    wanted = {
        "net.ipv4.ip_forward": "1",
        "net.ipv4.icmp_ratemask": str(6168 & ~(1 << 3)),
        "net.ipv6.icmp.ratemask": "0,3-127",
    }
    for link in links.values():
        wanted |= {
            f"net.ipv4.conf.{link.host_if}.rp_filter": "1",
            f"net.ipv4.conf.{link.host_if}.route_localnet": "0",
            f"net.ipv6.conf.{link.host_if}.disable_ipv6": "1",
            f"net.ipv6.conf.{link.host_if}.accept_ra": "0",
            f"net.ipv6.conf.{link.host_if}.autoconf": "0",
            f"net.ipv6.conf.{link.host_if}.forwarding": "0",
        }
    return wanted | dict.fromkeys(_BRIDGE, "1")


def _host_globals(links: dict[str, ZoneLink]) -> dict[str, str]:
    """The host-role sysctls that outlive the zone links (the per-link ones vanish with the links)."""
    names = tuple(f".{link.host_if}." for link in links.values())
    return {key: value for key, value in host_sysctls(links).items() if not any(n in key for n in names)}


def host_globals_before(host_netns: str | None, links: dict[str, ZoneLink]) -> dict[str, str]:
    """The current values of the host-role sysctls `create` is about to change (to restore at `down`)."""
    keys = list(_host_globals(links))
    values = _sys.call_in(host_netns, lambda: _sys.read_sysctls(keys))
    return {key: value for key, value in values.items() if value is not None}


def restore_host_globals(host_netns: str | None, links: dict[str, ZoneLink], before: dict[str, str]) -> None:
    """Put back the host-role sysctls recorded by `host_globals_before`.

    Only a value that still is what MedVault set is restored: one that somebody changed since (another
    service that needs forwarding, say) is theirs now and left alone.
    """
    ours = _host_globals(links)

    def restore() -> None:
        live = _sys.read_sysctls(list(before))
        _sys.write_sysctls(
            {key: value for key, value in before.items() if key in ours and live.get(key) == ours[key]}
        )

    _sys.call_in(host_netns, restore)


def _create_zone(host_netns: str | None, link: ZoneLink, peer: ZoneLink | None) -> None:
    _sys.run(["ip", "netns", "add", link.netns])
    # Defaults first, so the zone side of the veth is born without RA/autoconf.
    _sys.call_in(
        link.netns,
        lambda: _sys.write_sysctls({k: v for k, v in zone_sysctls(link).items() if ".conf.eth0." not in k}),
    )
    _sys.ip(
        host_netns, *f"link add {link.host_if} type veth peer name {link.zone_if} netns {link.netns}".split()
    )
    _sys.call_in(link.netns, lambda: _sys.write_sysctls(zone_sysctls(link)))
    _sys.ip(host_netns, "addr", "add", f"{link.host_addr}/{link.prefixlen}", "dev", link.host_if)
    _sys.ip(link.netns, "addr", "add", f"{link.zone_addr}/{link.prefixlen}", "dev", link.zone_if)
    for netns, dev in ((link.netns, "lo"), (link.netns, link.zone_if), (host_netns, link.host_if)):
        _sys.ip(netns, "link", "set", dev, "up")
    if peer is None:  # the dmz: everything through the host role, which filters it
        _sys.ip(link.netns, "route", "add", "default", "via", str(link.host_addr))
    else:  # the vault: the gateway and nothing else
        _sys.ip(link.netns, "route", "add", f"{peer.zone_addr}/32", "via", str(link.host_addr))


def create(host_netns: str | None, links: dict[str, ZoneLink]) -> None:
    """Create the host-role namespace if named and missing, then every zone with its link and routes."""
    if host_netns is not None and not _sys.netns_exists(host_netns):
        _sys.run(["ip", "netns", "add", host_netns])
        _sys.ip(host_netns, "link", "set", "lo", "up")
    _create_zone(host_netns, links["dmz"], None)
    _create_zone(host_netns, links["vault"], links["dmz"])
    _sys.call_in(host_netns, lambda: _sys.write_sysctls(host_sysctls(links)))


def remove(host_netns: str | None, links: dict[str, ZoneLink]) -> None:
    """Remove the zone namespaces and the host side of their links; missing parts are fine."""
    for link in links.values():
        if host_netns is None or _sys.netns_exists(host_netns):
            _sys.ip(host_netns, "link", "del", link.host_if, check=False)
        if _sys.netns_exists(link.netns):
            _sys.run(["ip", "netns", "del", link.netns], check=False)


def expected_routes(link: ZoneLink, peer: ZoneLink | None) -> set[str]:
    """The routes a zone must have (own link, and a default route for the dmz or a gateway route)."""
    net4 = ipaddress.ip_interface(f"{link.zone_addr}/{link.prefixlen}").network
    routes = {f"{net4} dev {link.zone_if}"}
    if peer is None:
        routes.add(f"default via {link.host_addr} dev {link.zone_if}")
    else:
        routes.add(f"{peer.zone_addr} via {link.host_addr} dev {link.zone_if}")
    return routes


def live_routes(netns: str) -> set[str]:
    """Every unicast route of every table in `netns` except the kernel's local table, both families."""
    found: set[str] = set()
    for family in ("-4", "-6"):
        out = _sys.ip(netns, "-j", family, "route", "show", "table", "all")
        for route in json.loads(out or "[]"):
            if route.get("table") == "local" or route.get("type", "unicast") != "unicast":
                continue
            text = route["dst"] + (f" via {route['gateway']}" if "gateway" in route else "")
            found.add(text + (f" dev {route['dev']}" if "dev" in route else ""))
    return found


def audit(host_netns: str | None, links: dict[str, ZoneLink]) -> list[str]:
    """Problems with namespaces, routes and sysctls; empty when everything is as created."""
    problems: list[str] = []
    for name, link in links.items():
        if not _sys.netns_exists(link.netns):
            problems.append(f"zone {name}: namespace {link.netns} is missing")
            continue
        peer = links["dmz"] if name != "dmz" else None
        extra = live_routes(link.netns) - expected_routes(link, peer)
        missing = expected_routes(link, peer) - live_routes(link.netns)
        problems += [f"zone {name}: unexpected route {route}" for route in sorted(extra)]
        problems += [f"zone {name}: route missing: {route}" for route in sorted(missing)]
    return problems + sysctl_audit(host_netns, links)


def sysctl_audit(host_netns: str | None, links: dict[str, ZoneLink]) -> list[str]:
    """Sysctls of the zones and the host role that differ from what `create` set (cheap: file reads)."""
    problems: list[str] = []
    for name, link in links.items():
        if _sys.netns_exists(link.netns):
            problems += _sysctl_problems(f"zone {name}", link.netns, zone_sysctls(link))
    return problems + _sysctl_problems("host role", host_netns, host_sysctls(links))


def _sysctl_problems(where: str, netns: str | None, wanted: dict[str, str]) -> list[str]:
    try:
        live = _sys.call_in(netns, lambda: _sys.read_sysctls(list(wanted)))
    except IsolationError as exc:
        return [f"{where}: cannot read sysctls ({exc})"]
    return [
        f"{where}: sysctl {key} is {live[key]}, must be {value}"
        for key, value in wanted.items()
        if live[key] is not None and live[key] != value
    ]
