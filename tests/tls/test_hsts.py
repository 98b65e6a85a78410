"""HSTS on every HTTPS answer of the gateway, none over plain HTTP."""

from __future__ import annotations

import pytest
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from medvault.tls import StrictTransportSecurity


def _app() -> StrictTransportSecurity:
    async def hello(_request: object) -> PlainTextResponse:
        return PlainTextResponse("hi", headers={"x-own": "kept"})

    return StrictTransportSecurity(Starlette(routes=[Route("/", hello)]))


@pytest.mark.parametrize(("base", "expected"), [("https://gw", "max-age=31536000"), ("http://gw", None)])
def test_hsts_only_over_https(base: str, expected: str | None) -> None:
    """Answers over https carry Strict-Transport-Security (one year); over http they do not."""
    with TestClient(_app(), base_url=base) as client:
        answer = client.get("/")
        missing = client.get("/nowhere")
    assert answer.headers.get("strict-transport-security") == expected
    assert missing.status_code == 404 and missing.headers.get("strict-transport-security") == expected
    assert answer.headers["x-own"] == "kept"
