"""Sign-in against a real slapd through the dmz airlock (root, CI): roles, refusals, injection, re-check,
outage, TLS verification, and the airlock's exactness."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import time
from pathlib import Path

import pytest

from medvault.directory import Authenticator, DirectoryClient
from medvault.directory._ldap import SUBTREE
from medvault.isolation._probes import Probe
from medvault.store import Principal, Role, Store
from medvault.store._directory_users import find_user
from tests.directory.conftest import BREAKGLASS, BREAKGLASS_PW, DIRECTORY, LDAP, LDAPS, DirectoryLab, run_in
from tests.directory.slapd import CAPPED_DN, PASSWORD, SERVICE_PW, USER_FILTER, make_ca, user_dn
from tests.isolation.conftest import MEDVAULT, sh


class Clock:
    """A clock the test moves by hand (for the re-check interval and the offline grace)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _auth(dirlab: DirectoryLab, store: Store, clock: Clock | None = None, **changes: object) -> Authenticator:
    return Authenticator(store, dirlab.settings(**changes), clock=clock or Clock())


def test_each_role_signs_in_through_the_airlock(dirlab: DirectoryLab, store: Store) -> None:
    auth = _auth(dirlab, store)

    async def work() -> list[tuple[str | None, Role | None, str, str]]:  # user, role, reason, cause
        found = []
        for name in ("clin1", "adm1", "aud1", "CLIN1"):
            outcome = await auth.authenticate(name, PASSWORD)
            who = outcome.principal
            found.append(
                (who.user if who else None, who.role if who else None, outcome.reason, outcome.cause)
            )
        return found

    assert run_in(dirlab.dmz, work) == [
        ("clin1", Role.CLINICIAN, "ok", ""),  # through the nested group ward-3
        ("adm1", Role.ADMIN, "ok", ""),
        ("aud1", Role.AUDITOR, "ok", ""),
        ("clin1", Role.CLINICIAN, "ok", ""),  # the directory's spelling of the name
    ]
    record = find_user(store, "clin1")
    assert record is not None and record.source == "ldap" and record.external_id
    assert store.verify_password("clin1", PASSWORD) is None  # no local password for a directory user


def test_refusals_name_the_reason_and_sign_nobody_up(dirlab: DirectoryLab, store: Store) -> None:
    auth = _auth(dirlab, store)
    cases = {
        ("clin1", "wrong-password-123"): "credentials",
        ("nobody", PASSWORD): "credentials",
        ("clin1", ""): "credentials",  # an empty password would be an anonymous bind
        ("nogroup1", PASSWORD): "unmapped",
        ("mallory1", PASSWORD): "unmapped",  # in cn=medvault-admins+ou=groups, not the admins group
        ("both1", PASSWORD): "ambiguous_role",  # clinician (nested) and admin
        ("multi1", PASSWORD): "attribute_count",  # two uid values
        ("twin1", PASSWORD): "duplicate_entry",  # two entries with this uid
    }

    async def work() -> dict[tuple[str, str], str]:
        return {case: (await auth.authenticate(*case)).reason for case in cases}

    assert run_in(dirlab.dmz, work) == cases
    assert [u.username for u in store.list_users()] == [BREAKGLASS]  # nobody was added
    unmapped = run_in(dirlab.dmz, lambda: auth.authenticate("nogroup1", PASSWORD))
    assert unmapped.ui_error == "signin.not_enabled"


INJECTIONS = ["cli*", "*", "*)(uid=*", "admin)(|(uid=*", "clin1)(uid=*", "clin1\x00", "cl\\69n1", "clin1\\"]


