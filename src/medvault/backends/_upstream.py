"""Talk to one OpenAI-compatible engine (llama.cpp server, vLLM, another gateway) over HTTP.

This is the one place where aiohttp's errors become MedVault's: connection refused -> 503, no answer in
time -> 504, an engine error -> the engine's status with its message, a broken stream -> 502.
aiohttp rather than httpx on this path: see bench/README.md for the measurement behind the choice.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import orjson

from medvault.errors import ApiError, BackendTimeout, BackendUnavailable, BadGateway, BadRequest, NotFound


@dataclass(slots=True, eq=False)
class Replica:
    """One engine endpoint of a model, with the router's live view of it."""

    name: str
    url: str  # base URL including /v1
    api_key: str | None = None
    digest: str | None = None
    upstream_model: str | None = None
    healthy: bool = False
    outstanding: int = 0
    picks: int = 0  # breaks ties between equally idle replicas, round-robin
    last_error: str | None = field(default=None, repr=False)

    def headers(self) -> dict[str, str]:
        headers = {"content-type": "application/json"}
        if self.api_key:
            headers["authorization"] = f"Bearer {self.api_key}"
        return headers


class ReplicaRefused(BackendUnavailable):
    """The replica could not be reached at all; nothing was sent, so another replica may be tried."""


_UPSTREAM_STATUS: dict[int, type[ApiError]] = {400: BadRequest, 404: NotFound, 422: BadRequest}


def _engine_error(status: int, body: bytes) -> ApiError:
    try:
        detail = orjson.loads(body)
        message = detail.get("error", {}).get("message") or detail.get("detail") or str(detail)
    except (orjson.JSONDecodeError, AttributeError):
        message = body[:300].decode("utf-8", "replace")
    cls = _UPSTREAM_STATUS.get(status, BadGateway)
    return cls(f"inference engine answered {status}: {message}")


async def post_json(
    session: aiohttp.ClientSession,
    replica: Replica,
    path: str,
    body: dict[str, Any],
    timeout: aiohttp.ClientTimeout,
) -> dict[str, Any]:
    """POST a JSON body and return the engine's JSON answer."""
    try:
        async with session.post(
            replica.url + path, data=orjson.dumps(body), headers=replica.headers(), timeout=timeout
        ) as response:
            payload = await response.read()
            if response.status >= 400:
                raise _engine_error(response.status, payload)
            result: dict[str, Any] = orjson.loads(payload)
            return result
    except aiohttp.ClientConnectorError as exc:
        raise ReplicaRefused(f"inference engine {replica.name} unreachable: {exc.os_error}") from exc
    except (TimeoutError, aiohttp.ServerTimeoutError) as exc:
        raise BackendTimeout(f"inference engine {replica.name} did not answer in time") from exc
    except (aiohttp.ClientError, orjson.JSONDecodeError) as exc:
        raise BadGateway(f"inference engine {replica.name} failed: {type(exc).__name__}") from exc


async def stream_batches(
    session: aiohttp.ClientSession,
    replica: Replica,
    path: str,
    body: dict[str, Any],
    timeout: aiohttp.ClientTimeout,
) -> AsyncIterator[list[dict[str, Any]]]:
    """POST a streamed request and yield the server-sent `data:` objects until `[DONE]`.

    Each item holds the events of one network read: a model writing token by token gives batches of
    one, a fast engine or a busy gateway several, which are then relayed in one write instead of many.
    """
    try:
        async with session.post(
            replica.url + path, data=orjson.dumps(body), headers=replica.headers(), timeout=timeout
        ) as response:
            if response.status >= 400:
                raise _engine_error(response.status, await response.read())
            pending = b""
            end: str | ApiError | None = None
            async for chunk in response.content.iter_any():
                *lines, pending = (pending + chunk).split(b"\n")
                batch, end = _events(replica, lines)
                if batch:
                    yield batch
                if end is not None:
                    break
            else:
                batch, end = _events(replica, [pending])
                if batch:
                    yield batch
            if isinstance(end, ApiError):
                raise end
            if end is None:
                raise BadGateway(f"inference engine {replica.name} ended the stream without [DONE]")
    except aiohttp.ClientConnectorError as exc:
        raise ReplicaRefused(f"inference engine {replica.name} unreachable: {exc.os_error}") from exc
    except (TimeoutError, aiohttp.ServerTimeoutError) as exc:
        raise BackendTimeout(f"inference engine {replica.name} stopped answering") from exc
    except aiohttp.ClientError as exc:
        raise BadGateway(
            f"inference engine {replica.name} broke off the stream: {type(exc).__name__}"
        ) from exc


_DONE = "done"


def _events(replica: Replica, lines: list[bytes]) -> tuple[list[dict[str, Any]], str | ApiError | None]:
    """The `data:` objects among complete SSE lines, and how the stream ends there, if it does.

    The end is `_DONE` after `[DONE]`, or the error to raise once the events before it are relayed.
    """
    events: list[dict[str, Any]] = []
    for line in lines:
        if not line.startswith(b"data:"):
            continue
        data = line[5:].strip()
        if data == b"[DONE]":
            return events, _DONE
        try:
            event = orjson.loads(data)
        except orjson.JSONDecodeError:
            return events, BadGateway(f"inference engine {replica.name} sent an unreadable event")
        if isinstance(event, dict) and "error" in event:
            return events, BadGateway(f"inference engine {replica.name} reported: {event['error']}")
        events.append(event)
    return events, None


async def probe(session: aiohttp.ClientSession, replica: Replica, timeout_s: float) -> str | None:
    """Health check: None when `/models` answers 200, else the reason."""
    try:
        async with session.get(
            replica.url + "/models", headers=replica.headers(), timeout=aiohttp.ClientTimeout(total=timeout_s)
        ) as response:
            payload = await response.read()
            if response.status != 200:
                return f"HTTP {response.status}"
            if replica.upstream_model is None:  # learn the engine's model name once
                listed = orjson.loads(payload).get("data") or []
                replica.upstream_model = listed[0]["id"] if listed else None
            return None
    except (orjson.JSONDecodeError, KeyError, TypeError, AttributeError):
        return "malformed /models answer"
    except (aiohttp.ClientError, TimeoutError) as exc:
        return type(exc).__name__
