"""A real OpenLDAP `slapd` for the tests: its own config, data directory, CA and server certificate.

The directory (dc=hospital,dc=example) has the `memberof` overlay and a nested group: clin1 is in
`ward-3`, which is in `medvault-clinicians`. Changes go through the `ldapi://` socket as the rootdn, so
the test never needs a route to the server to administer it.
"""

from __future__ import annotations

import contextlib
import datetime
import shutil
import signal
import subprocess
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

SUFFIX = "dc=hospital,dc=example"
ROOT_DN, ROOT_PW = f"cn=root,{SUFFIX}", "root-secret-pw"
SERVICE_DN, SERVICE_PW = f"cn=medvault-svc,ou=service,{SUFFIX}", "service-secret-pw"
# A service account the server gives at most one entry per search (as a server-side size limit would).
CAPPED_DN = f"cn=medvault-capped,ou=service,{SUFFIX}"
PEOPLE, GROUPS = f"ou=people,{SUFFIX}", f"ou=groups,{SUFFIX}"
SERVER_NAME = "ldap.hospital.example"
PASSWORD = "Correct-Horse-Battery-9"  # every test user's password
CLINICIANS, ADMINS, AUDITORS = (f"cn=medvault-{r},{GROUPS}" for r in ("clinicians", "admins", "auditors"))
USER_FILTER = "(&(objectClass=inetOrgPerson)(!(employeeType=disabled)))"


def user_dn(uid: str) -> str:
    return f"uid={uid},{PEOPLE}"


def _person(uid: str, *, extra_uids: tuple[str, ...] = (), ou: str = PEOPLE) -> str:
    uids = "".join(f"uid: {u}\n" for u in (uid, *extra_uids))
    return (
        f"dn: uid={uid},{ou}\nobjectClass: inetOrgPerson\n{uids}cn: {uid}\nsn: {uid}\n"
        f"userPassword: {PASSWORD}\n\n"
    )


def _group(cn: str, members: list[str]) -> str:
    lines = "".join(f"member: {m}\n" for m in members)
    return f"dn: cn={cn},{GROUPS}\nobjectClass: groupOfNames\ncn: {cn}\n{lines}\n"


def directory_ldif() -> str:
    """The test directory: one user per case the tests name."""
    return (
        f"dn: {SUFFIX}\nobjectClass: dcObject\nobjectClass: organization\ndc: hospital\no: Hospital\n\n"
        f"dn: ou=people,{SUFFIX}\nobjectClass: organizationalUnit\nou: people\n\n"
        f"dn: ou=people2,{SUFFIX}\nobjectClass: organizationalUnit\nou: people2\n\n"
        f"dn: ou=groups,{SUFFIX}\nobjectClass: organizationalUnit\nou: groups\n\n"
        f"dn: ou=service,{SUFFIX}\nobjectClass: organizationalUnit\nou: service\n\n"
        f"dn: {SERVICE_DN}\nobjectClass: applicationProcess\nobjectClass: simpleSecurityObject\n"
        f"cn: medvault-svc\nuserPassword: {SERVICE_PW}\n\n"
        f"dn: {CAPPED_DN}\nobjectClass: applicationProcess\nobjectClass: simpleSecurityObject\n"
        f"cn: medvault-capped\nuserPassword: {SERVICE_PW}\n\n"
        + "".join(
            _person(u) for u in ("clin1", "adm1", "aud1", "nogroup1", "both1", "dis1", "gone1", "mallory1")
        )
        + _person("multi1", extra_uids=("multi1b",))
        + _person("twin1")
        + _person("twin1", ou=f"ou=people2,{SUFFIX}")
        + _group("ward-3", [user_dn("clin1"), user_dn("dis1"), user_dn("gone1"), user_dn("both1")])
        + _group("medvault-clinicians", [f"cn=ward-3,{GROUPS}", user_dn("multi1"), user_dn("twin1")])
        + _group("medvault-admins", [user_dn("adm1"), user_dn("both1")])
        + _group("medvault-auditors", [user_dn("aud1")])
        + _group("other", [user_dn("nogroup1")])
        # Directly under the suffix, with a two-part name that reads like the admins group's DN.
        + f"dn: cn=medvault-admins+ou=groups,{SUFFIX}\nobjectClass: groupOfNames\n"
        f"objectClass: extensibleObject\ncn: medvault-admins\nou: groups\nmember: {user_dn('mallory1')}\n\n"
    )


