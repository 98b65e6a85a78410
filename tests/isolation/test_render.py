"""The rendered host firewall: what it allows, what it rejects, and that nft accepts it."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest

from medvault.errors import IsolationError
from medvault.isolation import IsolationPolicy, build_isolation
from medvault.isolation._layout import zone_links
from medvault.isolation._nft import canonical, scratch_netns
from medvault.isolation._render import counter_names, render, render_panic
from medvault.isolation._sys import run as sh
from tests.conftest import require_root

POLICY = IsolationPolicy.model_validate(
    {"airlocks": [{"name": "ldaps", "address": "192.0.2.7", "port": 636}], "vault_ports": [8100]}
)
LINKS = zone_links(POLICY)


def test_zone_links_are_distinct_small_subnets() -> None:
    """Each zone gets its own /30 out of the link network and its own interface names."""
    dmz, vault = LINKS["dmz"], LINKS["vault"]
    assert (str(dmz.host_addr), str(dmz.zone_addr)) == ("100.72.0.1", "100.72.0.2")
    assert (str(vault.host_addr), str(vault.zone_addr)) == ("100.72.0.5", "100.72.0.6")
    assert (dmz.host_if, vault.host_if, dmz.netns) == ("mv-dmz", "mv-vault", "medvault-dmz")


def test_ruleset_has_three_drop_chains_and_a_counter_on_every_reject() -> None:
    """input, forward and output drop by default, and each reject names a counter that is declared."""
    text = render(POLICY, LINKS, 8080)
    for hook in ("input", "forward", "output"):
        assert f"type filter hook {hook} priority filter; policy drop;" in text
    rejects = [line for line in text.splitlines() if " reject " in line]
    assert rejects and all("counter name " in line for line in rejects)
    for name in counter_names(LINKS):
        assert f"counter {name} {{" in text
    assert text.startswith("add table inet medvault\ndelete table inet medvault\n")


def test_only_declared_flows_are_accepted() -> None:
    """Accepts exist for the engine port, the airlock and the ingress, and nothing from the vault outward."""
    text = render(POLICY, LINKS, 8080)
    accepts = [
        line.strip()
        for line in text.splitlines()
        if line.strip().endswith("accept") or "accept comment" in line
    ]
    # Neighbour discovery (hop limit 255: on-link only) is the one accept for IPv6, towards the host.
    vault_out = [a for a in accepts if a.startswith('iifname "mv-vault"') and "nd-neighbor" not in a]
    assert vault_out == [
        'iifname "mv-vault" oifname "mv-dmz" ip saddr 100.72.0.6 ip daddr 100.72.0.2 tcp sport { 8100 } '
        "ct state established accept"
    ]
    assert any("ip daddr 192.0.2.7 tcp dport 636 accept" in a for a in accepts)
    assert "dnat ip to 100.72.0.2:8080" in text
    assert "masquerade" in text


def test_no_ingress_without_a_gateway_port() -> None:
    """Before `expose_ingress`, nothing is DNAT'ed and the host cannot reach the dmz either."""
    text = render(POLICY, LINKS, None)
    assert "dnat" not in text and "bridge" not in text and 'comment "ingress' not in text


def test_panic_ruleset_cuts_every_zone_interface() -> None:
    """The panic ruleset drops everything from and to zones, and hooks netdev ingress on live links."""
    text = render_panic(LINKS, ["mv-dmz"])
    assert text.count("drop") >= 4
    assert 'hook ingress device "mv-dmz" priority -500; policy drop;' in text
    assert "accept\n" not in text.replace("policy accept;", "")


def test_spoofed_sources_and_ipv6_are_stopped_before_routing() -> None:
    """Before routing, each zone's foreign sources are dropped (a reject would reflect), then IPv6 is
    rejected, each with its own counter, ahead of the no-route reject."""
    rules = [line.strip() for line in render(POLICY, LINKS, None).splitlines()]
    early = rules[rules.index("chain early {") + 2 : rules.index("chain input {") - 1]
    assert early[:4] == [
        'iifname "mv-dmz" ip saddr != 100.72.0.2 counter name dmz_spoof_drop drop',
        'iifname "mv-dmz" ip6 saddr != fe80::/10 counter name dmz_spoof_drop drop',
        'iifname "mv-dmz" icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } ip6 hoplimit 255 accept',
        'iifname "mv-dmz" meta nfproto ipv6 counter name dmz_ipv6_reject reject with icmpx admin-prohibited',
    ]
    assert any("vault_noroute_reject" in rule for rule in early)


