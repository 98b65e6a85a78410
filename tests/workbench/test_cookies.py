"""When the workbench's cookies are marked Secure: the `workbench.secure_cookies` table."""

from __future__ import annotations

import pytest
from starlette.requests import Request

from medvault.workbench._cookies import SecureSetting, wants_secure


def _request(scheme: str, forwarded: str | None = None) -> Request:
    headers = [(b"x-forwarded-proto", forwarded.encode())] if forwarded is not None else []
    scope = {"type": "http", "scheme": scheme, "method": "GET", "path": "/", "headers": headers,
             "server": ("medvault.local", 443 if scheme == "https" else 80)}  # fmt: skip
    return Request(scope)


@pytest.mark.parametrize(
    ("setting", "trust", "scheme", "forwarded", "secure"),
    [
        ("auto", False, "https", None, True),
        ("auto", False, "http", None, False),
        ("auto", False, "http", "https", False),  # an untrusted header changes nothing
        ("auto", True, "http", "https", True),
        ("auto", True, "http", "HTTPS, http", True),  # the first hop is the browser's
        ("auto", True, "http", "http, https", False),
        (True, False, "http", None, True),
        (False, True, "https", "https", False),
    ],
)  # fmt: skip
def test_wants_secure(
    setting: SecureSetting, trust: bool, scheme: str, forwarded: str | None, secure: bool
) -> None:
    """`auto` follows the request's scheme (and a trusted forwarded one); true and false are fixed."""
    assert wants_secure(setting, trust, _request(scheme, forwarded)) is secure
