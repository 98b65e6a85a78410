"""When the workbench marks its cookies `Secure`.

    workbench.secure_cookies = "auto"   (default) Secure when this request reached us over https
                             = true     always (the browser then sends them over https only)
                             = false    never (plain-http demo on a trusted LAN segment)

"Over https" is the request's own scheme. With isolation on, the gateway terminates TLS itself (see
`medvault.tls`): every request over the ingress, through the DNAT or the loopback bridge, is https, so
`auto` gives `Secure` cookies there without any proxy header. uvicorn trusts no proxy header at all
(`proxy_headers=False`: the gateway terminates TLS itself, and a forged `x-forwarded-for` must not move
the sign-in throttle); only with `workbench.trust_forwarded_proto = true` does `x-forwarded-proto` count,
from any client: set it only when the gateway is reachable through such a proxy alone.
"""

from __future__ import annotations

from typing import Literal

from starlette.requests import Request

SecureSetting = bool | Literal["auto"]


def wants_secure(setting: SecureSetting, trust_forwarded: bool, request: Request) -> bool:
    """Whether cookies set in answer to `request` get the `Secure` attribute."""
    if setting != "auto":
        return bool(setting)
    if request.url.scheme == "https":
        return True
    if not trust_forwarded:
        return False
    forwarded = request.headers.get("x-forwarded-proto", "")
    return forwarded.split(",")[0].strip().lower() == "https"  # the first hop is the browser's
