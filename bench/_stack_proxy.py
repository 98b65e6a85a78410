"""The gateway's proxy path stripped to its bones, to compare servers, HTTP clients and JSON libraries.

One raw Starlette route, like the gateway's: read the body, parse it, rewrite `model`, forward it
upstream and relay the answer (streamed answers event by event, parsed and re-serialised as the gateway
does to split reasoning). No auth, no audit, no metrics: what is left is what the stack itself costs.

Chosen by environment variables, since the servers import the module by name:
    BENCH_UPSTREAM  the engine's base URL up to /v1
    BENCH_CLIENT    aiohttp | httpx
    BENCH_JSON      orjson | json
Serve with `uvicorn _stack_proxy:app --app-dir bench` or `granian --interface asgi --working-dir bench
_stack_proxy:app`; `bench/gateway_stack.py` does both.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import httpx
import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

UPSTREAM = os.environ.get("BENCH_UPSTREAM", "http://127.0.0.1:9000/v1") + "/chat/completions"
CLIENT = os.environ.get("BENCH_CLIENT", "aiohttp")
loads: Callable[[bytes], Any] = (
    orjson.loads if os.environ.get("BENCH_JSON", "orjson") == "orjson" else json.loads
)


def _dumps_json(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


dumps: Callable[[Any], bytes] = (
    orjson.dumps if os.environ.get("BENCH_JSON", "orjson") == "orjson" else _dumps_json
)
HEADERS = {"content-type": "application/json"}


class Upstream:
    """The HTTP client under test, opened for the app's lifetime."""

    def __init__(self) -> None:
        self.aiohttp: aiohttp.ClientSession | None = None
        self.httpx: httpx.AsyncClient | None = None

    async def post(self, body: bytes) -> bytes:
        if self.aiohttp is not None:
            async with self.aiohttp.post(UPSTREAM, data=body, headers=HEADERS) as response:
                return await response.read()
        assert self.httpx is not None
        return (await self.httpx.post(UPSTREAM, content=body, headers=HEADERS)).content

    async def lines(self, body: bytes) -> AsyncIterator[bytes]:
        if self.aiohttp is not None:
            async with self.aiohttp.post(UPSTREAM, data=body, headers=HEADERS) as response:
                async for line in response.content:
                    yield line
            return
        assert self.httpx is not None
        async with self.httpx.stream("POST", UPSTREAM, content=body, headers=HEADERS) as response:
            async for text in response.aiter_lines():
                yield text.encode()


upstream = Upstream()


async def _relay(body: bytes) -> AsyncIterator[bytes]:
    async for line in upstream.lines(body):
        if not line.startswith(b"data:"):
            continue
        data = line[5:].strip()
        if data == b"[DONE]":
            break
        event = loads(data)
        event["model"] = "proxied"
        yield b"data: " + dumps(event) + b"\n\n"
    yield b"data: [DONE]\n\n"


async def chat(request: Request) -> Response:
    body = loads(await request.body())
    body["model"] = "fake-model"
    forwarded = dumps(body)
    if body.get("stream"):
        return StreamingResponse(_relay(forwarded), media_type="text/event-stream")
    answer = loads(await upstream.post(forwarded))
    answer["model"] = "proxied"
    return Response(dumps(answer), media_type="application/json")


@contextlib.asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    # Both clients pooled without a connection cap and without proxy variables, as the gateway's is.
    if CLIENT == "aiohttp":
        upstream.aiohttp = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0), trust_env=False)
    else:
        limits = httpx.Limits(max_connections=None, max_keepalive_connections=None)
        upstream.httpx = httpx.AsyncClient(limits=limits, trust_env=False, timeout=60)
    try:
        yield
    finally:
        if upstream.aiohttp is not None:
            await upstream.aiohttp.close()
        if upstream.httpx is not None:
            await upstream.httpx.aclose()


async def health(request: Request) -> Response:
    return Response(b"ok")


app = Starlette(
    routes=[Route("/v1/chat/completions", chat, methods=["POST"]), Route("/healthz", health)],
    lifespan=lifespan,
)
