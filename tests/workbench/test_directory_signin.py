"""Directory (LDAP) sign-in through the workbench's form: `medvault.directory.Authenticator` wired in.

The directory client itself is tested against a real slapd in tests/directory; here: the form, its
messages and statuses, the audit record (reason and cause, never the typed name or password), and that
a directory that is down never keeps the local break-glass admin out. One end-to-end test signs in
through a real slapd (root, CI).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from medvault.store import Role
from tests.conftest import require, require_root
from tests.directory.slapd import (
    ADMINS,
    AUDITORS,
    CLINICIANS,
    PEOPLE,
    SERVER_NAME,
    SERVICE_DN,
    SERVICE_PW,
    USER_FILTER,
    Slapd,
    make_ca,
)
from tests.directory.slapd import PASSWORD as DIRECTORY_PW
from tests.gateway.conftest import Engine
from tests.workbench.conftest import PASSWORD, Bench, login_token, make_bench

BREAKGLASS = "mv-breakglass"
# Development mode: without isolation the directory needs no airlock (tests/directory covers that path).
NO_ISOLATION = {"enabled": False}
TYPED_PW = "Typed-Directory-Password-31"


def _directory(ca_file: Path, address: str, port: int, **changes: Any) -> dict[str, Any]:
    return {
        "enabled": True, "address": address, "port": port, "server_name": SERVER_NAME,
        "ca_file": str(ca_file), "bind_dn": SERVICE_DN, "bind_password": SERVICE_PW,
        "user_base": PEOPLE.split(",", 1)[1], "user_filter": USER_FILTER,
        "roles": {"clinician": [CLINICIANS], "admin": [ADMINS], "auditor": [AUDITORS]},
        "connect_timeout_s": 1.0, "timeout_s": 1, **changes,
    }  # fmt: skip


def _sign_in(bench: Bench, username: str, password: str) -> tuple[Any, float]:
    client = bench.browser()
    token = login_token(client)
    started = time.monotonic()
    response = client.post(
        "/workbench/signin?lang=en", data={"username": username, "password": password, "csrf_token": token}
    )
    return response, time.monotonic() - started


@pytest.fixture
def silent_directory() -> Iterator[int]:
    """A loopback port that accepts TCP connections and never says a word (a hung directory)."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        yield int(listener.getsockname()[1])


def test_directory_disabled_signs_in_local_users_only(bench: Bench) -> None:
    """The default: no directory. Local users sign in as before; any other name is a wrong password
    (401, `credentials`), never "directory unavailable"."""
    assert not bench.settings.directory.enabled
    ok, _ = _sign_in(bench, "alice", PASSWORD)
    unknown, _ = _sign_in(bench, "dr-unknown", TYPED_PW)
    assert ok.status_code == 303 and ok.headers["location"] == "/workbench"
    assert unknown.status_code == 401 and "Wrong username or password." in unknown.text
    [failed] = [e for e in bench.audit() if e["action"] == "auth.failed"]
    assert failed["detail"] == {"reason": "credentials"} and failed["user"] is None


def test_a_hung_directory_answers_in_its_budget_and_the_local_admin_still_signs_in(
    tmp_path: Path, fake_engine: Engine, silent_directory: int
) -> None:
    """A directory that accepts and then says nothing: a directory user gets 503 and the clear message
    within connect + answer timeouts; the local break-glass admin signs in at once meanwhile; the audit
    records reason and cause, never what was typed."""
    certs = make_ca(tmp_path, "hospital", [SERVER_NAME])
    directory = _directory(certs.ca, "127.0.0.1", silent_directory)
    with make_bench(tmp_path / "gw", fake_engine, directory=directory, isolation=NO_ISOLATION) as bench:
        bench.store.create_user(BREAKGLASS, PASSWORD, Role.ADMIN)
        budget = bench.settings.directory.connect_timeout_s + bench.settings.directory.timeout_s
        down, waited = _sign_in(bench, "clin1", TYPED_PW)
        local, local_s = _sign_in(bench, BREAKGLASS, PASSWORD)
        events = bench.audit()
        database = (tmp_path / "gw").glob("*.db*")
        stored = b"".join(path.read_bytes() for path in database)
    assert down.status_code == 503 and waited < budget + 1.5, waited
    assert (
        "The hospital directory cannot be reached" in down.text and "local accounts still work" in down.text
    )
    assert local.status_code == 303 and local.headers["location"] == "/workbench/admin" and local_s < 2.0
    [failed] = [e for e in events if e["action"] == "auth.failed"]
    assert failed["status"] == 503 and failed["user"] is None
    # The TLS handshake is what stalls: the client names it `tls` (or `timeout` if the deadline hits first).
    assert failed["detail"]["reason"] == "directory_unavailable" and len(failed["detail"]) == 2
    assert failed["detail"]["cause"] in ("tls", "timeout")
    # Neither the typed password nor the typed name is stored (the throttle keeps a digest of the name).
    assert TYPED_PW.encode() not in stored and b"clin1" not in stored
    assert BREAKGLASS.encode() in stored  # positive control: the file is the one holding the users


