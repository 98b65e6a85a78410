"""Validation of the `[isolation]` policy: exactly one address and one port per airlock, dmz only;
non-global addresses unless a key allows them; a link network exactly as wide as the links need."""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path

import pytest
from pydantic import ValidationError

from medvault.config import load_settings
from medvault.errors import ConfigError
from medvault.isolation import IsolationPolicy
from medvault.isolation.policy import LINK_PREFIXLEN, ZONES

# A global address for validation only (never contacted): the first IPv4 production probe target, so no
# test names a real public address.
GLOBAL = next(t for t in IsolationPolicy().monitor.targets if t.version == 4)


def _global_net(prefixlen: int) -> str:
    return str(ipaddress.ip_network(f"{GLOBAL}/{prefixlen}", strict=False))


def _airlock(**fields: object) -> dict[str, object]:
    return {"airlocks": [{"name": "ldaps", "address": "192.0.2.7", "port": 636, **fields}]}


def test_defaults_construct_without_arguments() -> None:
    """The policy builds with no arguments and probes the public resolvers by default."""
    policy = IsolationPolicy()
    assert policy.enabled and policy.airlocks == []
    # Production targets are public resolvers, IPv4 and IPv6 (tests set their own fake-internet hosts).
    targets = [ipaddress.ip_address(str(t)) for t in policy.monitor.targets]
    assert targets and all(t.is_global for t in targets)
    assert {t.version for t in targets} == {4, 6}
    assert policy.monitor.interval_s == 1.0
    assert policy.zone_netns("vault") == "medvault-vault"


def test_valid_airlock_is_accepted() -> None:
    """One literal IPv4 address and one port from the dmz is a valid airlock."""
    policy = IsolationPolicy.model_validate(_airlock())
    assert policy.airlocks[0].address == ipaddress.IPv4Address("192.0.2.7")


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"address": "ldap.hospital.example"}, "hostnames are refused"),
        ({"address": "192.0.2.0/24"}, "is a range"),
        ({"address": "192.0.2.7/32"}, "is a range"),
        ({"address": "192.0.2.7-192.0.2.9"}, "range"),
        ({"address": "2001:db8::7"}, "IPv4 only"),
        ({"port": [636, 389]}, "port list"),
        ({"port": "636,389"}, "port list"),
        ({"port": "389-636"}, "port list"),
        ({"port": 0}, "greater than or equal to 1"),
        ({"zone": "vault"}, "dmz only"),
    ],
)
def test_invalid_airlocks_are_refused_with_a_reason(fields: dict[str, object], message: str) -> None:
    """Hostnames, ranges, IPv6, port lists and airlocks from the vault are refused, saying why."""
    with pytest.raises(ValidationError, match=message):
        IsolationPolicy.model_validate(_airlock(**fields))


def test_duplicate_airlock_names_are_refused() -> None:
    """Two airlocks may not share a name (it labels their rules)."""
    lock = {"name": "x", "address": "192.0.2.7", "port": 636}
    with pytest.raises(ValidationError, match="unique"):
        IsolationPolicy.model_validate({"airlocks": [lock, {**lock, "port": 389}]})


def test_ingress_address_must_be_one_address() -> None:
    """The ingress address is one IPv4 address, not a hostname."""
    with pytest.raises(ValidationError, match="not an IP address"):
        IsolationPolicy.model_validate({"ingress": {"address": "medvault.local"}})


def test_policy_is_frozen() -> None:
    """The policy cannot be changed after start-up."""
    policy = IsolationPolicy()
    with pytest.raises(ValidationError):
        policy.enabled = False  # type: ignore[misc]


def test_toml_errors_name_the_key(tmp_path: Path) -> None:
    """A bad airlock in medvault.toml yields a ConfigError naming the key and the problem."""
    config = tmp_path / "medvault.toml"
    config.write_text('[[isolation.airlocks]]\nname = "api"\naddress = "api.example.org"\nport = 443\n')
    with pytest.raises(ConfigError, match=r"isolation\.airlocks\.0\.address.*hostnames are refused"):
        load_settings(config)


def test_default_link_network_is_non_global_and_just_wide_enough() -> None:
    """The default link network is a shared-range /29: two /30 zone links and nothing more."""
    net = IsolationPolicy().link_network
    assert not net.is_global and net.prefixlen == LINK_PREFIXLEN == 29
    assert len(list(net.subnets(new_prefix=30))) == len(ZONES)


@pytest.mark.parametrize(
    ("network", "message"),
    [
        (_global_net(29), r"isolation\.link_network.*global.*allow_global_link_network = true"),
        ("100.72.0.0/24", r"isolation\.link_network.*wider than.*use exactly a /29, e\.g\. 100\.72\.0\.0/29"),
        ("10.9.0.0/30", r"isolation\.link_network.*too small for.*10\.9\.0\.0/29"),
        ("169.254.7.0/29", r"isolation\.link_network.*link-local"),
        ("127.0.0.0/29", r"isolation\.link_network.*loopback"),
        ("0.0.0.0/29", r"isolation\.link_network.*0\.0\.0\.0/8"),
    ],
)
def test_bad_link_networks_are_refused_naming_the_key_and_the_fix(network: str, message: str) -> None:
    """A global, too wide, too narrow or unroutable link network is refused, naming the key and the fix."""
    with pytest.raises(ConfigError, match=message):
        load_settings(None, isolation={"link_network": network})


@pytest.mark.parametrize("network", ["10.99.0.0/29", "192.168.7.8/29", "172.16.0.0/29", "100.64.0.0/29"])
def test_private_and_shared_link_networks_are_accepted(network: str) -> None:
    """Any non-global /29 (private or the shared 100.64.0.0/10 range) is a valid link network."""
    policy = IsolationPolicy.model_validate({"link_network": network})
    assert str(policy.link_network) == network


def test_global_link_network_needs_the_explicit_key() -> None:
    """With `allow_global_link_network = true` a range the hospital owns is accepted (still a /29)."""
    policy = IsolationPolicy.model_validate(
        {"link_network": _global_net(29), "allow_global_link_network": True}
    )
    assert policy.link_network.is_global
    with pytest.raises(ValidationError, match="wider than"):
        IsolationPolicy.model_validate({"link_network": _global_net(24), "allow_global_link_network": True})


def test_global_airlock_is_refused_unless_allowed(tmp_path: Path) -> None:
    """An airlock at an internet address is refused naming `allow_global`; with it set, it is accepted."""
    config = tmp_path / "medvault.toml"
    config.write_text(f'[[isolation.airlocks]]\nname = "api"\naddress = "{GLOBAL}"\nport = 443\n')
    pattern = rf"isolation\.airlocks\.0.*{re.escape(str(GLOBAL))} is a global.*allow_global = true"
    with pytest.raises(ConfigError, match=pattern):
        load_settings(config)
    allowed = IsolationPolicy.model_validate(_airlock(address=str(GLOBAL), allow_global=True))
    assert allowed.airlocks[0].address.is_global


@pytest.mark.parametrize("address", ["10.1.2.3", "172.20.0.9", "192.168.1.10", "100.64.0.7", "192.0.2.7"])
def test_non_global_airlocks_are_accepted_without_the_key(address: str) -> None:
    """Private, shared and documentation addresses need no extra key."""
    policy = IsolationPolicy.model_validate(_airlock(address=address))
    assert str(policy.airlocks[0].address) == address and not policy.airlocks[0].allow_global
