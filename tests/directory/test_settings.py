"""Directory settings, the airlock cross-check, the rendered rule, the store rows and the local-first
order: no root, no network beyond loopback."""

from __future__ import annotations

import asyncio
import socket
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from medvault.config import load_settings
from medvault.directory import Authenticator, DirectorySettings
from medvault.errors import ConfigError
from medvault.isolation._layout import zone_links
from medvault.isolation._render import render
from medvault.isolation.policy import IsolationPolicy
from medvault.store import Role, Store
from medvault.store._directory_users import admit_directory_user, find_user
from tests.directory.slapd import make_ca

BASE = {
    "enabled": True, "address": "192.0.2.40", "port": 636, "server_name": "ldap.hospital.example",
    "ca_file": "/etc/medvault/hospital-ca.pem", "bind_dn": "cn=svc,dc=hospital,dc=example",
    "bind_password": "service-pw", "user_base": "ou=people,dc=hospital,dc=example",
    "roles": {"clinician": ["cn=clinicians,ou=groups,dc=hospital,dc=example"]},
}  # fmt: skip


def _toml(tmp_path: Path, airlock: str) -> Path:
    path = tmp_path / "medvault.toml"
    path.write_text(
        f"""
[isolation]
{airlock}

[directory]
enabled = true
address = "192.0.2.40"
port = 636
server_name = "ldap.hospital.example"
ca_file = "/etc/medvault/hospital-ca.pem"
bind_dn = "cn=svc,dc=hospital,dc=example"
bind_password = "service-pw"
user_base = "ou=people,dc=hospital,dc=example"

[directory.roles]
clinician = ["cn=clinicians,ou=groups,dc=hospital,dc=example"]
admin = ["CN=Admins, OU=Groups, DC=hospital, DC=example"]
"""
    )
    return path


def test_directory_needs_its_airlock_under_isolation(tmp_path: Path) -> None:
    with pytest.raises(
        ConfigError, match=r"(?s)192.0.2.40:636 is not an airlock.*\[\[isolation.airlocks\]\]"
    ):
        load_settings(_toml(tmp_path, ""))
    other_port = '[[isolation.airlocks]]\nname = "directory"\naddress = "192.0.2.40"\nport = 389'
    with pytest.raises(ConfigError, match="is not an airlock"):
        load_settings(_toml(tmp_path, other_port))
    settings = load_settings(_toml(tmp_path, other_port.replace("389", "636")))
    assert settings.directory.role_of_group() == {
        "cn=clinicians,ou=groups,dc=hospital,dc=example": Role.CLINICIAN,
        "cn=admins,ou=groups,dc=hospital,dc=example": Role.ADMIN,  # case and spaces do not matter
    }
    # Without isolation (development) there is no airlock to match.
    assert load_settings(_toml(tmp_path, "enabled = false")).directory.enabled


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"address": "ldap.hospital.example"}, "hostnames are refused"),
        ({"address": "192.0.2.0/24"}, "is a range"),
        ({"address": "2001:db8::5"}, "is IPv6"),
        ({"server_name": "*.hospital.example"}, "should match pattern"),
        ({"ca_file": None}, "needs ca_file"),
        ({"bind_password": None}, "needs bind_password or bind_password_file"),
        ({"user_filter": "objectClass=person"}, "not one parenthesised LDAP filter"),
        ({"user_filter": "(&(objectClass=person)"}, "not one parenthesised LDAP filter"),
        ({"user_base": "people"}, "is not a DN"),
        ({"roles": {}}, "maps no group to a role"),
        (
            {"roles": {"clinician": ["cn=x,dc=h"], "admin": ["CN=X,DC=H"]}},
            "mapped to both clinician and admin",
        ),
        ({"nested_groups": "in_chain"}, "group_base"),
        ({"timeout_s": 0}, "greater than or equal to 1"),
    ],
)
def test_invalid_settings_are_refused_with_the_reason(change: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        DirectorySettings.model_validate({**BASE, **change})


def test_disabled_directory_needs_nothing() -> None:
    assert DirectorySettings().enabled is False
    assert DirectorySettings.model_validate({**BASE, "enabled": False, "ca_file": None}).ca_file is None


def test_directory_airlock_renders_one_dmz_flow_on_the_pinned_port() -> None:
    policy = IsolationPolicy.model_validate(
        {"airlocks": [{"name": "directory", "address": "192.0.2.40", "port": 636}]}
    )
    text = render(policy, zone_links(policy), 8080)
    mentions = [line.strip() for line in text.splitlines() if "192.0.2.40" in line]
    dmz = zone_links(policy)["dmz"]
    assert mentions == [
        'ip daddr 192.0.2.40 tcp dport 636 accept comment "airlock directory"',  # dmz link chain
        f'iifname "{dmz.host_if}" oifname != {{ "mv-dmz", "mv-vault" }} ip saddr {dmz.zone_addr} '
        'ip daddr 192.0.2.40 tcp dport 636 accept comment "airlock directory"',
        f'iifname != {{ "mv-dmz", "mv-vault" }} oifname "{dmz.host_if}" ip saddr 192.0.2.40 '
        f"ip daddr {dmz.zone_addr} tcp sport 636 ct state established "
        'accept comment "airlock directory replies"',
        f'oifname != {{ "mv-dmz", "mv-vault" }} ip saddr {dmz.zone_addr} ip daddr 192.0.2.40 '
        "tcp dport 636 masquerade",
    ]
    assert policy.airlock_to(policy.airlocks[0].address, 636) is policy.airlocks[0]
    assert policy.airlock_to(policy.airlocks[0].address, 389) is None


def test_directory_rows_pin_the_entry_and_never_take_a_local_name(tmp_path: Path) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 'm.db'}")
    store.migrate()
    store.create_user("local1", "Local-Password-42x", Role.CLINICIAN)
    assert admit_directory_user(store, "local1", Role.ADMIN, "uuid-1") == "name_taken"
    assert admit_directory_user(store, "anna", Role.CLINICIAN, "uuid-2") is None
    assert admit_directory_user(store, "anna", Role.AUDITOR, "uuid-2") is None  # role follows the directory
    assert admit_directory_user(store, "anna", Role.AUDITOR, "uuid-3") == "identity_changed"
    anna = find_user(store, "anna")
    assert anna is not None and (anna.source, anna.role, anna.external_id) == ("ldap", Role.AUDITOR, "uuid-2")
    with pytest.raises(Exception, match="already exists"):
        store.create_user("anna", "Another-Password-42x", Role.ADMIN)
    store.set_disabled("anna", True)
    assert admit_directory_user(store, "anna", Role.AUDITOR, "uuid-2") == "disabled"
    local = find_user(store, "local1")
    assert local is not None and local.source == "local"
    store.close()