def test_a_refused_connection_is_reported_at_once(tmp_path: Path, fake_engine: Engine) -> None:
    """Nothing listens on the directory's port: the message comes at once (cause `unreachable`)."""
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    certs = make_ca(tmp_path, "hospital", [SERVER_NAME])
    with make_bench(
        tmp_path / "gw",
        fake_engine,
        directory=_directory(certs.ca, "127.0.0.1", port),
        isolation=NO_ISOLATION,
    ) as bench:
        down, waited = _sign_in(bench, "clin1", TYPED_PW)
        [failed] = [e for e in bench.audit() if e["action"] == "auth.failed"]
    assert down.status_code == 503 and waited < 1.5
    assert failed["detail"] == {"reason": "directory_unavailable", "cause": "unreachable"}


# -- end to end against a real slapd (root: slapd runs in a network namespace of this test) ------------

SLAPD_ADDRESS = "198.51.100.21"


@pytest.fixture(scope="module")
def slapd() -> Iterator[tuple[Slapd, str]]:
    """A real slapd on an address in a network namespace of its own (only its loopback device: nothing
    in the root namespace changes); the gateway's worker threads enter that namespace to reach it."""
    require_root()
    require(all(shutil.which(t) for t in ("ip", "slapd", "ldapadd")), "needs iproute2, slapd, ldap-utils")
    netns = f"mvwb-{os.urandom(3).hex()}"
    work = Path(tempfile.mkdtemp(prefix=f"{netns}-", dir="/tmp"))
    subprocess.run(["ip", "netns", "add", netns], check=True)
    server = Slapd(work, make_ca(work, "hospital", [SERVER_NAME]))
    try:
        subprocess.run(["ip", "-n", netns, "link", "set", "lo", "up"], check=True)
        subprocess.run(["ip", "-n", netns, "addr", "add", f"{SLAPD_ADDRESS}/32", "dev", "lo"], check=True)
        server.start(netns, SLAPD_ADDRESS)
        yield server, netns
    finally:
        server.stop()
        subprocess.run(["ip", "netns", "delete", netns], check=False)


def test_directory_users_sign_in_through_the_form_against_a_real_slapd(
    slapd: tuple[Slapd, str], tmp_path: Path, fake_engine: Engine
) -> None:
    """clin1 (nested group) lands on the workbench and runs a template, aud1 on the admin pages; a user
    in no mapped group is told the account is not enabled (403); a wrong password is a wrong password."""
    from tests.directory.conftest import enter_netns

    server, netns = slapd
    directory = _directory(server.certs.ca, SLAPD_ADDRESS, 636, timeout_s=3)
    # The server loop's worker threads (where the LDAP sockets are opened) live in slapd's namespace;
    # the store's file and the loop's own sockets (HTTP, the fake engine) stay where they are.
    executor = ThreadPoolExecutor(4, initializer=enter_netns, initargs=(netns,))
    with make_bench(
        tmp_path, fake_engine, on_loop=lambda loop: loop.set_default_executor(executor),
        directory=directory, isolation=NO_ISOLATION,
    ) as bench:  # fmt: skip
        try:
            clinician, _ = _sign_in(bench, "clin1", DIRECTORY_PW)
            auditor, _ = _sign_in(bench, "aud1", DIRECTORY_PW)
            unmapped, _ = _sign_in(bench, "nogroup1", DIRECTORY_PW)
            wrong, _ = _sign_in(bench, "clin1", DIRECTORY_PW + "x")
            client, csrf = bench.sign_in("clin1", DIRECTORY_PW)
            body = {"template_id": "report-correction", "lang": "de", "inputs": {"report": "Lunge frei."}}
            ran = client.post("/api/v1/runs", json=body, headers={"x-csrf-token": csrf})
            events = bench.audit()
        finally:
            executor.shutdown(wait=False)
    assert clinician.status_code == 303 and clinician.headers["location"] == "/workbench"
    assert auditor.status_code == 303 and auditor.headers["location"] == "/workbench/admin"
    assert unmapped.status_code == 403 and "Your account is not enabled for MedVault" in unmapped.text
    assert wrong.status_code == 401 and "Wrong username or password." in wrong.text
    assert ran.status_code == 200 and '"user":"clin1"' in ran.text.replace(" ", "")
    reasons = [e["detail"]["reason"] for e in events if e["action"] == "auth.failed"]
    assert reasons == ["unmapped", "credentials"]
    logins = [e["user"] for e in events if e["action"] == "auth.login" and e["status"] == 303]
    assert logins == ["clin1", "aud1", "clin1"]
