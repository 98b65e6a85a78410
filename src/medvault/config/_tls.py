"""The ingress's TLS certificate."""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path

from pydantic import Field, field_validator, model_validator

from medvault.config._base import _Frozen

_DNS_LABEL = r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_DNS_NAME = re.compile(rf"^(?=.{{1,253}}$){_DNS_LABEL}(\.{_DNS_LABEL})*$")


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


class TlsSettings(_Frozen):
    """The ingress certificate: the hospital's (both files) or, with neither, a self-signed one.

    The files are read (and checked) by `medvault up` as root, not here: the gateway loads these settings
    too, as a user that may not even see them.
    """

    cert_file: Path | None = Field(
        default=None, description="PEM: the server certificate first, then its intermediates"
    )
    key_file: Path | None = Field(default=None, description="PEM: the certificate's private key, unencrypted")
    names: list[str] = Field(
        default_factory=list,
        description="extra DNS names or IP addresses for the self-signed certificate's SAN",
    )

    @field_validator("names")
    @classmethod
    def _names(cls, names: list[str]) -> list[str]:
        for name in names:
            if not _is_ip(name) and not _DNS_NAME.match(name):
                raise ValueError(f"{name!r} is neither a DNS name nor an IP address")
        return names

    @model_validator(mode="after")
    def _both_or_neither(self) -> TlsSettings:
        if (self.cert_file is None) != (self.key_file is None):
            raise ValueError(
                "set both `tls.cert_file` and `tls.key_file`, or neither "
                "(then a self-signed certificate is generated in data_dir/tls)"
            )
        if self.cert_file is not None and self.names:
            raise ValueError(
                "`tls.names` only shapes the self-signed certificate; with `tls.cert_file` set, drop it"
            )
        return self
