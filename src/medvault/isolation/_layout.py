"""Names and addresses of the zone links, derived from the policy and nothing else.

Zone i gets the i-th /30 of `link_network` (host side .1, zone side .2). The host-side interface is
`mv-<zone>`, the zone side `eth0`. There are no IPv6 addresses: IPv6 is disabled on zone links.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from medvault.isolation.policy import ZONES, IsolationPolicy


@dataclass(frozen=True)
class ZoneLink:
    """One zone's namespace and its veth link to the host role."""

    name: str
    netns: str
    host_if: str
    zone_if: str
    host_addr: ipaddress.IPv4Address
    zone_addr: ipaddress.IPv4Address
    prefixlen: int


def zone_links(policy: IsolationPolicy) -> dict[str, ZoneLink]:
    """The links of every zone, keyed by zone name, in a stable order."""
    nets4 = policy.link_network.subnets(new_prefix=30)
    links: dict[str, ZoneLink] = {}
    for name in ZONES:
        net4 = next(nets4)
        links[name] = ZoneLink(
            name=name,
            netns=policy.zone_netns(name),
            host_if=f"mv-{name}",
            zone_if="eth0",
            host_addr=net4.network_address + 1,
            zone_addr=net4.network_address + 2,
            prefixlen=30,
        )
    return links
