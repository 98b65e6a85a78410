"""Validation of the `[isolation]` policy: exactly one address and one port per airlock, dmz only."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest
from pydantic import ValidationError

from medvault.config import load_settings
from medvault.errors import ConfigError
from medvault.isolation import IsolationPolicy


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
