"""Security headers on every workbench response (pages, static files and the JSON API).

The policy allows scripts, styles, images and fetches from this origin only: no inline script or style,
no eval, no framing, no form posts elsewhere. The pages are written for it (all behaviour lives in
/workbench/static/workbench.js), so an injected `<script>` or `onclick=` does not run.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
HEADERS = {
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "cross-origin-opener-policy": "same-origin",
}
PREFIXES = ("/workbench", "/api/v1/")


class SecurityHeaders:
    """ASGI middleware: adds `HEADERS` to responses whose path is `/` or starts with `PREFIXES`."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or not (path == "/" or path.startswith(PREFIXES)):
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in HEADERS.items():
                    headers[name] = value
                if not path.startswith("/workbench/static/"):
                    headers.setdefault("cache-control", "no-store")  # pages and API answers hold patient text
            await send(message)

        await self.app(scope, receive, send_with_headers)
