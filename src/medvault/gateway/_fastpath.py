"""The OpenAI API's routes, served ahead of the middleware stack that the workbench's pages need.

Every request through FastAPI's stack passes its error and exit-stack middlewares and the workbench's
security-header middleware, each wrapping `send` once more; a streamed answer pays that per event.
The API routes need none of it: `endpoint()` already turns every error into an OpenAI-shaped answer and
the security headers are for HTML pages. So an exact (method, path) match is handed straight to its
handler; everything else (and the same paths with other methods, for the usual 405) takes the full app.
The routes stay registered on the app as well (plain Starlette routes, so the app answers other methods
with 405 and `Allow`); they are not in `/openapi.json`, which describes the workbench API: the OpenAI
API's shapes are OpenAI's, and docs/api.md lists what MedVault adds to them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

Endpoint = Callable[[Request], Awaitable[Response]]


class FastPaths:
    """ASGI: dispatch `(method, path)` matches to their endpoints, the rest to `app`."""

    def __init__(self, app: ASGIApp, routes: dict[tuple[str, str], Endpoint]) -> None:
        self._app = app
        self._routes = routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            endpoint = self._routes.get((scope["method"], scope["path"]))
            if endpoint is not None:
                response = await endpoint(Request(scope, receive, send))
                await response(scope, receive, send)
                return
        await self._app(scope, receive, send)


class GatewayApp(FastAPI):
    """FastAPI with `FastPaths` in front of its middleware stack; `api_route_fast` registers both."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]  # FastAPI's own keyword arguments
        self._fast: dict[tuple[str, str], Endpoint] = {}

    def api_route_fast(self, path: str, endpoint: Endpoint, methods: list[str]) -> None:
        """Add a route that skips the middleware stack."""
        self.router.add_route(path, endpoint, methods)
        for method in methods:
            self._fast[(method, path)] = endpoint

    def build_middleware_stack(self) -> ASGIApp:
        return FastPaths(super().build_middleware_stack(), self._fast)
