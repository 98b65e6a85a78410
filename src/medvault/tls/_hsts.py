"""`Strict-Transport-Security` on every answer sent over HTTPS: the outermost layer of the gateway's app.

Browsers that saw it once refuse plain HTTP (and certificate click-through) for this host afterwards, so
a LAN attacker cannot strip TLS from a clinician's next visit. Browsers ignore it over plain HTTP and on a
connection with certificate errors (RFC 6797), so answers over HTTP do not get it.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

ONE_YEAR_S = 31_536_000


class StrictTransportSecurity:
    """ASGI wrapper adding `Strict-Transport-Security: max-age=…` to HTTPS responses of `app`."""

    def __init__(self, app: ASGIApp, max_age_s: int = ONE_YEAR_S) -> None:
        self.app = app
        # No includeSubDomains: the hospital's other hosts under the same name are not ours to decide.
        self._header = (b"strict-transport-security", f"max-age={max_age_s}".encode())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("scheme") != "https":
            await self.app(scope, receive, send)
            return

        async def send_with_header(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", ()), self._header]}
            await send(message)

        await self.app(scope, receive, send_with_header)
