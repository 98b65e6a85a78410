"""The LDAP conversation, synchronous (run it in a thread): ldap3 over LDAPS or StartTLS.

Every operation opens its own connections and closes them: sign-ins are rare, re-checks are cached, and
a connection kept open would be one more thing to go stale behind the airlock. The service account
finds the user and their groups; the user's password goes only into a bind to the DN that search
returned, on a connection of its own. Whatever the user typed reaches a filter only through
`escape_filter_chars`.
"""

from __future__ import annotations

import contextlib
import re
import socket
import ssl
import threading
import time
import uuid
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from medvault.directory._ldap import (
    BASE,
    NONE,
    SIMPLE,
    SUBTREE,
    SYNC,
    Connection,
    LDAPException,
    Server,
    Tls,
    escape_filter_chars,
)
from medvault.directory._settings import DirectorySettings, normal_dn
from medvault.errors import MedVaultError
from medvault.store import Role

# What a store username may be (the same rule as local users): a directory name outside it is refused.
USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,127}$")
MAX_INPUT = 256  # longer "usernames" are never sent to the directory
_IN_CHAIN = "1.2.840.113556.1.4.1941"  # LDAP_MATCHING_RULE_IN_CHAIN (Active Directory)
_MAX_GROUPS = 1000  # a walk that finds more is a loop or a misconfiguration, not a person
_SIZE_LIMIT_EXCEEDED = 4


class DirectoryUnavailable(MedVaultError):
    """The directory could not be asked (down, slow, TLS or service-account failure); `cause` is a
    stable code, the message says what the operator should look at."""

    def __init__(self, cause: str, message: str) -> None:
        super().__init__(message)
        self.cause = cause


