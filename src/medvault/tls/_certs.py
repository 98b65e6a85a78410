"""The ingress certificate: the hospital's, copied where the gateway can read it, or a self-signed one.

Both live in `data_dir/tls/` (root:<gateway group>, mode 0750; keys 0640), the one directory the gateway
reads them from: the operator's own files may sit where only root can enter (`/etc/ssl/private`), and
the gateway runs as an unprivileged user in its own zone. The supervisor, as root, checks and copies
them at every start; the gateway only ever reads the copies.

Without `tls.cert_file`, a self-signed ECDSA P-256 certificate is generated on the first start and kept
while it is usable: it parses, its key belongs to it, it is valid for at least `RENEW_BEFORE` more, and
its SAN covers every name the ingress is reached by. Otherwise it is replaced (and `up` prints the new
fingerprint): clients that pinned the old one must learn the new one, so that happens as rarely as the
validity allows.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import socket
import stat
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import structlog
from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from medvault.config import Settings
from medvault.errors import ConfigError

log = structlog.get_logger("medvault.tls")

VALID_FOR = timedelta(days=825)  # the longest validity Apple's clients accept for a TLS server certificate
RENEW_BEFORE = timedelta(days=30)
_CLOCK_SKEW = timedelta(minutes=5)  # a client whose clock is a little behind still accepts a fresh one
_SELF_SIGNED = ("self-signed.crt", "self-signed.key")
_CONFIGURED = ("configured.crt", "configured.key")

# ECDSA server keys only sign the handshake; nothing else (no certificate signing: this is no CA).
_SIGNING_ONLY = x509.KeyUsage(
    digital_signature=True,
    content_commitment=False,
    key_encipherment=False,
    data_encipherment=False,
    key_agreement=False,
    key_cert_sign=False,
    crl_sign=False,
    encipher_only=False,
    decipher_only=False,
)


@dataclass(frozen=True)
class ServedCertificate:
    """What the gateway serves on the ingress."""

    cert_file: Path  # the server certificate first, then its intermediates (PEM)
    key_file: Path
    fingerprint: str  # SHA-256 of the server certificate, `AB:CD:…` as browsers and openssl print it
    self_signed: bool


def fingerprint(cert: x509.Certificate) -> str:
    """The SHA-256 fingerprint of `cert` in the colon-separated form browsers and `openssl` show."""
    return ":".join(f"{byte:02X}" for byte in cert.fingerprint(hashes.SHA256()))


def tls_dir(settings: Settings) -> Path:
    """Where the served certificate and key live."""
    return settings.data_dir / "tls"


def served_files(settings: Settings) -> tuple[Path, Path]:
    """The certificate and key files the gateway serves with these settings."""
    names = _SELF_SIGNED if settings.tls.cert_file is None else _CONFIGURED
    return tls_dir(settings) / names[0], tls_dir(settings) / names[1]


def served(settings: Settings) -> ServedCertificate | None:
    """What `prepare` last put in place for these settings; None when there is nothing (yet)."""
    cert_file, key_file = served_files(settings)
    try:
        leaf = x509.load_pem_x509_certificates(cert_file.read_bytes())[0]
    except (OSError, ValueError):
        return None
    return ServedCertificate(cert_file, key_file, fingerprint(leaf), settings.tls.cert_file is None)


def ingress_names(settings: Settings, *, loopback: bool) -> list[str]:
    """The names a self-signed certificate must cover: this host's name, the ingress address (unless it
    is 0.0.0.0), `tls.names`, and 127.0.0.1/localhost when the loopback bridge relays the ingress."""
    # gethostname only: getfqdn would ask DNS, and the supervisor sends nothing the operator did not ask for
    names = [socket.gethostname()]
    address = settings.isolation.ingress.address
    if not address.is_unspecified:
        names.append(str(address))
    if loopback:
        names += ["127.0.0.1", "localhost"]
    names += settings.tls.names
    return list(dict.fromkeys(names))


def prepare(
    settings: Settings, *, loopback: bool, group: int | None, now: datetime | None = None
) -> ServedCertificate:
    """Put the certificate and key the gateway will serve in `data_dir/tls/`, readable by `group`."""
    now = now or datetime.now(UTC)
    cert_file, key_file = served_files(settings)
    if settings.tls.cert_file is not None and settings.tls.key_file is not None:
        chain, key = _configured(settings.tls.cert_file, settings.tls.key_file, now)
        _warn_if_open(settings.tls.key_file)
        directory = _private_dir(tls_dir(settings), group)
        for stale in _SELF_SIGNED:  # a key no longer served does not stay readable by the gateway group
            (directory / stale).unlink(missing_ok=True)
        _write(cert_file, b"".join(c.public_bytes(serialization.Encoding.PEM) for c in chain), 0o644, group)
        _write(key_file, _key_pem(key), _key_mode(group), group)
        return ServedCertificate(cert_file, key_file, fingerprint(chain[0]), self_signed=False)
    directory = _private_dir(tls_dir(settings), group)
    for stale in _CONFIGURED:  # a hospital key that is no longer configured does not stay behind
        (directory / stale).unlink(missing_ok=True)
    names = ingress_names(settings, loopback=loopback)
    leaf = _reusable(cert_file, key_file, names, now)
    if leaf is None:
        key = ec.generate_private_key(ec.SECP256R1())
        leaf = self_signed(key, names, now)
        _write(key_file, _key_pem(key), _key_mode(group), group)
        _write(cert_file, leaf.public_bytes(serialization.Encoding.PEM), 0o644, group)
    else:  # the group may have changed (another dmz user) since it was written
        for path, mode in ((key_file, _key_mode(group)), (cert_file, 0o644)):
            _own(path, mode, group)
    return ServedCertificate(cert_file, key_file, fingerprint(leaf), self_signed=True)


def self_signed(key: ec.EllipticCurvePrivateKey, names: Sequence[str], now: datetime) -> x509.Certificate:
    """A self-signed server certificate for `names` (DNS names or IP addresses), valid `VALID_FOR`."""
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "MedVault"),
            x509.NameAttribute(NameOID.COMMON_NAME, names[0][:64]),
        ]
    )
    public = key.public_key()
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - _CLOCK_SKEW)
        .not_valid_after(now + VALID_FOR)
        .add_extension(x509.SubjectAlternativeName([_general_name(n) for n in names]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_SIGNING_ONLY, critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(public), critical=False)
        .sign(key, hashes.SHA256())
    )


# -- checks ---------------------------------------------------------------------------------------


def _configured(
    cert_path: Path, key_path: Path, now: datetime
) -> tuple[list[x509.Certificate], PrivateKeyTypes]:
    """The hospital's chain and key, or a `ConfigError` naming the key, the problem and the fix."""
    try:
        chain = x509.load_pem_x509_certificates(_read(cert_path, "tls.cert_file"))
    except ValueError as exc:
        raise ConfigError(
            f"tls.cert_file: {cert_path} holds no PEM certificate ({exc}); "
            "fix: point it at the PEM file with the server certificate first, then its intermediates"
        ) from exc
    try:
        key = serialization.load_pem_private_key(_read(key_path, "tls.key_file"), password=None)
    except TypeError as exc:
        raise ConfigError(
            f"tls.key_file: {key_path} is encrypted; fix: store it decrypted, readable by root only "
            "(`openssl pkey -in ENCRYPTED.key -out PLAIN.key`)"
        ) from exc
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise ConfigError(
            f"tls.key_file: {key_path} holds no PEM private key ({exc}); fix: point it at the PEM key file"
        ) from exc
    leaf = chain[0]
    if not _belongs(key, leaf):
        raise ConfigError(
            f"tls.key_file: {key_path} is not the key of the first certificate in {cert_path}; "
            "fix: give the matching pair (the server certificate must come first in tls.cert_file)"
        )
    if not leaf.not_valid_before_utc <= now < leaf.not_valid_after_utc:
        raise ConfigError(
            f"tls.cert_file: {cert_path} is valid from {leaf.not_valid_before_utc:%Y-%m-%d} to "
            f"{leaf.not_valid_after_utc:%Y-%m-%d}, not now; fix: install a current certificate"
        )
    return chain, key


