"""The declarative isolation policy: the `[isolation]` table of medvault.toml.

Everything the host firewall, the namespaces and the monitor do is derived from this one frozen model.
Validation is deliberately narrow: an airlock is exactly one literal IP address and one TCP port, only
from the dmz; hostnames, ranges and port lists are refused because each widens what can leave the host
in a way nobody reviewed. Addresses are non-global (private, shared, documentation ranges) unless the
operator says otherwise key by key: a hospital LDAP server or upstream API sits on its own network, and a
public address there is far more often a typo than a design; and the link network is exactly as wide as
the zone links need, so it claims no more of the hospital's address plan than it uses.
"""

from __future__ import annotations

import ipaddress
import math
import re
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

ZONES = ("dmz", "vault")
"""The zones MedVault places workloads in: the gateway in `dmz`, the engines in `vault`."""

DEFAULT_TARGETS = ("1.1.1.1", "8.8.8.8", "9.9.9.9", "2606:4700:4700::1111", "2001:4860:4860::8888")
DEFAULT_TCP_PORTS = (22, 25, 53, 80, 443, 853, 3128, 5432, 8080)
DEFAULT_UDP_PORTS = (53, 123, 443)
# One /30 per zone link (_layout.py): the link network is the smallest block that holds them all.
LINK_PREFIXLEN = 30 - math.ceil(math.log2(len(ZONES)))
_THIS_NETWORK = ipaddress.IPv4Network("0.0.0.0/8")  # "this host on this network": never routable
# A system user name, or UID:GID (numeric, no passwd entry needed).
_USER_PATTERN = r"^([a-z_][a-z0-9_-]{0,31}|[0-9]{1,9}:[0-9]{1,9})$"


def _one_address(value: object) -> object:
    """Accept one literal IP address; say precisely why a hostname or a range is refused."""
    if not isinstance(value, str):
        return value
    text = value.strip()
    if "/" in text:
        raise ValueError(
            f"{text!r} is a range; an airlock or ingress address must be exactly one IP address "
            "(write it without a prefix length)"
        )
    if "-" in text and ":" not in text:
        raise ValueError(f"{text!r} looks like a range; write exactly one IP address")
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        raise ValueError(
            f"{text!r} is not an IP address; hostnames are refused because DNS could point them anywhere "
            "(resolve it once, review it, and write the address)"
        ) from None


def _one_port(value: object) -> object:
    if isinstance(value, list | tuple | set) or (isinstance(value, str) and re.search(r"[,\-: ]", value)):
        raise ValueError(f"{value!r} is a port list or range; an airlock opens exactly one TCP port")
    return value


Port = Annotated[int, BeforeValidator(_one_port), Field(ge=1, le=65535)]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


def _ipv4_only(value: object) -> object:
    value = _one_address(value)
    if isinstance(value, ipaddress.IPv6Address):
        raise ValueError(
            f"{value} is IPv6; airlocks are IPv4 only because MedVault never forwards IPv6 out of a zone"
        )
    return value


IPv4Literal = Annotated[ipaddress.IPv4Address, BeforeValidator(_ipv4_only)]
"""Exactly one literal IPv4 address (an airlock's peer, e.g. the directory server), with the reasons."""


class Airlock(_Frozen):
    """One pinned destination the dmz may open TCP connections to (LDAPS, an upstream API)."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_]{0,30}$", description="label used in rule comments")
    address: IPv4Literal
    port: Port
    zone: str = "dmz"
    allow_global: bool = Field(
        default=False, description="accept a global (internet-routable) address, e.g. the hospital's own"
    )

    @model_validator(mode="after")
    def _non_global(self) -> Airlock:
        if self.address.is_global and not self.allow_global:
            raise ValueError(
                f"airlock {self.name}: address {self.address} is a global (internet-routable) address; "
                "an airlock normally reaches a server on the hospital's own private network; fix: write "
                "that server's private address, or, if the hospital really owns this public address, set "
                "allow_global = true on this airlock"
            )
        return self

    @field_validator("zone")
    @classmethod
    def _dmz_only(cls, zone: str) -> str:
        if zone != "dmz":
            raise ValueError(
                f"airlocks are allowed from the dmz only, not from {zone!r}: the vault holds the model and "
                "the patient text and must reach nothing but the gateway"
            )
        return zone


class Ingress(_Frozen):
    """Where clients reach the gateway: a host address and port, DNAT'ed into the dmz."""

    address: Annotated[ipaddress.IPv4Address, BeforeValidator(_one_address)] = Field(
        default=ipaddress.IPv4Address("0.0.0.0"),  # noqa: S104 — DNAT on any host address, by design
        description="host IPv4 address clients connect to; 0.0.0.0 = any address of the host",
    )
    port: Port = 8080
    clients: list[ipaddress.IPv4Network] = Field(
        default_factory=lambda: [
            ipaddress.IPv4Network("10.0.0.0/8"),
            ipaddress.IPv4Network("172.16.0.0/12"),
            ipaddress.IPv4Network("192.168.0.0/16"),
        ],
        min_length=1,
        description="client networks allowed to reach the ingress",
    )