def test_user_input_is_escaped_in_every_filter(dirlab: DirectoryLab, store: Store) -> None:
    auth = _auth(dirlab, store)

    async def work() -> list[str]:
        control = await auth.authenticate("clin1", PASSWORD)
        assert control.reason == "ok"  # positive control: the password is right
        return [(await auth.authenticate(name, PASSWORD)).reason for name in INJECTIONS]

    assert run_in(dirlab.dmz, work) == ["credentials"] * len(INJECTIONS)

    # Counter-control: written into the filter unescaped, two of them would have found clin1.
    client = DirectoryClient(dirlab.settings())

    def raw_hits(name: str) -> list[str]:
        with client._service(client._deadline()) as conn:
            conn.search(
                dirlab.settings().user_base, f"(&{USER_FILTER}(uid={name}))", SUBTREE, attributes=["uid"]
            )
            return [str(e["dn"]) for e in conn.response if e.get("type") == "searchResEntry"]

    async def unescaped() -> list[list[str]]:
        import asyncio

        return [await asyncio.to_thread(raw_hits, name) for name in ("cli*", "cl\\69n1")]

    assert run_in(dirlab.dmz, unescaped) == [[user_dn("clin1")], [user_dn("clin1")]]


def test_a_server_side_size_limit_is_not_read_as_one_match(dirlab: DirectoryLab, store: Store) -> None:
    """A server that returns one entry and "size limit exceeded" has more: which one is the user?"""
    capped = _auth(dirlab, store, bind_dn=CAPPED_DN)

    async def work() -> list[str]:
        return [(await capped.authenticate(name, PASSWORD)).reason for name in ("clin1", "twin1")]

    # clin1 is the control: one entry, no limit reached, signs in through the capped account.
    assert run_in(dirlab.dmz, work) == ["ok", "duplicate_entry"]


