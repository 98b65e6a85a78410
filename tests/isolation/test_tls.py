"""TLS on the ingress with the hospital's certificate: a LAN client in the lab gets HTTPS, verifies the
chain to the hospital's CA, sees HSTS and Secure cookies; plain HTTP and TLS 1.1 fail."""

from __future__ import annotations

import http.client
import re
import ssl
import subprocess
import urllib.parse
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization

from medvault.config import load_settings
from medvault.tls import served_files
from tests.isolation.conftest import LAN_HOST, MEDVAULT, Lab, Up, launch
from tests.isolation.test_service import REMOTE_ENGINE
from tests.isolation.tls_client import Answer, https, plain_http
from tests.tls.pki import HospitalCA, Issued

pytestmark = [pytest.mark.root, pytest.mark.slow]

PASSWORD = "correct horse battery staple 42"


@dataclass
class Hospital:
    """`medvault up` serving the hospital's certificate, and what a LAN client needs to trust it."""

    run: Up
    issued: Issued
    ca_file: Path
    lan: str
    port: int

    def get(self, path: str, context: ssl.SSLContext | None = None, **request: Any) -> Answer:
        """An HTTPS request from the LAN; by default trusting the hospital's CA only."""
        trusting = context or ssl.create_default_context(cafile=str(self.ca_file))
        return https(self.lan, LAN_HOST, self.port, trusting, path, **request)


@pytest.fixture(scope="module")
def hospital(lab: Lab, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hospital]:
    """`medvault up` with a certificate from a throwaway hospital CA, kept where only root can read it."""
    private = tmp_path_factory.mktemp("ssl-private")
    private.chmod(0o700)
    issued = HospitalCA().issue(LAN_HOST)
    chain, key, ca_file = issued.write(private)
    config = private / "medvault.toml"
    config.write_text(lab.toml() + REMOTE_ENGINE + f'\n[tls]\ncert_file = "{chain}"\nkey_file = "{key}"\n')
    run = launch(lab, config, private / "up.log")
    try:
        run.wait_ready(f"https://127.0.0.1:{lab.policy.ingress.port}/healthz", timeout_s=90)
        yield Hospital(run, issued, ca_file, lab.lan, lab.policy.ingress.port)
    finally:
        if run.process.poll() is None:
            run.process.terminate()
            run.process.wait(timeout=60)
        run.cli("isolation", "reset", "--yes")


def test_lan_client_gets_the_hospitals_certificate_over_https(hospital: Hospital) -> None:
    """From the LAN, the ingress answers over TLS 1.2+ with the configured certificate, whose chain and
    address the client verifies against the hospital's CA, and every answer carries HSTS."""
    answer = hospital.get("/healthz")
    assert answer.status == 200 and answer.version in ("TLSv1.2", "TLSv1.3")
    assert answer.peer_cert == hospital.issued.cert.public_bytes(serialization.Encoding.DER)
    assert answer.headers["strict-transport-security"] == "max-age=31536000"
    refused = hospital.get("/v1/models")  # an error answer is an HTTPS answer too
    assert refused.status == 401 and refused.headers["strict-transport-security"] == "max-age=31536000"


def test_a_client_without_the_hospitals_ca_refuses_the_certificate(hospital: Hospital) -> None:
    """A client that trusts only the system's CAs rejects the ingress (the chain is the hospital's own)."""
    with pytest.raises(ssl.SSLCertVerificationError):
        hospital.get("/healthz", ssl.create_default_context())


def test_plain_http_on_the_ingress_fails(hospital: Hospital) -> None:
    """Plain HTTP to the ingress gets no answer, while the same path over HTTPS answers 200."""
    with pytest.raises((http.client.HTTPException, ConnectionError)):
        plain_http(hospital.lan, LAN_HOST, hospital.port, "/healthz")
    assert hospital.get("/healthz").status == 200


def _client(maximum: ssl.TLSVersion) -> ssl.SSLContext:
    client = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    client.check_hostname = False
    client.verify_mode = ssl.CERT_NONE
    client.set_ciphers("DEFAULT:@SECLEVEL=0")  # the client offers everything: only the server can refuse
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        client.minimum_version = ssl.TLSVersion.TLSv1_1
    client.maximum_version = maximum
    return client


def test_tls_1_1_is_refused_on_the_ingress(hospital: Hospital) -> None:
    """A TLS 1.1 client's handshake is refused by the gateway; allowed TLS 1.2, the same client gets in."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        # uvloop closes the connection without flushing OpenSSL's protocol-version alert: the client sees
        # either the alert or the close, never a completed handshake.
        with pytest.raises(ssl.SSLError, match=r"PROTOCOL_VERSION|UNEXPECTED_EOF"):
            hospital.get("/healthz", _client(ssl.TLSVersion.TLSv1_1))
    assert hospital.get("/healthz", _client(ssl.TLSVersion.TLSv1_2)).version == "TLSv1.2"


def test_the_workbench_sign_in_cookies_are_secure(hospital: Hospital) -> None:
    """Signing in to the workbench from the LAN sets the form and session cookies with `Secure`."""
    run = hospital.run
    argv = [*MEDVAULT, "users", "create", "nurse", "--role", "clinician", "--password-stdin"]
    created = subprocess.run(
        [*argv, "--config", str(run.config)],
        env=run.env,
        input=PASSWORD + "\n",
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert created.returncode == 0, created.stdout + created.stderr
    form = hospital.get("/workbench/signin")
    form_cookie = form.cookies()["mv_login_csrf"]
    assert form_cookie["secure"] is True
    match = re.search(rb'name="csrf_token" value="([^"]+)"', form.body)
    assert match is not None, form.body[:500]
    body = urllib.parse.urlencode(
        {"csrf_token": match.group(1).decode(), "username": "nurse", "password": PASSWORD}
    )
    signed_in = hospital.get(
        "/workbench/signin",
        method="POST",
        body=body,
        headers={
            "content-type": "application/x-www-form-urlencoded",
            "cookie": f"mv_login_csrf={form_cookie.value}",
        },
    )
    assert signed_in.status == 303, signed_in.body[:500]
    session = signed_in.cookies()["mv_session"]
    assert session.value and session["secure"] is True and session["httponly"] is True


def test_the_gateway_reads_a_copy_of_the_hospitals_key(hospital: Hospital, lab: Lab) -> None:
    """The gateway is given the copy in data_dir/tls (root and the gateway's group, key 0640), because the
    operator's key file stays readable by root only."""
    settings = load_settings(hospital.run.config, data_dir=lab.data_dir)
    _, key = served_files(settings)
    info = key.stat()
    assert (info.st_uid, info.st_gid) == (0, int(lab.policy.dmz_user.split(":")[1]))
    assert info.st_mode & 0o777 == 0o640
    assert key.read_bytes() == settings.tls.key_file.read_bytes()  # type: ignore[union-attr]