class MonitorPolicy(_Frozen):
    """What the probes aim at and how often the monitor runs them."""

    interval_s: float = Field(default=1.0, gt=0, le=60)
    timeout_s: float = Field(default=0.5, gt=0, le=10)
    targets: list[IPAddress] = Field(
        default_factory=lambda: [ipaddress.ip_address(t) for t in DEFAULT_TARGETS], min_length=1
    )
    tcp_ports: list[Port] = Field(default_factory=lambda: list(DEFAULT_TCP_PORTS))
    udp_ports: list[Port] = Field(default_factory=lambda: list(DEFAULT_UDP_PORTS))
    max_error_rounds: int = Field(
        default=3, ge=1, description="consecutive probe rounds with errors before the monitor gives up"
    )


class IsolationPolicy(_Frozen):
    """Declarative isolation policy read from the `[isolation]` table of medvault.toml."""

    enabled: bool = True
    netns_prefix: str = Field(
        default="medvault", pattern=r"^[a-z][a-z0-9-]{0,19}$", description="zone namespaces: PREFIX-ZONE"
    )
    # Declared before link_network, whose validator reads it.
    allow_global_link_network: bool = Field(
        default=False, description="accept a global (internet-routable) link_network the hospital owns"
    )
    link_network: ipaddress.IPv4Network = Field(
        default=ipaddress.IPv4Network(f"100.72.0.0/{LINK_PREFIXLEN}"),
        description=f"non-global IPv4 /{LINK_PREFIXLEN}, carved into one /30 per zone link",
    )
    vault_ports: list[Port] = Field(
        default_factory=lambda: [8100], min_length=1, description="engine ports the gateway may reach"
    )
    dmz_user: str = Field(
        default="medvault-gw",
        pattern=_USER_PATTERN,
        description="user (created by `medvault up` if missing) or UID:GID the gateway runs as",
    )
    vault_user: str = Field(
        default="medvault-inf",
        pattern=_USER_PATTERN,
        description="user (created by `medvault up` if missing) or UID:GID the engines run as",
    )
    ingress: Ingress = Ingress()
    airlocks: list[Airlock] = Field(default_factory=list)
    monitor: MonitorPolicy = MonitorPolicy()
    # Tasks are processes and threads: vLLM with tensor parallelism on a many-core host runs thousands.
    zone_pids_max: int = Field(
        default=8192, ge=64, le=4_194_304, description="processes and threads each zone may hold (pids.max)"
    )

    @field_validator("link_network")
    @classmethod
    def _link_network_fits(cls, net: ipaddress.IPv4Network, info: ValidationInfo) -> ipaddress.IPv4Network:
        example = f"100.72.0.0/{LINK_PREFIXLEN}"
        unusable = net.is_link_local or net.is_loopback or net.is_multicast or net.is_reserved
        if unusable or net.subnet_of(_THIS_NETWORK):
            raise ValueError(
                f"{net} is link-local, loopback, multicast, reserved or 0.0.0.0/8, which cannot carry zone "
                "links; "
                f"fix: use a private or shared range, e.g. {example}"
            )
        if net.prefixlen != LINK_PREFIXLEN:
            # A wider block claims hospital addresses nothing uses; a narrower one cannot hold the links.
            size = "wider than" if net.prefixlen < LINK_PREFIXLEN else "too small for"
            fitting = ipaddress.IPv4Network((net.network_address, LINK_PREFIXLEN), strict=False)
            raise ValueError(
                f"{net} is {size} the {len(ZONES)} zone links need (one /30 each); "
                f"fix: use exactly a /{LINK_PREFIXLEN}, e.g. {fitting}"
            )
        if net.is_global and not info.data.get("allow_global_link_network", False):
            raise ValueError(
                f"{net} is a global (internet-routable) network: zone links would use addresses that "
                f"belong to someone else on the internet; fix: use a private or shared range such as "
                f"{example}, or, if the hospital owns this range and uses it nowhere else, set "
                "isolation.allow_global_link_network = true"
            )
        return net

    @model_validator(mode="before")
    @classmethod
    def _no_shared_user(cls, data: Any) -> Any:
        if isinstance(data, dict) and "workload_user" in data:
            raise ValueError(
                "isolation.workload_user is gone: each zone has its own user now; "
                "fix: set isolation.dmz_user and isolation.vault_user (two different users), or drop the key"
            )
        return data

    @field_validator("dmz_user", "vault_user")
    @classmethod
    def _not_root(cls, user: str) -> str:
        numeric = [int(part) for part in user.split(":")] if ":" in user else []
        if user == "root" or 0 in numeric:
            raise ValueError("zone workloads must not run as root (uid or gid 0); name an unprivileged user")
        return user

    @model_validator(mode="after")
    def _users_distinct(self) -> IsolationPolicy:
        if self.dmz_user == self.vault_user:
            raise ValueError(
                "isolation.dmz_user and isolation.vault_user must differ: a shared user would let a "
                "compromised engine signal the gateway and read the database"
            )
        return self

    @model_validator(mode="after")
    def _airlocks_distinct(self) -> IsolationPolicy:
        names = [a.name for a in self.airlocks]
        if len(set(names)) != len(names):
            raise ValueError("airlock names must be unique")
        for airlock in self.airlocks:
            if airlock.address in self.link_network:
                raise ValueError(f"airlock {airlock.name} points into the zone link network")
        return self

    def airlock_to(self, address: ipaddress.IPv4Address, port: int) -> Airlock | None:
        """The airlock that opens exactly `address`:`port` from the dmz, if one does."""
        return next((a for a in self.airlocks if a.address == address and a.port == port), None)

    def zone_netns(self, zone: str) -> str:
        """The network namespace name of `zone`."""
        return f"{self.netns_prefix}-{zone}"
