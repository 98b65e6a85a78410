"""Talk to one OpenAI-compatible engine (llama.cpp server, vLLM, another gateway) over HTTP.

This is the one place where aiohttp's errors become MedVault's: connection refused -> 503, no answer in
time -> 504, an engine's 429 -> 503 with `Retry-After`, its 401/403/404 -> 502 (the gateway's own
configuration, not the client's fault), its other 4xx -> 400, its 5xx or a broken stream -> 502.
An engine's redirect (3xx) is never followed, on any request: a compromised engine would otherwise send
the gateway, with the patient's prompt, to a host of its choosing (and make a health check count that
host's answer as its own). It is an engine fault -> 502.
aiohttp rather than httpx on this path: see bench/README.md for the measurement behind the choice.

What an engine says when it fails never reaches the client or the log: its error bodies carry Python
exception text, tracebacks and echoes of the request (patient text). Clients get a short fixed message
with the engine's status class; the log gets the status and a category. Only the category is read from
the body, so that a client can still tell an over-long prompt (`context_length_exceeded`) apart.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import orjson
import structlog

from medvault.errors import ApiError, BackendTimeout, BackendUnavailable, BadGateway, BadRequest

log = structlog.get_logger("medvault.backends")


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


class EngineBusy(BackendUnavailable):
    """The engine said 429: the client may retry after `retry_after_s` (sent as `Retry-After`)."""

    def __init__(self, message: str, *, retry_after_s: int) -> None:
        super().__init__(message, code="engine_busy")
        self.retry_after_s = retry_after_s


_RETRY_AFTER_S = 5  # when the engine's Retry-After is absent, a date, or not small
_MAX_RETRY_AFTER_S = 600
# Engine statuses that say the gateway cannot use the engine (its key, its model name, its path).
_GATEWAY_FAULTS = frozenset({401, 403, 404})


# How llama.cpp, llama-cpp-python and vLLM word a prompt that does not fit the context window.
_CONTEXT_WORDS = ("context length", "context window", "context size", "exceed_context_size")


def _category(status: int, body: bytes) -> str:
    """What kind of refusal an error body is, as one of a few fixed words; the body goes no further."""
    text = body[:4096].decode("utf-8", "replace").lower()
    if status < 500 and any(words in text for words in _CONTEXT_WORDS):
        return "context_length_exceeded"
    return "engine_rejected" if status < 500 else "engine_failed"


def _retry_after(value: str | None) -> int:
    """The engine's Retry-After when it is a small whole number of seconds, else our default."""
    value = (value or "").strip()
    if value.isascii() and value.isdigit() and 0 < int(value) <= _MAX_RETRY_AFTER_S:
        return int(value)
    return _RETRY_AFTER_S


def _engine_error(replica: Replica, response: aiohttp.ClientResponse, body: bytes) -> ApiError:
    status = response.status
    if status < 400:  # a redirect: where it points is the engine's choice, so it is neither logged nor used
        log.warning("engine_error", replica=replica.name, status=status, category="engine_redirected")
        return BadGateway(
            f"the inference engine answered with a redirect (engine status {status}), which the gateway "
            "does not follow",
            code="engine_redirected",
        )
    if status == 429:
        retry = _retry_after(response.headers.get("retry-after"))
        log.warning("engine_error", replica=replica.name, status=status, category="engine_busy")
        return EngineBusy(f"the inference engine is busy; retry in {retry} s", retry_after_s=retry)
    if status in _GATEWAY_FAULTS:
        log.warning("engine_error", replica=replica.name, status=status, category="engine_misconfigured")
        return BadGateway(
            f"the gateway could not use the inference engine (engine status {status})",
            code="engine_misconfigured",
        )
    category = _category(status, body)
    log.warning("engine_error", replica=replica.name, status=status, category=category)
    if category == "context_length_exceeded":
        return BadRequest(
            "the prompt and max_tokens do not fit the model's context window", code=category, param="messages"
        )
    if status < 500:
        # Our own checks passed, so this is between the gateway and the engine; a client may still fix
        # it (a token id outside the vocabulary, say), hence 400, not 502.
        return BadRequest("the inference engine refused the request (engine status 4xx)", code=category)
    return BadGateway("the inference engine failed (engine status 5xx)", code=category)


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
            replica.url + path,
            data=orjson.dumps(body),
            headers=replica.headers(),
            timeout=timeout,
            allow_redirects=False,
        ) as response:
            payload = await response.read()
            if response.status >= 300:
                raise _engine_error(replica, response, payload)
            result: dict[str, Any] = orjson.loads(payload)
            return result
    except aiohttp.ClientConnectorError as exc:
        # Not the OS error: it names the engine's address, which is the isolation layout's business.
        raise ReplicaRefused(f"inference engine {replica.name} unreachable") from exc
    except (TimeoutError, aiohttp.ServerTimeoutError) as exc:
        raise BackendTimeout(f"inference engine {replica.name} did not answer in time") from exc
    except (aiohttp.ClientError, orjson.JSONDecodeError) as exc:
        raise _broken(replica, "engine_unreadable", exc) from exc


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
            replica.url + path,
            data=orjson.dumps(body),
            headers=replica.headers(),
            timeout=timeout,
            allow_redirects=False,
        ) as response:
            if response.status >= 300:
                raise _engine_error(replica, response, await response.read())
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
                raise _broken(replica, "stream_incomplete")
    except aiohttp.ClientConnectorError as exc:
        raise ReplicaRefused(f"inference engine {replica.name} unreachable") from exc
    except (TimeoutError, aiohttp.ServerTimeoutError) as exc:
        raise BackendTimeout(f"inference engine {replica.name} stopped answering") from exc
    except aiohttp.ClientError as exc:
        raise _broken(replica, "stream_broken", exc) from exc


_DONE = "done"


def _broken(replica: Replica, category: str, exc: Exception | None = None) -> BadGateway:
    """The engine's answer broke off or could not be read: logged by category (and the exception's
    type, never its text), answered with a fixed message."""
    error = None if exc is None else type(exc).__name__
    log.warning("engine_error", replica=replica.name, category=category, error=error)
    return BadGateway(f"inference engine {replica.name} broke off its answer", code=category)


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
            return events, _broken(replica, "event_unreadable")
        if isinstance(event, dict) and "error" in event:
            return events, _broken(replica, "engine_failed")
        events.append(event)
    return events, None


async def probe(session: aiohttp.ClientSession, replica: Replica, timeout_s: float) -> str | None:
    """Health check: None when `/models` answers 200, else the reason."""
    try:
        async with session.get(
            replica.url + "/models",
            headers=replica.headers(),
            timeout=aiohttp.ClientTimeout(total=timeout_s),
            allow_redirects=False,  # a 3xx is "HTTP 3xx": not healthy, and nobody else is asked
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
    except TimeoutError:
        # Before ClientError: aiohttp's timeouts (ConnectionTimeoutError, SocketTimeoutError) are both; the
        # router tells a slow engine from a dead one by this exact reason.
        return "TimeoutError"
    except aiohttp.ClientError as exc:
        return type(exc).__name__
