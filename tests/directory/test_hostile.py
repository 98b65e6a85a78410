"""A directory that misbehaves on purpose (loopback, no root): one that dribbles bytes for ever, one that
refuses StartTLS, and names that try to pass for a local user."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from medvault.directory import Authenticator, DirectoryClient, DirectorySettings, DirectoryUnavailable
from medvault.store import Role, Store
from medvault.store._directory_users import admit_directory_user, find_user
from tests.directory.slapd import make_ca

CANARY_PW = "Canary-Password-4711"
Behaviour = Callable[["HostileServer", socket.socket], None]
SERVER_NAME = "ldap.hospital.example"


class HostileServer:
    """A TCP server on loopback that runs `behave(self, connection)` for each client, and records what
    the clients sent."""

    def __init__(self, behave: Behaviour) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self.listener.getsockname()[1])
        self.received = bytearray()
        self.stop = threading.Event()
        self._behave = behave
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        self.listener.settimeout(0.2)
        while not self.stop.is_set():
            try:
                conn, _ = self.listener.accept()
            except TimeoutError:
                continue
            with conn:
                conn.settimeout(0.2)
                with contextlib.suppress(OSError):
                    self._behave(self, conn)
                    while not self.stop.is_set():  # keep what the client sends after the scripted part
                        with contextlib.suppress(TimeoutError):
                            data = conn.recv(4096)
                            if not data:
                                break
                            self.received += data

    def read_message(self, conn: socket.socket) -> bytes:
        """One LDAP message (short or long BER length), also recorded."""
        data = b""
        while len(data) < 2 or len(data) < _ber_size(data):
            with contextlib.suppress(TimeoutError):
                chunk = conn.recv(4096)
                if not chunk:
                    raise OSError("client closed")
                data += chunk
        self.received += data
        return data

    def close(self) -> None:
        self.stop.set()
        self._thread.join(timeout=5)
        self.listener.close()


def _ber_size(data: bytes) -> int:
    if data[1] < 0x80:
        return 2 + data[1]
    count = data[1] & 0x7F
    return 2 + count + int.from_bytes(data[2 : 2 + count], "big") if len(data) >= 2 + count else 1 << 30


@contextlib.contextmanager
def hostile(behave: Behaviour) -> Iterator[HostileServer]:
    server = HostileServer(behave)
    try:
        yield server
    finally:
        server.close()


def _settings(tmp_path: Path, port: int, **changes: object) -> DirectorySettings:
    values: dict[str, object] = {
        "enabled": True, "address": "127.0.0.1", "port": port, "server_name": SERVER_NAME,
        "ca_file": str(make_ca(tmp_path, "h", [SERVER_NAME]).ca), "bind_dn": "cn=svc,dc=hospital,dc=example",
        "bind_password": CANARY_PW, "user_base": "ou=people,dc=hospital,dc=example",
        "roles": {"clinician": ["cn=clinicians,ou=groups,dc=hospital,dc=example"]},
        "connect_timeout_s": 1.0, "timeout_s": 1,
    }  # fmt: skip
    return DirectorySettings.model_validate({**values, **changes})


def _outcome_within(seconds: float, call: Callable[[], object]) -> tuple[BaseException | None, float]:
    """Run `call` in a thread; its exception and how long it ran, or (None, inf) while it still runs."""
    found: list[BaseException | None] = []

    def run() -> None:
        try:
            call()
            found.append(None)
        except BaseException as exc:  # handed to the test to look at
            found.append(exc)

    started = time.monotonic()
    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(seconds)
    return (found[0], time.monotonic() - started) if found else (None, float("inf"))


def _silent(server: HostileServer, conn: socket.socket) -> None:
    """Accept, say nothing."""


def _dribble(server: HostileServer, conn: socket.socket) -> None:
    """Answer the first request (StartTLS) with an LDAP message announcing 1 MiB, then send one byte every
    0.3 s: every read gets its answer in time, the message never ends."""
    server.read_message(conn)
    conn.sendall(b"\x30\x83\x10\x00\x00")
    while not server.stop.wait(0.3):
        conn.sendall(b"\x00")


def test_a_directory_dribbling_bytes_cannot_hold_the_thread(tmp_path: Path) -> None:
    with hostile(_dribble) as server:
        client = DirectoryClient(_settings(tmp_path, server.port, transport="starttls"))
        budget = client.settings.budget_s
        error, took = _outcome_within(budget + 3, lambda: client.sign_in("anna", CANARY_PW))
        # Without the whole-operation deadline the thread would still be reading, one byte at a time.
        assert took < budget + 1.5, "the sign-in thread was still held by the directory"
        assert isinstance(error, DirectoryUnavailable) and error.cause == "timeout"
        assert len(server.received) > 0  # control: the client did talk to this server


def _refuse_starttls(server: HostileServer, conn: socket.socket) -> None:
    """Answer the first request (StartTLS) with "unavailable", as a downgrading man in the middle would."""
    request = server.read_message(conn)
    message_id = request[2 : 4 + request[3]]  # the request's INTEGER, tag and length included
    # ExtendedResponse [APPLICATION 24]: resultCode unavailable (52), empty matchedDN and message.
    op = b"\x78\x07\x0a\x01\x34\x04\x00\x04\x00"
    conn.sendall(b"\x30" + bytes([len(message_id) + len(op)]) + message_id + op)


def test_a_refused_starttls_fails_closed_before_any_password_is_sent(tmp_path: Path) -> None:
    with hostile(_refuse_starttls) as server:
        client = DirectoryClient(_settings(tmp_path, server.port, transport="starttls"))
        error, _ = _outcome_within(10, lambda: client.sign_in("anna", "Users-Own-Password-1"))
        assert isinstance(error, DirectoryUnavailable) and error.cause == "tls"
        time.sleep(0.3)  # whatever the client would send next has arrived
        assert b"1.3.6.1.4.1.1466.20037" in server.received  # control: StartTLS was asked for
        assert CANARY_PW.encode() not in server.received and b"Users-Own-Password-1" not in server.received


def test_an_empty_service_password_is_never_sent(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="needs bind_password or bind_password_file"):
        _settings(tmp_path, 636, bind_password="")
    empty = tmp_path / "bind-password"
    empty.write_text(" \n")  # a file emptied by mistake: still no anonymous bind
    with hostile(_silent) as server:
        client = DirectoryClient(
            _settings(tmp_path, server.port, bind_password=None, bind_password_file=empty)
        )
        with pytest.raises(DirectoryUnavailable) as caught:
            client.check()
        assert caught.value.cause == "service_bind" and "empty" in str(caught.value)
        time.sleep(0.3)
        assert server.received == b""  # refused before a connection was even opened


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_names_differing_in_case_or_look_alike_stay_with_the_local_user(tmp_path: Path) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 'm.db'}")
    store.migrate()
    store.create_user("admin", "Local-Admin-Password-9", Role.ADMIN)
    # The directory vouching for "Admin" must not create a second, directory "admin".
    assert admit_directory_user(store, "Admin", Role.CLINICIAN, "uuid-9") == "name_taken"
    assert admit_directory_user(store, "anna", Role.CLINICIAN, "uuid-1") is None
    assert admit_directory_user(store, "ANNA", Role.CLINICIAN, "uuid-2") == "identity_changed"
    assert find_user(store, "Admin") is None and find_user(store, "ANNA") is None
    auth = Authenticator(store, _settings(tmp_path, _closed_port()))

    async def work() -> None:
        # Decided locally (where only the exact name matches), never handed to the directory.
        for name in ("ADMIN", "Admin", "ａｄｍｉｎ"):
            outcome = await auth.authenticate(name, "Local-Admin-Password-9")
            assert (outcome.reason, outcome.source) == ("credentials", "local"), name
        control = await auth.authenticate("admin", "Local-Admin-Password-9")
        assert (control.reason, control.source) == ("ok", "local")
        other = await auth.authenticate("bob", "whatever-password-1")  # control: others do go there
        assert (other.reason, other.source) == ("directory_unavailable", "ldap")

    asyncio.run(work())
    store.close()
