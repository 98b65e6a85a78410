"""The ingress certificate: self-signed generation and reuse, the hospital's files checked and copied."""

from __future__ import annotations

import os
import socket
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from structlog.testing import capture_logs

from medvault import tls
from medvault.config import Settings, load_settings
from medvault.errors import ConfigError
from tests.conftest import require_root
from tests.tls.pki import HospitalCA, key_pem

INGRESS = "198.51.100.1"
GROUP = 64123  # a numeric gid, as the lab's dmz user: no group is added to the machine


def _settings(data_dir: Path, **tls_keys: Any) -> Settings:
    data_dir.mkdir(exist_ok=True)  # as the supervisor makes it before anything else
    return load_settings(None, data_dir=data_dir, isolation={"ingress": {"address": INGRESS}}, tls=tls_keys)


def _leaf(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificates(path.read_bytes())[0]


def _san(cert: x509.Certificate) -> list[str]:
    names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    return [str(name.value) for name in names]


def test_self_signed_certificate_covers_the_ingress(tmp_path: Path) -> None:
    """Without configured files, a P-256 server certificate for the ingress address and host name is made."""
    served = tls.prepare(_settings(tmp_path, names=["medvault.klinik.example"]), loopback=False, group=None)
    cert = _leaf(served.cert_file)
    assert served.self_signed and served.cert_file.parent == tmp_path / "tls"
    public = cert.public_key()
    assert isinstance(public, ec.EllipticCurvePublicKey) and public.curve.name == "secp256r1"
    assert _san(cert) == [socket.gethostname(), INGRESS, "medvault.klinik.example"]
    assert cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is False
    lifetime = cert.not_valid_after_utc - cert.not_valid_before_utc
    assert timedelta(days=825) <= lifetime < timedelta(days=826)
    assert served.fingerprint == tls.fingerprint(cert) and len(served.fingerprint) == 95


def test_the_loopback_bridge_adds_localhost(tmp_path: Path) -> None:
    """When the loopback bridge relays the ingress, 127.0.0.1 and localhost are in the SAN too."""
    served = tls.prepare(_settings(tmp_path), loopback=True, group=None)
    assert {"127.0.0.1", "localhost"} <= set(_san(_leaf(served.cert_file)))


def test_any_address_ingress_names_only_the_host(tmp_path: Path) -> None:
    """An ingress on 0.0.0.0 has no address to certify: the host name (and `tls.names`) remain."""
    settings = load_settings(None, data_dir=tmp_path)
    assert tls.ingress_names(settings, loopback=False) == [socket.gethostname()]


def test_files_are_readable_by_the_gateway_group_only(tmp_path: Path) -> None:
    """The directory is 0750 and the key 0640, both owned by root and the gateway's group."""
    served = tls.prepare(_settings(tmp_path), loopback=False, group=GROUP)
    modes = {p.name: os.stat(p) for p in (tmp_path / "tls", served.key_file, served.cert_file)}
    assert {name: stat.S_IMODE(s.st_mode) for name, s in modes.items()} == {
        "tls": 0o750, "self-signed.key": 0o640, "self-signed.crt": 0o644,
    }  # fmt: skip
    assert {(s.st_uid, s.st_gid) for s in modes.values()} == {(os.geteuid(), GROUP)}


def test_without_a_group_the_key_is_private(tmp_path: Path) -> None:
    """Without a gateway group (no isolation), the key is 0600 in a 0700 directory."""
    served = tls.prepare(_settings(tmp_path), loopback=False, group=None)
    assert stat.S_IMODE(os.stat(served.key_file).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(tmp_path / "tls").st_mode) == 0o700


def test_a_usable_certificate_is_kept(tmp_path: Path) -> None:
    """A second start keeps the certificate (clients that trust it keep working), and `served` reports it."""
    settings = _settings(tmp_path)
    assert tls.served(settings) is None
    first = tls.prepare(settings, loopback=False, group=None)
    again = tls.prepare(settings, loopback=False, group=None, now=datetime.now(UTC) + timedelta(days=700))
    assert again == first == tls.served(settings)


@pytest.mark.parametrize(
    "change",
    ["expiring", "new_name", "foreign_key", "garbage"],
)
def test_an_unusable_certificate_is_replaced(tmp_path: Path, change: str) -> None:
    """Close to expiry, missing a name the ingress needs, with a key not its own, or unreadable: replaced."""
    settings = _settings(tmp_path)
    first = tls.prepare(settings, loopback=False, group=None)
    now = datetime.now(UTC)
    if change == "expiring":
        now += timedelta(days=800)
    elif change == "new_name":
        settings = _settings(tmp_path, names=["medvault.klinik.example"])
    elif change == "foreign_key":
        first.key_file.write_bytes(key_pem(ec.generate_private_key(ec.SECP256R1())))
    else:
        first.cert_file.write_text("not a certificate")
    again = tls.prepare(settings, loopback=False, group=None, now=now)
    assert again.fingerprint != first.fingerprint
    assert tls.served(settings) == again


def test_the_hospitals_certificate_is_copied_for_the_gateway(tmp_path: Path) -> None:
    """Configured files are checked and copied (chain and key) into data_dir/tls for the gateway."""
    issued = HospitalCA().issue(INGRESS)
    private = tmp_path / "etc-ssl-private"
    private.mkdir(mode=0o700)
    chain, key, _ = issued.write(private)
    settings = _settings(tmp_path / "data", cert_file=chain, key_file=key)
    served = tls.prepare(settings, loopback=False, group=GROUP)
    assert not served.self_signed and served.fingerprint == tls.fingerprint(issued.cert)
    assert served.cert_file.read_bytes() == chain.read_bytes()
    assert served.key_file.read_bytes() == key.read_bytes()
    assert stat.S_IMODE(os.stat(served.key_file).st_mode) == 0o640
    assert tls.served(settings) == served


def test_an_unconfigured_hospital_key_does_not_stay(tmp_path: Path) -> None:
    """When the hospital's files are no longer configured, their copies are removed at the next start."""
    chain, key, _ = HospitalCA().issue(INGRESS).write(tmp_path)
    configured = tls.prepare(
        _settings(tmp_path / "data", cert_file=chain, key_file=key), loopback=False, group=None
    )
    tls.prepare(_settings(tmp_path / "data"), loopback=False, group=None)
    assert not configured.key_file.exists() and not configured.cert_file.exists()


def test_a_configured_certificate_removes_the_self_signed_pair(tmp_path: Path) -> None:
    """Switching from self-signed to the hospital's certificate deletes the self-signed key and
    certificate, which the gateway group could otherwise still read."""
    generated = tls.prepare(_settings(tmp_path / "data"), loopback=False, group=GROUP)
    assert generated.key_file.exists()  # positive control: the pair was there
    chain, key, _ = HospitalCA().issue(INGRESS).write(tmp_path)
    tls.prepare(_settings(tmp_path / "data", cert_file=chain, key_file=key), loopback=False, group=GROUP)
    assert not generated.key_file.exists() and not generated.cert_file.exists()


@pytest.mark.parametrize(("mode", "warned"), [(0o600, False), (0o640, False), (0o644, True), (0o606, True)])
def test_a_hospital_key_readable_by_others_is_warned_about(tmp_path: Path, mode: int, warned: bool) -> None:
    """The start warns (naming the file and the fix) when the hospital's key file is readable by others."""
    chain, key, _ = HospitalCA().issue(INGRESS).write(tmp_path)
    key.chmod(mode)
    with capture_logs() as logs:
        tls.prepare(_settings(tmp_path / "data", cert_file=chain, key_file=key), loopback=False, group=None)
    found = [e for e in logs if e["event"] == "tls_key_readable_by_others"]
    assert bool(found) is warned
    assert all(e["key_file"] == str(key) and e["log_level"] == "warning" for e in found)


def _broken(tmp_path: Path, problem: str) -> tuple[Path, Path]:
    chain, key, _ = HospitalCA().issue(INGRESS, expired=problem == "expired").write(tmp_path)
    if problem == "mismatch":
        key.write_bytes(key_pem(ec.generate_private_key(ec.SECP256R1())))
    elif problem == "encrypted":
        key.write_bytes(key_pem(ec.generate_private_key(ec.SECP256R1()), password=b"secret"))
    elif problem == "not_pem_cert":
        chain.write_text("-----BEGIN NOTHING-----\n")
    elif problem == "not_pem_key":
        key.write_text("nothing\n")
    elif problem == "missing":
        key.unlink()
    return chain, key


@pytest.mark.parametrize(
    ("problem", "key", "words"),
    [
        ("expired", "tls.cert_file", "not now"),
        ("mismatch", "tls.key_file", "is not the key"),
        ("encrypted", "tls.key_file", "encrypted"),
        ("not_pem_cert", "tls.cert_file", "no PEM certificate"),
        ("not_pem_key", "tls.key_file", "no PEM private key"),
        ("missing", "tls.key_file", "cannot read"),
    ],
)
def test_a_bad_hospital_certificate_stops_the_start(
    tmp_path: Path, problem: str, key: str, words: str
) -> None:
    """Expired, mismatched, encrypted, unreadable or missing files stop the start with the key, the
    problem and the fix."""
    chain, key_file = _broken(tmp_path, problem)
    settings = _settings(tmp_path / "data", cert_file=chain, key_file=key_file)
    with pytest.raises(ConfigError) as raised:
        tls.prepare(settings, loopback=False, group=None)
    message = str(raised.value)
    assert message.startswith(f"{key}:") and words in message and "fix:" in message


@pytest.mark.parametrize("planted", ["symlink", "foreign_dir"])
def test_a_planted_tls_directory_is_refused(tmp_path: Path, planted: str) -> None:
    """A `tls` entry the gateway's user could have planted in the data directory is never written into."""
    target = tmp_path / "elsewhere"
    target.mkdir()
    data = tmp_path / "data"
    data.mkdir()
    if planted == "symlink":
        (data / "tls").symlink_to(target)
    else:
        require_root()
        (data / "tls").mkdir()
        os.chown(data / "tls", 64123, 64123)
    with pytest.raises(ConfigError, match="not a directory owned by"):
        tls.prepare(_settings(data), loopback=False, group=None)
    assert list(target.iterdir()) == []
