"""Bookkeeping of one API call: who, what, how long, how many tokens; then audit, metrics and a log line.

Every endpoint runs inside `endpoint(...)`, so every call — refused, failed or served — leaves exactly one
audit event, and none of them carries prompt or completion text.
"""

from __future__ import annotations

import asyncio
import itertools
import re
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import structlog
from starlette.requests import Request
from starlette.responses import Response

from medvault.errors import ApiError
from medvault.gateway._metrics import Metrics
from medvault.gateway._request import header
from medvault.gateway.errors import NO_STORE, NOSNIFF, error_response
from medvault.store import AuditEvent, AuditWriter, Principal

if TYPE_CHECKING:
    from medvault.gateway._ratelimit import RateLimiter

log = structlog.get_logger("medvault.gateway")

# A client's request id is kept only if it is a UUID or 16 to 64 hex digits: it goes into the audit
# chain (kept for years) and every log line of the call, and anything wordier can carry a name or a
# birth date (`Erika.Mustermann:1970-01-01`). Anything else is replaced by one of ours (24 hex digits).
_REQUEST_ID = re.compile(r"[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}|[0-9a-f]{16,64}", re.IGNORECASE)


def client_kind(request: Request) -> str:
    agent = header(request, b"user-agent")
    if agent.startswith(("OpenAI/", "AsyncOpenAI/")):
        return "openai-sdk"
    if header(request, b"x-medvault-client") == "workbench":
        return "workbench"
    return "api"


@dataclass(slots=True)
class Call:
    """What one request did, filled in as it goes."""

    action: str
    request_id: str
    client_kind: str
    started: float = field(default_factory=time.perf_counter)
    principal: Principal | None = None
    model_id: str | None = None
    model_digest: str | None = None
    template_id: str | None = None
    template_version: str | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    upstream_s: float = 0.0
    deferred: bool = False  # a stream finishes the call itself, when it ends
    detail: dict[str, int | str | bool] = field(default_factory=dict)

    def overhead_ms(self) -> float:
        return max(0.0, (time.perf_counter() - self.started - self.upstream_s) * 1000)


class CallLog:
    """Turns finished calls into an audit event (awaited until committed), metrics and one log line: the
    one place where a call's record is finished, for the API and the workbench alike. With `tokens`
    (a limiter with token limits) the call's tokens are also counted against its caller's limits."""

    def __init__(self, audit: AuditWriter, metrics: Metrics, tokens: RateLimiter | None = None) -> None:
        self._audit = audit
        self._metrics = metrics
        self._tokens = tokens
        # Request ids: random per process, counted per request (a uuid4 per request costs a syscall).
        self._id_prefix = secrets.token_hex(8)
        self._ids = itertools.count(1)

    def begin(self, request: Request, action: str) -> Call:
        given = header(request, b"x-request-id")
        request_id = given if _REQUEST_ID.fullmatch(given) else f"{self._id_prefix}{next(self._ids):08x}"
        return Call(action=action, request_id=request_id, client_kind=client_kind(request))

    async def finish(self, call: Call, status: int) -> None:
        elapsed = time.perf_counter() - call.started
        principal = call.principal
        event = AuditEvent(
            ts=datetime.now(UTC),
            user=principal.user if principal else None,
            role=principal.role if principal else None,
            action=call.action,
            model_id=call.model_id,
            model_digest=call.model_digest,
            template_id=call.template_id,
            template_version=call.template_version,
            prompt_tokens=call.prompt_tokens,
            completion_tokens=call.completion_tokens,
            latency_ms=round(elapsed * 1000, 3),
            status=status,
            client_kind=call.client_kind,
            request_id=call.request_id,
            detail=dict(call.detail),
        )
        self._metrics.count_call(
            call.action, call.model_id, status, elapsed, max(0.0, elapsed - call.upstream_s),
            call.prompt_tokens, call.completion_tokens,
        )  # fmt: skip
        log.info(
            "request",
            action=call.action,
            request_id=call.request_id,
            status=status,
            user=event.user,
            model=call.model_id,
            latency_ms=event.latency_ms,
        )
        # Shielded: a client that disconnects must not cancel the audit write of its own request.
        await asyncio.shield(self._audit.submit(event))
        if self._tokens is not None and principal is not None:
            spent = (call.prompt_tokens or 0) + (call.completion_tokens or 0)
            await asyncio.shield(self._tokens.spent(principal, spent))


Handler = Callable[[Request, Call], Awaitable[Response]]


def endpoint(calls: CallLog, action: str, handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    """Wrap a handler so that errors become OpenAI-shaped responses and every call is audited once."""

    async def run(request: Request) -> Response:
        call = calls.begin(request, action)
        try:
            response = await handler(request, call)
        except ApiError as exc:
            await calls.finish(call, exc.status_code)
            response = error_response(exc)
        except Exception:
            log.exception("unhandled", action=action, request_id=call.request_id)
            await calls.finish(call, 500)
            response = error_response(ApiError("internal error; see the gateway log"))
        else:
            if not call.deferred:
                await calls.finish(call, response.status_code)
        # Appended, not set: a handler's response never carries these, and MutableHeaders scans to set
        # (only a stream that set its own cache-control keeps it). A call its handler finished itself
        # (a plain completion) counts its audit commit here too.
        headers = response.raw_headers
        headers += NO_STORE if all(name != b"cache-control" for name, _ in headers) else NOSNIFF
        headers += [
            (b"x-request-id", call.request_id.encode()),
            (b"x-medvault-overhead-ms", b"%.3f" % call.overhead_ms()),
        ]
        return response

    return run
