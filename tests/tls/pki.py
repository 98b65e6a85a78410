"""A throwaway hospital PKI for the TLS tests: a CA, server certificates it issues, files to configure."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def key_pem(key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey, password: bytes | None = None) -> bytes:
    """The key as PKCS#8 PEM, encrypted with `password` when one is given."""
    encryption = serialization.BestAvailableEncryption(password) if password else serialization.NoEncryption()
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)


@dataclass
class Issued:
    """A server certificate, its key and the CA that signed it."""

    cert: x509.Certificate
    key: rsa.RSAPrivateKey
    ca: x509.Certificate

    def write(self, directory: Path) -> tuple[Path, Path, Path]:
        """Write chain (server certificate, then CA), key and CA as PEM files; return their paths."""
        pem = serialization.Encoding.PEM
        chain, key, ca = directory / "server-chain.pem", directory / "server.key", directory / "ca.pem"
        chain.write_bytes(self.cert.public_bytes(pem) + self.ca.public_bytes(pem))
        key.write_bytes(key_pem(self.key))
        key.chmod(0o600)
        ca.write_bytes(self.ca.public_bytes(pem))
        return chain, key, ca


class HospitalCA:
    """A certificate authority made for one test."""

    def __init__(self) -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.now(UTC)
        self.cert = (
            x509.CertificateBuilder()
            .subject_name(_name("Test Hospital CA"))
            .issuer_name(_name("Test Hospital CA"))
            .public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(self.key.public_key()), critical=False)
            .sign(self.key, hashes.SHA256())
        )

    def issue(self, address: str, *, days: int = 30, expired: bool = False) -> Issued:
        """An RSA server certificate for the IP `address` (valid `days`, or already expired)."""
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        now = datetime.now(UTC)
        start, end = (now - timedelta(days=10), now - timedelta(days=1)) if expired else (now, now)
        cert = (
            x509.CertificateBuilder()
            .subject_name(_name(address))
            .issuer_name(self.cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(start - timedelta(minutes=5))
            .not_valid_after(end + timedelta(days=0 if expired else days))
            .add_extension(
                x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(address))]), critical=False
            )
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()), critical=False
            )
            .sign(self.key, hashes.SHA256())
        )
        return Issued(cert, key, self.cert)