class Refused(Exception):
    """The directory answered, and the answer is no; `reason` is a stable code for the audit trail."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class DirectoryUser:
    """A directory entry that may sign in, with the role its groups give."""

    username: str  # the entry's login attribute, as the directory spells it
    dn: str
    external_id: str  # entryUUID / objectGUID: stays the same when the entry is renamed or moved
    role: Role


def usable_input(username: str, password: str) -> bool:
    """Whether the typed pair may be sent at all: never an empty password (an LDAP bind with an empty
    password is an anonymous bind, which "succeeds"), never control characters or NUL."""
    printable = all(ch.isprintable() for ch in username)
    return (
        bool(username)
        and bool(password)
        and len(username) <= MAX_INPUT
        and printable
        and "\0" not in password
    )


class _Watchdog:
    """Shuts a connection's socket down at the operation's deadline.

    ldap3's timeouts bound each read, not the conversation: a directory (or something posing as it) that
    dribbles one byte per read would hold the calling thread for ever, and `asyncio.wait_for` only stops
    waiting for that thread, it does not free it. Enough such threads would starve the event loop's
    executor, which the store's calls share.
    """

    def __init__(self, conn: Connection, deadline: float) -> None:
        self.fired = False
        self._conn = conn
        self._timer = threading.Timer(max(0.0, deadline - time.monotonic()), self._cut)
        self._timer.daemon = True
        self._timer.start()

    def _cut(self) -> None:
        self.fired = True
        sock = self._conn.socket
        if sock is not None:
            # The plain socket's shutdown, also for a TLS socket mid-handshake: its blocked read returns.
            with contextlib.suppress(OSError):  # already closed: nothing left to cut
                socket.socket.shutdown(sock, socket.SHUT_RDWR)

    def cancel(self) -> None:
        self._timer.cancel()


class VerifiedTls(Tls):
    """ldap3's TLS, but wrapped by Python's own verifying context: the hospital's CA only, TLS 1.2 or
    newer, and the certificate must name `server_name` (checked in the handshake by `ssl`).

    ldap3 checks the name itself after the handshake with `ssl.match_hostname`, which Python deprecated
    (and removed in 3.12); `ssl`'s own check is the maintained one, and it also sends the name as SNI.
    """

    def __init__(self, ca_file: Path, server_name: str) -> None:
        super().__init__(validate=ssl.CERT_REQUIRED)  # the context below does the verifying
        self.context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=str(ca_file))
        self.context.minimum_version = ssl.TLSVersion.TLSv1_2
        self.server_name = server_name

    def wrap_socket(self, connection: Connection, do_handshake: bool = False) -> None:
        # Handshake after the assignment, so that `_Watchdog` can reach the socket it runs on.
        connection.socket = self.context.wrap_socket(
            connection.socket, server_hostname=self.server_name, do_handshake_on_connect=False
        )
        if do_handshake:
            connection.socket.do_handshake()


class DirectoryClient:
    """Asks the configured directory; raises `DirectoryUnavailable` or `Refused`."""

    def __init__(self, settings: DirectorySettings) -> None:
        self.settings = settings
        self._roles = settings.role_of_group()

    def sign_in(self, username: str, password: str) -> DirectoryUser:
        """The user behind `username` if `password` is theirs and a mapped group gives them a role."""
        if not usable_input(username, password):
            raise Refused("credentials")
        deadline = self._deadline()
        with self._service(deadline) as service:
            dn, name, external_id, direct = self._find(service, username)
            with self._connection(deadline) as own:
                if not self._bind(own, dn, password):
                    raise Refused("credentials")
            return DirectoryUser(name, dn, external_id, self._role(service, dn, direct))

    def look_up(self, username: str) -> DirectoryUser:
        """The user as the directory sees them now (the session re-check: no password)."""
        with self._service(self._deadline()) as service:
            dn, name, external_id, direct = self._find(service, username)
            return DirectoryUser(name, dn, external_id, self._role(service, dn, direct))

    def check(self) -> None:
        """Prove the setup end to end: TLS verified, the service account bound, `user_base` found."""
        with self._service(self._deadline()) as service:
            if not _search(service, self.settings.user_base, "(objectClass=*)", BASE, ["1.1"], 1):
                raise DirectoryUnavailable(
                    "search", f"directory.user_base {self.settings.user_base!r} not found"
                )

    # -- connections -------------------------------------------------------------------------------

    def _deadline(self) -> float:
        """When a whole operation (all its connections) must be over: `DirectorySettings.budget_s` on."""
        return time.monotonic() + self.settings.budget_s

    def _server(self) -> Server:
        s = self.settings
        assert s.ca_file is not None and s.server_name is not None
        tls = VerifiedTls(s.ca_file, s.server_name)
        return Server(
            str(s.address), port=s.port, use_ssl=s.transport == "ldaps", tls=tls, get_info=NONE,
            connect_timeout=s.connect_timeout_s,
        )  # fmt: skip

    @contextmanager
    def _connection(self, deadline: float) -> Iterator[Connection]:
        """An open connection, TLS verified, not yet bound, cut at `deadline`; LDAP errors become
        `DirectoryUnavailable`."""
        try:
            server = self._server()
        except (ssl.SSLError, OSError) as exc:
            raise DirectoryUnavailable(
                "tls", f"cannot load directory.ca_file {self.settings.ca_file}: {exc}"
            ) from None
        conn = Connection(
            server, authentication=SIMPLE, client_strategy=SYNC, read_only=True,
            receive_timeout=self.settings.timeout_s, raise_exceptions=False, auto_referrals=False,
        )  # fmt: skip
        watchdog = _Watchdog(conn, deadline)
        try:
            conn.open()
            # Fail closed: never a bind on a connection that StartTLS did not turn into TLS.
            if self.settings.transport == "starttls" and not (conn.start_tls() and conn.tls_started):
                raise DirectoryUnavailable("tls", "the directory refused StartTLS")
            yield conn
        except (LDAPException, OSError) as exc:
            if watchdog.fired:
                raise DirectoryUnavailable("timeout", "the directory did not answer in time") from None
            raise _unavailable(exc) from None
        finally:
            watchdog.cancel()
            with contextlib.suppress(LDAPException, OSError):  # closing a broken connection: nothing to do
                conn.unbind()

    @staticmethod
    def _bind(conn: Connection, dn: str, password: str) -> bool:
        conn.user, conn.password = dn, password
        return bool(conn.bind())

    @contextmanager
    def _service(self, deadline: float) -> Iterator[Connection]:
        password = self.settings.service_password()
        if not password:  # an empty password would make this an anonymous bind (refused by ldap3 anyway)
            raise DirectoryUnavailable("service_bind", "the service account's password is empty")
        with self._connection(deadline) as conn:
            if not self._bind(conn, self.settings.bind_dn, password):
                raise DirectoryUnavailable(
                    "service_bind",
                    f"the directory refused the service account ({conn.result.get('description')}); "
                    "check directory.bind_dn and its password",
                )
            yield conn

    # -- users and groups --------------------------------------------------------------------------

    def _find(self, conn: Connection, username: str) -> tuple[str, str, str, list[str]]:
        """(dn, login name, external id, direct groups) of the one entry `username` names."""
        s = self.settings
        query = f"(&{s.user_filter}({s.login_attribute}={escape_filter_chars(username)}))"
        attributes = [s.login_attribute, s.id_attribute, "memberOf"]
        entries = _search(conn, s.user_base, query, SUBTREE, attributes, 2)
        # "Size limit exceeded" means more entries exist than came back, even one (a server-side limit).
        if len(entries) > 1 or conn.result.get("result") == _SIZE_LIMIT_EXCEEDED:
            raise Refused("duplicate_entry")
        if not entries:
            raise Refused("credentials")
        entry = entries[0]
        names = _values(entry, s.login_attribute)
        ids = _values(entry, s.id_attribute)
        if len(names) != 1 or len(ids) != 1 or not names[0] or not ids[0]:
            raise Refused("attribute_count")  # empty or several values: which one would be the user?
        name = names[0].decode("utf-8", "replace")
        if not USERNAME.match(name):
            raise Refused("unusable_name")
        groups = [v.decode("utf-8", "replace") for v in _values(entry, "memberOf")]
        return str(entry["dn"]), name, _external_id(s.id_attribute, ids[0]), groups

    def _role(self, conn: Connection, dn: str, direct: list[str]) -> Role:
        groups = (
            self._in_chain(conn, dn)
            if self.settings.nested_groups == "in_chain"
            else self._walk(conn, direct)
        )
        roles = {self._roles[g] for g in groups if g in self._roles}
        if not roles:
            raise Refused("unmapped")
        if len(roles) > 1:
            raise Refused("ambiguous_role")  # never pick the stronger (or the weaker) role by accident
        return roles.pop()

    def _walk(self, conn: Connection, direct: list[str]) -> set[str]:
        """The user's groups and, level by level, the groups those are in (memberOf on each group)."""
        seen: set[str] = set()
        level = deque((normal_dn(g), g) for g in direct)
        for _ in range(self.settings.max_group_depth):
            upper: deque[tuple[str, str]] = deque()
            for key, group in level:
                if key in seen:
                    continue
                seen.add(key)
                if len(seen) > _MAX_GROUPS:
                    raise Refused("too_many_groups")
                for entry in _search(conn, group, "(objectClass=*)", BASE, ["memberOf"], 1):
                    names = [v.decode("utf-8", "replace") for v in _values(entry, "memberOf")]
                    upper.extend((normal_dn(name), name) for name in names)
            level = upper
            if not level:
                break
        return seen

    def _in_chain(self, conn: Connection, dn: str) -> set[str]:
        """Every group `dn` is in, nested ones included, in one Active Directory query."""
        query = f"(member:{_IN_CHAIN}:={escape_filter_chars(dn)})"
        entries = _search(conn, self.settings.group_base, query, SUBTREE, ["1.1"], _MAX_GROUPS)
        return {normal_dn(str(e["dn"])) for e in entries}