def test_dry_run_validates_with_nft_and_applies_nothing(tmp_path: Path) -> None:
    """A dry run renders and checks the rules with `nft -c` (in a scratch namespace, never the
    machine's own) without creating anything."""
    require_root()
    with scratch_netns() as scratch:
        iso = build_isolation(POLICY, data_dir=tmp_path, host_netns=scratch, dry_run=True)
        iso.up()
        iso.check(8080)
        iso.set_ingress(8080)
        tables = sh(["ip", "netns", "exec", scratch, "nft", "list", "tables"])
    assert tables == ""
    assert iso.status()["state"] == "off"
    assert not (tmp_path / "isolation").exists()
    with pytest.raises(IsolationError, match="dry run"):
        iso.start_monitor(print, print)


def _link_chain(text: str, zone: str) -> list[str]:
    rules = [line.strip() for line in text.splitlines()]
    start = rules.index(f"chain {zone}_link {{")
    return rules[start + 1 : rules.index("}", start)]


def test_link_chains_decide_first_and_accept_only_the_declared_flows() -> None:
    """Each zone link has an ingress chain at the lowest priority there is that drops spoofed sources,
    rejects IPv6, accepts exactly the declared flows of that zone and rejects the rest with its link
    counter; without a gateway port no ingress reply is let through."""
    text = render(POLICY, LINKS, 8080)
    for zone, device in (("dmz", "mv-dmz"), ("vault", "mv-vault")):
        chain = _link_chain(text, zone)
        assert chain[0] == f'type filter hook ingress device "{device}" priority -2147483648; policy drop;'
        assert chain[1].endswith(f"counter name {zone}_spoof_drop drop")
        assert (
            chain[4]
            == f"meta nfproto ipv6 counter name {zone}_ipv6_reject reject with icmpx admin-prohibited"
        )
        assert chain[-1] == f"counter name {zone}_link_reject reject with icmpx admin-prohibited"
    assert _link_chain(text, "dmz")[5:-1] == [
        "ip daddr 100.72.0.6 tcp dport { 8100 } accept",
        'ip daddr 192.0.2.7 tcp dport 636 accept comment "airlock ldaps"',
        "ip daddr { 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, 100.72.0.1 } tcp sport 8080 accept "
        'comment "ingress replies"',
    ]
    assert _link_chain(text, "vault")[5:-1] == ["ip daddr 100.72.0.2 tcp sport { 8100 } accept"]
    assert "ingress replies" not in "\n".join(_link_chain(render(POLICY, LINKS, None), "dmz"))


def test_panic_ruleset_replaces_the_link_chains_with_drops() -> None:
    """The kill switch's transaction replaces the table, link chains included, so nothing it drops is
    accepted at a zone link any more."""
    text = render_panic(LINKS, ["mv-dmz", "mv-vault"])
    assert text.startswith("add table inet medvault\ndelete table inet medvault\n")
    assert "_link" not in text and "priority -2147483648" not in text


def test_second_line_alone_renders_no_hook_on_a_device() -> None:
    """Before the zone links exist the ruleset has no chain bound to a device (older kernels refuse a
    hook on a missing one), and is otherwise the full ruleset: every drop chain and counter is there."""
    full, early = render(POLICY, LINKS, None), render(POLICY, LINKS, None, link_chains=False)
    assert "hook ingress device" in full
    assert "hook ingress" not in early
    for chain in ("early", "input", "forward", "output"):
        assert f"chain {chain} {{" in early
    assert all(f"counter {name} {{" in early for name in counter_names(LINKS))


def test_canonical_listing_creates_the_hooked_devices_first() -> None:
    """The canonical listing of the full ruleset is computed with the zone link devices present in the
    scratch namespace, so it does not depend on the kernel binding hooks to missing devices."""
    require_root()
    listing = canonical(render(POLICY, LINKS, 8080), ["mv-dmz", "mv-vault"])
    assert 'hook ingress device "mv-dmz"' in listing
    assert 'hook ingress device "mv-vault"' in listing


def test_ingress_replies_leave_the_link_only_towards_clients_and_the_bridge() -> None:
    """The link lets gateway replies out only to the allowed client networks and the host role's bridge
    address (named once, even when a client network covers it, since nft refuses overlapping elements)."""
    rule = next(r for r in _link_chain(render(POLICY, LINKS, 8080), "dmz") if "ingress replies" in r)
    assert rule.startswith("ip daddr { 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, 100.72.0.1 } tcp sport")
    clients = [ipaddress.IPv4Network("100.64.0.0/10")]
    wide = POLICY.model_copy(update={"ingress": POLICY.ingress.model_copy(update={"clients": clients})})
    rule = next(r for r in _link_chain(render(wide, LINKS, 8080), "dmz") if "ingress replies" in r)
    assert rule.startswith("ip daddr { 100.64.0.0/10 } tcp sport 8080")
