"""`[directory]` in medvault.toml: sign-in against the hospital's LDAP / Active Directory.

The server is named by one literal IPv4 address, the same one an `[[isolation.airlocks]]` entry opens
from the dmz (a hostname would let DNS move the airlock's peer); the certificate is checked against the
hospital's CA file and `server_name`. Everything about users and groups is read with a service account;
a user's own password is only ever sent in a bind to the DN the search found.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

from medvault.directory._ldap import LDAPInvalidDnError, parse_dn
from medvault.isolation.policy import IPv4Literal, IsolationPolicy
from medvault.store import Role

LOGIN_ATTRIBUTES = ("uid", "sAMAccountName", "userPrincipalName")
# A DNS name (no wildcard: ldap3 reads "*" in valid_names as "accept any certificate name").
_SERVER_NAME = r"^[A-Za-z0-9]([A-Za-z0-9-]{0,62})(\.[A-Za-z0-9]([A-Za-z0-9-]{0,62})){0,20}$"


def normal_dn(dn: str) -> str:
    """A DN in one canonical spelling (case and spaces around separators do not matter in LDAP).

    The separators stay as they are: "cn=admins+ou=groups,dc=h" (one entry under dc=h, with a two-part
    name) is not the mapped "cn=admins,ou=groups,dc=h". Other spellings of one DN (escapes, the order in
    a two-part name) read as different DNs, which fails closed: no role."""
    return "".join(f"{attr}={value}{sep}" for attr, value, sep in parse_dn(dn, strip=True)).lower()


def _balanced_filter(text: str) -> bool:
    depth = 0
    for char in re.sub(r"\\.", "", text):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth < 0:
            return False
    return depth == 0 and text.startswith("(") and text.endswith(")")


class DirectorySettings(BaseModel):
    """Where the directory is, how MedVault binds to it and which groups give which role."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    enabled: bool = False
    address: IPv4Literal | None = Field(
        default=None, description="the directory server's IPv4 address: the airlock's address"
    )
    port: int = Field(default=636, ge=1, le=65535, description="the airlock's port")
    transport: Literal["ldaps", "starttls"] = Field(
        default="ldaps", description="TLS from the first byte (ldaps, port 636) or StartTLS (port 389)"
    )
    server_name: str | None = Field(
        default=None,
        pattern=_SERVER_NAME,
        max_length=253,
        description="name the server certificate must carry",
    )
    ca_file: Path | None = Field(default=None, description="PEM file of the hospital's CA(s)")
    bind_dn: str = Field(default="", description="the service account's DN")
    bind_password: SecretStr | None = Field(default=None, description="or MEDVAULT_DIRECTORY__BIND_PASSWORD")
    bind_password_file: Path | None = Field(default=None, description="a file holding the password")
    user_base: str = Field(default="", description="where users are searched (subtree)")
    user_filter: str = Field(
        default="(objectClass=person)",
        description="what a sign-in account is; add the directory's 'account enabled' condition here",
    )
    login_attribute: Literal["uid", "sAMAccountName", "userPrincipalName"] = "uid"
    id_attribute: str = Field(
        default="entryUUID", pattern=r"^[A-Za-z][A-Za-z0-9-]{0,63}$", description="AD: objectGUID"
    )
    nested_groups: Literal["memberof", "in_chain"] = Field(
        default="memberof",
        description="memberof: walk memberOf of the user and its groups (OpenLDAP memberof overlay, AD); "
        "in_chain: one AD query with LDAP_MATCHING_RULE_IN_CHAIN under group_base",
    )
    group_base: str = Field(default="", description="where groups live (nested_groups = in_chain)")
    max_group_depth: int = Field(default=8, ge=1, le=32, description="nesting levels walked (memberof)")
    roles: dict[Role, list[str]] = Field(
        default_factory=dict, description="role -> group DNs whose members (also nested) get it"
    )
    connect_timeout_s: float = Field(default=3.0, gt=0, le=30)
    # Whole seconds: ldap3 sets the receive timeout as SO_RCVTIMEO from an integer.
    timeout_s: int = Field(default=5, ge=1, le=60, description="each answer, and a whole sign-in")
    recheck_s: float = Field(default=60.0, ge=1, description="how often a session's user is looked up again")
    offline_grace_s: float = Field(
        default=300.0, ge=0, description="sessions outlive an unreachable directory this long, no more"
    )

    @model_validator(mode="after")
    def _complete(self) -> DirectorySettings:
        if not self.enabled:
            return self
        missing = [
            key
            for key, value in (
                ("address", self.address), ("server_name", self.server_name), ("ca_file", self.ca_file),
                ("bind_dn", self.bind_dn), ("user_base", self.user_base),
            )
            if not value
        ]  # fmt: skip
        # An empty password is missing too: LDAP reads a simple bind without one as anonymous.
        if not (self.bind_password and self.bind_password.get_secret_value()) and not self.bind_password_file:
            missing.append("bind_password or bind_password_file")
        if self.nested_groups == "in_chain" and not self.group_base:
            missing.append("group_base (nested_groups = in_chain)")
        if missing:
            raise ValueError(f"directory.enabled needs {', '.join(missing)}")
        for key in ("bind_dn", "user_base", "group_base"):
            value = getattr(self, key)
            if value:
                _dn(f"directory.{key}", value)
        if not _balanced_filter(self.user_filter):
            raise ValueError(
                f"directory.user_filter {self.user_filter!r} is not one parenthesised LDAP filter, "
                "e.g. (&(objectClass=person)(!(employeeType=disabled)))"
            )
        self._check_roles()
        return self

    def _check_roles(self) -> None:
        if not any(self.roles.values()):
            raise ValueError(
                "directory.roles maps no group to a role, so nobody could sign in; fix: e.g. "
                'clinician = ["cn=medvault-clinicians,ou=groups,dc=hospital,dc=example"]'
            )
        owner: dict[str, Role] = {}
        for role, groups in self.roles.items():
            for group in groups:
                key = _dn(f"directory.roles.{role.value}", group)
                if key in owner and owner[key] != role:
                    raise ValueError(
                        f"group {group!r} is mapped to both {owner[key].value} and {role.value}; "
                        "a group gives exactly one role"
                    )
                owner[key] = role

    @property
    def budget_s(self) -> float:
        """The most one directory operation (sign-in, re-check) may take, all its connections together."""
        return self.connect_timeout_s + self.timeout_s

    def role_of_group(self) -> dict[str, Role]:
        """Each mapped group's canonical DN and its role."""
        return {normal_dn(group): role for role, groups in self.roles.items() for group in groups}

    def service_password(self) -> str:
        """The service account's password, from the config or its file (read at each use: rotatable)."""
        if self.bind_password is not None:
            return self.bind_password.get_secret_value()
        assert self.bind_password_file is not None
        return self.bind_password_file.read_text(encoding="utf-8").strip()


def _dn(key: str, value: str) -> str:
    try:
        return normal_dn(value)
    except LDAPInvalidDnError:
        raise ValueError(f"{key}: {value!r} is not a DN (e.g. ou=people,dc=hospital,dc=example)") from None


def airlock_problem(directory: DirectorySettings, isolation: IsolationPolicy) -> str | None:
    """Why the directory cannot be reached through the isolation policy, or None when it can.

    The airlock is declared in `[isolation]`, not derived from here, so every opening of the host stays
    in one reviewed place; this check only makes sure both name the same address and port.
    """
    if not directory.enabled or not isolation.enabled or directory.address is None:
        return None
    if isolation.airlock_to(directory.address, directory.port) is not None:
        return None
    return (
        f"directory: {directory.address}:{directory.port} is not an airlock, so the gateway (in the dmz) "
        'cannot reach it; fix: add to medvault.toml\n[[isolation.airlocks]]\nname = "directory"\n'
        f'address = "{directory.address}"\nport = {directory.port}'
    )