def _search(
    conn: Connection, base: str, query: str, scope: str, attributes: list[str], limit: int
) -> list[dict[str, Any]]:
    """The entries found (referrals ignored); an absent base is no entry, other failures raise."""
    # The server's own time limit too, so that it stops working on a search we no longer wait for.
    conn.search(
        base, query, search_scope=scope, attributes=attributes, size_limit=limit,
        time_limit=conn.receive_timeout or 0,
    )  # fmt: skip
    code = conn.result.get("result", 0)
    if code not in (0, _SIZE_LIMIT_EXCEEDED, 32):  # success, more than we asked for, no such object
        raise DirectoryUnavailable(
            "search", f"the directory refused a search: {conn.result.get('description')}"
        )
    return [e for e in conn.response or [] if e.get("type") == "searchResEntry"]


def _values(entry: dict[str, Any], attribute: str) -> list[bytes]:
    raw = {k.lower(): v for k, v in entry.get("raw_attributes", {}).items()}
    return list(raw.get(attribute.lower(), []))


def _external_id(attribute: str, raw: bytes) -> str:
    if attribute.lower() == "objectguid" and len(raw) == 16:
        return str(uuid.UUID(bytes_le=raw))
    return raw.decode("utf-8", "replace")


def _unavailable(exc: LDAPException) -> DirectoryUnavailable:
    """Name the cause for the operator (timeouts, refused connections, certificate problems)."""
    text = str(exc).lower()
    if "certificate" in text or "ssl" in text or "tls" in text or "hostname" in text:
        return DirectoryUnavailable(
            "tls", "the directory's TLS certificate did not verify against directory.ca_file and server_name"
        )
    if "timed out" in text or "timeout" in text:
        return DirectoryUnavailable("timeout", "the directory did not answer in time")
    return DirectoryUnavailable("unreachable", f"cannot reach the directory ({type(exc).__name__})")