def test_passwords_and_dns_never_reach_logs_or_the_database(
    dirlab: DirectoryLab, store: Store, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    canary = "Canary-Wrong-Password-31337"
    other = make_ca(dirlab.work, "canary", ["ldap.hospital.example"])
    auth, wrong_ca = _auth(dirlab, store), _auth(dirlab, store, ca_file=str(other.ca))
    caplog.set_level(logging.DEBUG)

    async def work() -> list[str]:
        outcomes = [
            await auth.authenticate("clin1", canary),
            await auth.authenticate("clin1", PASSWORD),
            await wrong_ca.authenticate("adm1", PASSWORD),
            await auth.authenticate("nogroup1", PASSWORD),
        ]
        return [repr(o) for o in outcomes]

    outcomes = run_in(dirlab.dmz, work)
    assert [o.split("reason=")[1].split(",")[0] for o in outcomes] == [
        "'credentials'", "'ok'", "'directory_unavailable'", "'unmapped'",
    ]  # fmt: skip
    out, err = capfd.readouterr()
    db_file = Path(store.url.removeprefix("sqlite:///"))
    database = b"".join(f.read_bytes() for f in db_file.parent.glob(db_file.name + "*"))  # with -wal
    logs = caplog.text + out + err + "".join(outcomes)
    for text, where in ((logs, "logs"), (database.decode("latin-1"), "db")):
        for secret in (canary, PASSWORD, SERVICE_PW, user_dn("clin1"), user_dn("adm1")):
            assert secret not in text, (secret, where)
    assert b"clin1" in database  # control: the database was read, and the user is in it


def test_disabled_removed_or_locally_disabled_users_lose_their_sessions(
    dirlab: DirectoryLab, store: Store
) -> None:
    clock = Clock()
    auth = _auth(dirlab, store, clock, recheck_s=30.0)

    async def work() -> None:
        dis, gone, clin = [await auth.authenticate(n, PASSWORD) for n in ("dis1", "gone1", "clin1")]
        assert dis.stamp and gone.stamp and clin.stamp
        assert await auth.still_valid("dis1") == dis.stamp
        dirlab.slapd.ldap(
            "ldapmodify",
            f"dn: {user_dn('dis1')}\nchangetype: modify\nadd: employeeType\nemployeeType: disabled\n",
        )
        dirlab.slapd.ldap("ldapdelete", user_dn("gone1") + "\n")
        clock.now += 29  # within the interval the directory is not asked again
        assert await auth.still_valid("dis1") == dis.stamp
        clock.now += 2
        assert await auth.still_valid("dis1") is None
        assert not await auth.key_still_valid(Principal("dis1", Role.CLINICIAN, key_id="k1"))  # keys end too
        assert await auth.key_still_valid(Principal("clin1", Role.CLINICIAN, key_id="k2"))  # control
        assert not await auth.key_still_valid(Principal("clin1", Role.ADMIN, key_id="k3"))  # not its role
        assert await auth.key_still_valid(Principal("pacs-client", Role.CLINICIAN, key_id="k4"))  # not ours
        assert await auth.still_valid("gone1") is None
        assert await auth.still_valid("clin1") == clin.stamp  # control: an unchanged user stays
        store.set_disabled(
            "clin1", True
        )  # an admin's local switch works at once, whatever the directory says
        assert await auth.still_valid("clin1") is None
        assert (await auth.authenticate("clin1", PASSWORD)).reason == "disabled"
        assert (await auth.authenticate("dis1", PASSWORD)).reason == "credentials"

    run_in(dirlab.dmz, work)


def test_slow_or_unreachable_directory_answers_in_seconds_and_local_admin_works(
    dirlab: DirectoryLab, store: Store
) -> None:
    clock = Clock()
    auth = _auth(dirlab, store, clock, offline_grace_s=60.0, recheck_s=5.0)
    closed = _auth(dirlab, store, clock, port=LDAP)  # the firewall rejects anything but the pinned port
    budget = 1.5 + 2.0 + 1.0  # connect + answer timeouts, plus slack

    async def work() -> None:
        ok = await auth.authenticate("aud1", PASSWORD)
        assert ok.reason == "ok"
        dirlab.slapd.pause()  # accepts TCP (the kernel does), never answers: a hung directory
        try:
            started = time.monotonic()
            slow = await auth.authenticate("clin1", PASSWORD)
            assert (slow.reason, slow.ui_error) == ("directory_unavailable", "signin.directory_unavailable")
            assert time.monotonic() - started < budget
            started = time.monotonic()
            local = await auth.authenticate(BREAKGLASS, BREAKGLASS_PW)
            assert (local.reason, local.source) == ("ok", "local") and time.monotonic() - started < 2
            clock.now += 6  # a re-check is due but cannot be made: the grace keeps the session
            assert await auth.still_valid("aud1") == ok.stamp
            clock.now += 60
            assert await auth.still_valid("aud1") is None
        finally:
            dirlab.slapd.resume()
        started = time.monotonic()
        refused = await closed.authenticate("clin1", PASSWORD)
        assert (refused.reason, refused.cause) == ("directory_unavailable", "unreachable")
        assert time.monotonic() - started < budget

    run_in(dirlab.dmz, work)


def test_tls_is_verified_against_the_configured_ca_and_name(dirlab: DirectoryLab, store: Store) -> None:
    other = make_ca(dirlab.work, "other", ["ldap.hospital.example"])
    wrong_ca = _auth(dirlab, store, ca_file=str(other.ca))
    wrong_name = _auth(dirlab, store, server_name="ldap2.hospital.example")
    right = _auth(dirlab, store)

    async def work() -> list[tuple[str, str]]:
        found = []
        for auth in (wrong_ca, wrong_name, right):
            outcome = await auth.authenticate("clin1", PASSWORD)
            found.append((outcome.reason, outcome.cause))
        return found

    assert run_in(dirlab.dmz, work) == [
        ("directory_unavailable", "tls"),
        ("directory_unavailable", "tls"),
        ("ok", ""),
    ]
    # StartTLS (port 389, not an airlock): from the host role, where the LAN is reachable.
    starttls = _auth(dirlab, store, port=LDAP, transport="starttls")
    assert run_in(dirlab.lab.host, lambda: starttls.authenticate("clin1", PASSWORD)).reason == "ok"
    bad = _auth(dirlab, store, port=LDAP, transport="starttls", ca_file=str(other.ca))
    assert run_in(dirlab.lab.host, lambda: bad.authenticate("clin1", PASSWORD)).cause == "tls"


def test_directory_is_reachable_from_the_dmz_only_on_its_pinned_port(dirlab: DirectoryLab) -> None:
    lab, iso = dirlab.lab, dirlab.iso
    # Positive controls: the host role reaches both ports of the real slapd, the dmz its airlock.
    assert [
        r.verdict
        for r in lab.probe(lab.host, [Probe("tcp", DIRECTORY, LDAPS), Probe("tcp", DIRECTORY, LDAP)])
    ] == [
        "reachable",
        "reachable",
    ]
    ((through, moved),) = lab.probe_each(dirlab.dmz, [Probe("tcp", DIRECTORY, LDAPS)])
    assert through.verdict == "reachable" and moved == {}
    ((other_port, moved),) = lab.probe_each(dirlab.dmz, [Probe("tcp", DIRECTORY, LDAP)])
    assert other_port.verdict == "blocked" and moved.get("dmz_link_reject", 0) >= 1
    ((udp, moved),) = lab.probe_each(dirlab.dmz, [Probe("udp", DIRECTORY, LDAPS)])
    assert udp.verdict == "blocked" and moved.get("dmz_link_reject", 0) >= 1
    # Assume breach: the vault gets a default route; the firewall still refuses it, counted.
    vault = iso.links["vault"]
    sh("ip", "-n", vault.netns, "route", "replace", "default", "via", str(vault.host_addr))
    try:
        for port in (LDAPS, LDAP):
            ((result, moved),) = lab.probe_each(vault.netns, [Probe("tcp", DIRECTORY, port)])
            assert result.verdict == "blocked" and moved.get("vault_link_reject", 0) >= 1, (
                port,
                result,
                moved,
            )
    finally:
        sh("ip", "-n", vault.netns, "route", "del", "default", check=False)


def test_cli_checks_the_directory_and_makes_keys_for_directory_users(
    dirlab: DirectoryLab, tmp_path: Path
) -> None:
    settings = dirlab.settings()
    roles = "\n".join(f'{role.value} = ["{groups[0]}"]' for role, groups in settings.roles.items())
    config = tmp_path / "medvault.toml"
    config.write_text(
        f"""
[[isolation.airlocks]]
name = "directory"
address = "{DIRECTORY}"
port = {LDAPS}

[directory]
enabled = true
address = "{DIRECTORY}"
server_name = "{settings.server_name}"
ca_file = "{settings.ca_file}"
bind_dn = "{settings.bind_dn}"
bind_password = "{settings.service_password()}"
user_base = "{settings.user_base}"
user_filter = "{settings.user_filter}"

[directory.roles]
{roles}
"""
    )
    env = {**os.environ, "MEDVAULT_DATA_DIR": str(tmp_path / "data")}

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        # From the host role, as an operator's shell on the server (the LAN is reachable there).
        argv = ["ip", "netns", "exec", dirlab.lab.host, *MEDVAULT, *args, "--config", str(config)]
        return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=60)

    checked = cli("directory", "check", "--user", "CLIN1")
    assert checked.returncode == 0, checked.stderr
    assert "certificate verified" in checked.stdout and "clin1: clinician" in checked.stdout
    unmapped = cli("directory", "check", "--user", "nogroup1")
    assert unmapped.returncode == 1 and "unmapped" in unmapped.stderr
    made = cli("keys", "create", "--directory", "--user", "adm1", "--init")
    assert made.returncode == 0, made.stderr
    mismatch = cli("keys", "create", "--directory", "--user", "clin1", "--role", "admin")
    assert mismatch.returncode == 1 and "role_mismatch" in mismatch.stderr
    assert cli("keys", "create", "--user", "x").returncode == 1  # a local key still needs --role
    keys = json.loads(cli("keys", "list", "--json").stdout)
    assert [(k["user"], k["role"]) for k in keys] == [("adm1", "admin")]