def _warn_if_open(key_path: Path) -> None:
    """Warn when the hospital's own key file is readable by others: MedVault serves a copy, but the
    original is the operator's to protect."""
    mode = stat.S_IMODE(key_path.stat().st_mode)
    if mode & 0o007:
        log.warning(
            "tls_key_readable_by_others",
            key_file=str(key_path),
            mode=oct(mode),
            fix="chmod o-rwx the key file (root-only, 0600, is best)",
        )


def _read(path: Path, key: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ConfigError(
            f"{key}: cannot read {path} ({exc.strerror}); fix: give the path of an existing PEM file"
        ) from exc


def _belongs(key: PrivateKeyTypes, cert: x509.Certificate) -> bool:
    spki = serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    return bool(key.public_key().public_bytes(*spki) == cert.public_key().public_bytes(*spki))


def _reusable(
    cert_file: Path, key_file: Path, names: Sequence[str], now: datetime
) -> x509.Certificate | None:
    """The existing self-signed certificate when it may stay, else None."""
    try:
        leaf = x509.load_pem_x509_certificates(cert_file.read_bytes())[0]
        key = serialization.load_pem_private_key(key_file.read_bytes(), password=None)
        covered = set(leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value)
    except (OSError, ValueError, TypeError, UnsupportedAlgorithm, x509.ExtensionNotFound):
        return None
    fresh = leaf.not_valid_before_utc <= now + _CLOCK_SKEW and now + RENEW_BEFORE < leaf.not_valid_after_utc
    wanted = {_general_name(name) for name in names}
    return leaf if fresh and _belongs(key, leaf) and wanted <= covered else None


def _general_name(name: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(name))
    except ValueError:
        return x509.DNSName(name.lower())


# -- files ----------------------------------------------------------------------------------------


def _key_pem(key: PrivateKeyTypes) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _private_dir(path: Path, group: int | None) -> Path:
    """`path` as a directory of ours (root's), group-readable by `group` only.

    The data directory is writable by the gateway's group (its SQLite files): a compromised gateway could
    have planted `tls` there as a link or a directory of its own, so anything not made by us is refused.
    """
    with contextlib.suppress(FileExistsError):
        path.mkdir(mode=0o700)
    info = os.lstat(path)
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.geteuid():
        raise ConfigError(
            f"tls: {path} is not a directory owned by uid {os.geteuid()}; fix: remove it (MedVault "
            "recreates it), and find out who made it"
        )
    _own(path, 0o750 if group is not None else 0o700, group)
    return path


def _key_mode(group: int | None) -> int:
    return 0o640 if group is not None else 0o600


def _own(path: Path, mode: int, group: int | None) -> None:
    if group is not None:
        os.chown(path, os.geteuid(), group, follow_symlinks=False)
    path.chmod(mode)


def _write(path: Path, data: bytes, mode: int, group: int | None) -> None:
    """Replace `path` atomically with `data`, owned by us and `group`, with `mode`."""
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.unlink(missing_ok=True)
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())
    _own(temporary, mode, group)
    os.replace(temporary, path)