def test_migration_0004_round_trips(tmp_path: Path) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 'm.db'}")
    store.migrate("0003")
    store.create_user("old1", "Local-Password-42x", Role.CLINICIAN)
    store.migrate("0004")
    engine = sa.create_engine(store.url)
    # Plain SQL at 0004: the store's code reads columns of later revisions (0011).
    with engine.begin() as conn:
        old = conn.execute(sa.text("SELECT source, external_id FROM users WHERE username = 'old1'")).one()
        assert tuple(old) == ("local", None)
        conn.execute(
            sa.text(
                "INSERT INTO users (username, role, password_hash, created_at, disabled, source, external_id)"
                " VALUES ('anna', 'clinician', '!directory', CURRENT_TIMESTAMP, 0, 'ldap', 'uuid-2')"
            )
        )
    store.downgrade("0003")
    with engine.connect() as conn:
        assert [r[0] for r in conn.execute(sa.text("SELECT username FROM users"))] == ["old1"]
        assert "source" not in {c["name"] for c in sa.inspect(conn).get_columns("users")}
    engine.dispose()
    store.close()


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])  # closed again when we return: connections are refused


def test_local_users_first_and_never_locked_out_by_the_directory(tmp_path: Path) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 'm.db'}")
    store.migrate()
    store.create_user("breakglass", "Local-Admin-Never-Locked-7", Role.ADMIN)
    admit_directory_user(store, "anna", Role.CLINICIAN, "uuid-2")
    down = DirectorySettings.model_validate(
        {**BASE, "address": "127.0.0.1", "port": _closed_port(), "connect_timeout_s": 1,
         "ca_file": str(make_ca(tmp_path, "h", ["ldap.hospital.example"]).ca)}
    )  # fmt: skip
    auth = Authenticator(store, down)
    no_ca = Authenticator(store, down.model_copy(update={"ca_file": tmp_path / "missing.pem"}))

    async def work() -> None:
        started = time.monotonic()
        local = await auth.authenticate("breakglass", "Local-Admin-Never-Locked-7")
        assert (local.reason, local.source) == ("ok", "local") and local.principal is not None
        assert local.stamp == store.user_stamp("breakglass") == await auth.still_valid("breakglass")
        # A local name is decided locally: a wrong password never falls through to the directory.
        wrong = await auth.authenticate("breakglass", "not-the-password-1")
        assert (wrong.reason, wrong.source) == ("credentials", "local")
        anna = await auth.authenticate("anna", "whatever-password-1")
        assert (anna.reason, anna.cause, anna.ui_error) == (
            "directory_unavailable", "unreachable", "signin.directory_unavailable",
        )  # fmt: skip
        assert time.monotonic() - started < 5
        assert (await auth.authenticate("breakglass\x00", "x")).reason == "credentials"
        assert (await no_ca.authenticate("anna", "whatever-password-1")).cause == "tls"

    asyncio.run(work())
    # Without a directory, directory users cannot sign in and their sessions end.
    off = Authenticator(store, DirectorySettings())

    async def without() -> None:
        assert (await off.authenticate("anna", "whatever-password-1")).reason == "credentials"
        assert await off.still_valid("anna") is None
        assert (await off.authenticate("breakglass", "Local-Admin-Never-Locked-7")).reason == "ok"

    asyncio.run(without())
    store.close()


def test_in_chain_asks_active_directory_once_with_the_dn_escaped(monkeypatch: pytest.MonkeyPatch) -> None:
    """No Active Directory in CI (slapd lacks the matching rule): the query it sends is checked instead."""
    from medvault.directory import _client

    asked: list[tuple[str, str]] = []

    def search(conn: object, base: str, query: str, *rest: object) -> list[dict[str, object]]:
        asked.append((base, query))
        return [{"type": "searchResEntry", "dn": "CN=Clinicians,OU=Groups,DC=h"}]

    monkeypatch.setattr(_client, "_search", search)
    settings = DirectorySettings.model_validate(
        {
            **BASE,
            "nested_groups": "in_chain",
            "group_base": "OU=Groups,DC=h",
            "roles": {"clinician": ["cn=clinicians,ou=groups,dc=h"]},
        }
    )
    client = _client.DirectoryClient(settings)
    assert client._role(None, "CN=Smith\\, Anna (*),OU=Staff,DC=h", []) == Role.CLINICIAN
    assert asked == [
        ("OU=Groups,DC=h", "(member:1.2.840.113556.1.4.1941:=CN=Smith\\5c, Anna \\28\\2a\\29,OU=Staff,DC=h)")
    ]
