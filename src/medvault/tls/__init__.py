"""TLS on the ingress: the served certificate (the hospital's or a self-signed one), the gateway's and
the probes' TLS contexts, and HSTS. Used by the supervisor, the CLI and the gateway's `serve` command;
it depends on `config` and `errors` only."""

from medvault.tls._certs import (
    ServedCertificate,
    fingerprint,
    ingress_names,
    prepare,
    self_signed,
    served,
    served_files,
    tls_dir,
)
from medvault.tls._contexts import MINIMUM_VERSION, direct_opener, pinned_context, server_context
from medvault.tls._hsts import StrictTransportSecurity

__all__ = [
    "MINIMUM_VERSION",
    "ServedCertificate",
    "StrictTransportSecurity",
    "direct_opener",
    "fingerprint",
    "ingress_names",
    "pinned_context",
    "prepare",
    "self_signed",
    "served",
    "served_files",
    "server_context",
    "tls_dir",
]