def _conf(work: Path, certs: Certs) -> str:
    return f"""
include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
include /etc/ldap/schema/nis.schema
modulepath /usr/lib/ldap
moduleload back_mdb
moduleload memberof
pidfile {work}/slapd.pid
TLSCACertificateFile {certs.ca}
TLSCertificateFile {certs.cert}
TLSCertificateKeyFile {certs.key}
database mdb
maxsize 16777216
suffix "{SUFFIX}"
rootdn "{ROOT_DN}"
rootpw {ROOT_PW}
directory {work}/db
overlay memberof
memberof-group-oc groupOfNames
memberof-member-ad member
memberof-memberof-ad memberOf
memberof-refint TRUE
limits dn.exact="{CAPPED_DN}" size=1
access to attrs=userPassword by anonymous auth by * none
access to * by dn.exact="{SERVICE_DN}" read by dn.exact="{CAPPED_DN}" read by * none
"""


_CA_USAGE = x509.KeyUsage(
    digital_signature=False, content_commitment=False, key_encipherment=False, data_encipherment=False,
    key_agreement=False, key_cert_sign=True, crl_sign=True, encipher_only=False, decipher_only=False,
)  # fmt: skip


@dataclass(frozen=True)
class Certs:
    ca: Path
    cert: Path
    key: Path


def make_ca(work: Path, name: str, server_names: list[str]) -> Certs:
    """A CA and a server certificate it signs for `server_names` (files under `work`)."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"{name} test CA")])
    ca = (
        x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_CA_USAGE, critical=True)
        .sign(ca_key, hashes.SHA256())
    )  # fmt: skip
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, server_names[0])]))
        .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1)).not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in server_names]), critical=False)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )  # fmt: skip
    files = Certs(work / f"{name}-ca.pem", work / f"{name}-server.pem", work / f"{name}-server.key")
    files.ca.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    files.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    files.key.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return files


@dataclass
class Slapd:
    """One running slapd; `ldap(...)` runs ldapmodify/ldapdelete/ldapadd against it as the rootdn."""

    work: Path
    certs: Certs
    process: subprocess.Popen[bytes] | None = None
    socket: Path = field(init=False)

    def __post_init__(self) -> None:
        self.socket = self.work / "ldapi.sock"

    @property
    def ldapi(self) -> str:
        return "ldapi://" + urllib.parse.quote(str(self.socket), safe="")

    def start(self, netns: str, address: str) -> None:
        (self.work / "db").mkdir(exist_ok=True)
        conf = self.work / "slapd.conf"
        conf.write_text(_conf(self.work, self.certs))
        urls = f"ldaps://{address}:636/ ldap://{address}:389/ {self.ldapi}"
        argv = ["ip", "netns", "exec", netns, "slapd", "-d", "0", "-f", str(conf), "-h", urls]
        log = (self.work / "slapd.log").open("wb")
        self.process = subprocess.Popen(argv, stdout=log, stderr=log)
        deadline = time.monotonic() + 15
        while not self.socket.exists() or not self._answers():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("slapd did not start: " + (self.work / "slapd.log").read_text()[-2000:])
            time.sleep(0.1)
        self.ldap("ldapadd", directory_ldif())

    def _answers(self) -> bool:
        argv = ["ldapsearch", "-x", "-H", self.ldapi, "-D", ROOT_DN, "-w", ROOT_PW, "-s", "base", "-b", ""]
        return subprocess.run(argv, capture_output=True, timeout=5).returncode == 0

    def ldap(self, tool: str, ldif: str) -> None:
        """Apply `ldif` with `tool` (ldapadd, ldapmodify, ldapdelete) as the rootdn."""
        argv = [tool, "-x", "-H", self.ldapi, "-D", ROOT_DN, "-w", ROOT_PW]
        done = subprocess.run(argv, input=ldif.encode(), capture_output=True, timeout=10)
        assert done.returncode == 0, done.stderr.decode()

    def pause(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGCONT)

    def stop(self) -> None:
        if self.process is not None:
            with contextlib.suppress(ProcessLookupError):
                self.process.send_signal(signal.SIGCONT)
                self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        shutil.rmtree(self.work, ignore_errors=True)
