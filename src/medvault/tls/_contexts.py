"""The two TLS contexts MedVault builds: the gateway's server side, and a client that pins one certificate.

The server accepts TLS 1.2 and 1.3 only. `minimum_version` is set here rather than left to the system's
OpenSSL configuration, which the operator (or a distribution update) may loosen.

The pinned client is for MedVault's own probes of its gateway (the supervisor's readiness check,
`medvault status`): it trusts exactly the server certificate `prepare` put in place, as its only trust
anchor, so it needs neither the hospital's CA nor a host name that matches the zone address it connects
to, and nothing else verifies.

The same opener makes the supervisor's readiness probe of every engine, from the dmz zone: it follows
no redirect, so an engine (which a compromised model server controls) cannot point the probe at a host
the dmz reaches and have that host's 200 count as "ready"; a 3xx is an `HTTPError`, a failed probe.
"""

from __future__ import annotations

import ssl
import urllib.request
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization

MINIMUM_VERSION = ssl.TLSVersion.TLSv1_2


def server_context(cert_file: Path, key_file: Path) -> ssl.SSLContext:
    """The gateway's TLS context: this certificate chain and key, TLS 1.2 or newer."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = MINIMUM_VERSION
    context.load_cert_chain(cert_file, key_file)
    context.set_alpn_protocols(["http/1.1"])  # uvicorn speaks HTTP/1.1 only
    return context


def pinned_context(cert_file: Path) -> ssl.SSLContext:
    """A client context that accepts only the server certificate first in `cert_file`."""
    leaf = x509.load_pem_x509_certificates(cert_file.read_bytes())[0]
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.minimum_version = MINIMUM_VERSION
    context.check_hostname = False  # the pin is the certificate itself; the address may be a zone's
    context.load_verify_locations(cadata=leaf.public_bytes(serialization.Encoding.PEM).decode())
    # The leaf alone is the trust anchor: without this flag OpenSSL would look for the hospital's root.
    context.verify_flags |= ssl.VERIFY_X509_PARTIAL_CHAIN
    return context


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """Follow no redirect: urllib then raises the 3xx as an `HTTPError`."""

    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


def direct_opener(pin: Path | None = None) -> urllib.request.OpenerDirector:
    """A urllib opener that ignores proxy settings (a probe of our own gateway must never go through one),
    follows no redirect and, given `pin`, accepts for https only the server certificate first in that
    file."""
    handlers: list[urllib.request.BaseHandler] = [urllib.request.ProxyHandler({}), _NoRedirects()]
    if pin is not None:
        handlers.append(urllib.request.HTTPSHandler(context=pinned_context(pin)))
    return urllib.request.build_opener(*handlers)
