"""The gateway's TLS context (TLS 1.2+ only) and the probes' pinned client context."""

from __future__ import annotations

import socket
import ssl
import threading
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

from medvault import tls
from medvault.config import load_settings

SERVER_ERRORS = (ssl.SSLError, OSError)


class TlsServer:
    """A one-thread TLS server on loopback with `server_context`: it completes each handshake and closes."""

    def __init__(self, cert_file: Path, key_file: Path) -> None:
        self.context = tls.server_context(cert_file, key_file)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return  # closed
            try:
                with self.context.wrap_socket(conn, server_side=True) as wrapped:
                    wrapped.sendall(b"hello")
            except SERVER_ERRORS:
                conn.close()  # the refused client sees the alert; the server goes on

    def handshake(self, client: ssl.SSLContext, server_hostname: str | None = None) -> str:
        """The TLS version a client with `client` negotiates (raises ssl.SSLError when refused)."""
        with (
            socket.create_connection(("127.0.0.1", self.port), timeout=5) as raw,
            client.wrap_socket(raw, server_hostname=server_hostname) as wrapped,
        ):
            assert wrapped.recv(5) == b"hello"
            return str(wrapped.version())

    def close(self) -> None:
        self._listener.close()


def _served(directory: Path) -> tls.ServedCertificate:
    directory.mkdir()
    settings = load_settings(None, data_dir=directory)
    return tls.prepare(settings, loopback=True, group=None)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[TlsServer, tls.ServedCertificate]]:
    """A TLS server with a fresh self-signed certificate."""
    served = _served(tmp_path / "a")
    running = TlsServer(served.cert_file, served.key_file)
    yield running, served
    running.close()


def _old_client(maximum: ssl.TLSVersion) -> ssl.SSLContext:
    """A client that offers TLS 1.1 (and up to `maximum`), with every old cipher allowed on its side."""
    client = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    client.check_hostname = False
    client.verify_mode = ssl.CERT_NONE
    client.set_ciphers("DEFAULT:@SECLEVEL=0")  # so that only the server can be the one refusing
    with warnings.catch_warnings():  # the very point: a deprecated protocol version
        warnings.simplefilter("ignore", DeprecationWarning)
        client.minimum_version = ssl.TLSVersion.TLSv1_1
    client.maximum_version = maximum
    return client


def test_server_context_sets_tls_1_2_as_the_minimum(server: tuple[TlsServer, tls.ServedCertificate]) -> None:
    """The minimum is set on the context itself, not left to the system's OpenSSL configuration."""
    running, _ = server
    assert running.context.minimum_version is ssl.TLSVersion.TLSv1_2


def test_a_tls_1_1_client_is_refused(server: tuple[TlsServer, tls.ServedCertificate]) -> None:
    """A client limited to TLS 1.1 gets a protocol-version alert; the same client allowed 1.2 gets in."""
    running, _ = server
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        with pytest.raises(ssl.SSLError, match="PROTOCOL_VERSION"):
            running.handshake(_old_client(ssl.TLSVersion.TLSv1_1))
    assert running.handshake(_old_client(ssl.TLSVersion.TLSv1_2)) == "TLSv1.2"


def test_pinned_client_accepts_only_the_pinned_certificate(
    tmp_path: Path, server: tuple[TlsServer, tls.ServedCertificate]
) -> None:
    """The pinned context trusts the served certificate (any address) and refuses another one."""
    running, served = server
    other = _served(tmp_path / "b")
    assert running.handshake(tls.pinned_context(served.cert_file)).startswith("TLSv1.")
    with pytest.raises(ssl.SSLCertVerificationError):
        running.handshake(tls.pinned_context(other.cert_file))


def test_a_client_trusting_the_self_signed_file_verifies_the_address(
    server: tuple[TlsServer, tls.ServedCertificate],
) -> None:
    """`curl --cacert <the file>` works: a default client trusting only that file verifies 127.0.0.1."""
    running, served = server
    client = ssl.create_default_context(cafile=str(served.cert_file))
    assert running.handshake(client, server_hostname="127.0.0.1") == "TLSv1.3"
    with pytest.raises(ssl.SSLCertVerificationError):
        running.handshake(client, server_hostname="192.0.2.7")
