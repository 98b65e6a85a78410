"""HTTPS requests from the lab's `lan` namespace, as a clinician's browser on the hospital LAN makes them."""

from __future__ import annotations

import http.client
import ssl
from dataclasses import dataclass
from http.cookies import SimpleCookie

from medvault.isolation import _sys


@dataclass
class Answer:
    """What the LAN client saw."""

    status: int
    headers: http.client.HTTPMessage
    body: bytes
    peer_cert: bytes  # DER of the server certificate the gateway presented
    version: str

    def cookies(self) -> SimpleCookie:
        jar: SimpleCookie = SimpleCookie()
        for value in self.headers.get_all("set-cookie") or []:
            jar.load(value)
        return jar


def https(
    netns: str,
    address: str,
    port: int,
    context: ssl.SSLContext,
    path: str,
    *,
    method: str = "GET",
    body: str | None = None,
    headers: dict[str, str] | None = None,
) -> Answer:
    """One HTTPS request to `address:port` made from inside `netns` (the host name checked is `address`)."""

    def request() -> Answer:
        connection = http.client.HTTPSConnection(address, port, context=context, timeout=5)
        try:
            connection.request(method, path, body=body, headers=headers or {})
            response = connection.getresponse()
            assert connection.sock is not None
            der = connection.sock.getpeercert(binary_form=True) or b""
            version = connection.sock.version() or ""
            return Answer(response.status, response.headers, response.read(), der, version)
        finally:
            connection.close()

    return _sys.call_in(netns, request)


def plain_http(netns: str, address: str, port: int, path: str) -> int:
    """A plain-HTTP GET from inside `netns`; its status code, or an exception when the server refuses."""

    def request() -> int:
        connection = http.client.HTTPConnection(address, port, timeout=5)
        try:
            connection.request("GET", path)
            return connection.getresponse().status
        finally:
            connection.close()

    return _sys.call_in(netns, request)
