"""Request headers read on the hot path, through one dict built per request.

Starlette's `Headers` scans the raw header list on every lookup; a chat request looks up five headers,
so one dict (ASGI already gives the names in lower case) is cheaper from the second lookup on.
"""

from __future__ import annotations

from starlette.requests import Request

_KEY = "medvault.headers"


def header(request: Request, name: bytes) -> str:
    """The value of header `name` (lower-case bytes), or "" when absent; repeated headers: the first."""
    scope = request.scope
    found: dict[bytes, bytes] | None = scope.get(_KEY)
    if found is None:
        found = {}
        for key, value in scope["headers"]:
            found.setdefault(key, value)
        scope[_KEY] = found
    value = found.get(name)
    return "" if value is None else value.decode("latin-1")
