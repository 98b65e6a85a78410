"""`POST /v1/chat/completions`, streamed and not, proxied to the model's best replica."""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from typing import Any

import aiohttp
import orjson
import structlog
from starlette.requests import Request
from starlette.responses import Response

from medvault.backends import (
    ModelRouter,
    Replica,
    ThinkSplitter,
    post_json,
    split_delta,
    split_message,
    stream_batches,
)
from medvault.config import LimitSettings
from medvault.errors import ApiError, BackendUnavailable, ClientClosed, NotFound
from medvault.gateway._auth import CHAT_ROLES, Authenticator, require_role
from medvault.gateway._calls import Call, CallLog
from medvault.gateway._disconnect import CancelOnDisconnect, EventStream
from medvault.gateway._schemas import read_json, validate_chat
from medvault.gateway.errors import sse_error
from medvault.governance import ApprovalGate

log = structlog.get_logger("medvault.gateway")
_CLIENT_CLOSED = ClientClosed.status_code


def _usage(call: Call, usage: dict[str, Any] | None) -> None:
    if usage:
        call.prompt_tokens = usage.get("prompt_tokens")
        call.completion_tokens = usage.get("completion_tokens")


class _Reasoning:
    """`split_delta` over one stream, skipped for deltas it would leave as they are.

    Most chunks are plain text: until a delta carries vLLM's `reasoning` field or a `<` (where a
    `<think>` tag may begin), the splitter is outside any thoughts with nothing held back, and feeding
    it text without `<` returns that text unchanged. From the first such delta on (or from the start,
    for a model whose template opens the thoughts) every delta goes through the splitter, which then
    keeps its state across chunks as before.
    """

    __slots__ = ("_engaged", "_splitter")

    def __init__(self, *, starts_inside: bool) -> None:
        self._splitter = ThinkSplitter(starts_inside=starts_inside)
        self._engaged = starts_inside

    def split(self, delta: dict[str, Any]) -> None:
        if not self._engaged:
            content = delta.get("content")
            if "reasoning" not in delta and not (isinstance(content, str) and "<" in content):
                return
            self._engaged = True
        split_delta(delta, self._splitter)

    def flush(self) -> tuple[str, str]:
        return self._splitter.flush()


class ChatCompletions:
    """The handler; one instance per app, holding what every request needs."""

    def __init__(
        self,
        routers: dict[str, ModelRouter],
        auth: Authenticator,
        calls: CallLog,
        limits: LimitSettings,
        gate: ApprovalGate,
    ) -> None:
        self._routers = routers
        self._gate = gate
        self.session: aiohttp.ClientSession | None = None  # set while the app runs
        self._auth = auth
        self._calls = calls
        self._limits = limits
        self._plain_timeout = aiohttp.ClientTimeout(
            total=limits.request_timeout_s,
            connect=limits.connect_timeout_s,
            sock_read=limits.request_timeout_s,
        )
        # A stream times out on connect and on silence (no byte for first_token_timeout_s, before the
        # first token or between two), never on its total length: a long answer that keeps coming is
        # relayed to the end, however long it takes.
        self._stream_timeout = aiohttp.ClientTimeout(
            total=None,
            connect=limits.connect_timeout_s,
            sock_read=limits.first_token_timeout_s,
        )

    def _client(self) -> aiohttp.ClientSession:
        assert self.session is not None, "the app's lifespan has not started"
        return self.session

    def router(self, model_id: str) -> ModelRouter:
        try:
            return self._routers[model_id]
        except KeyError:
            # The id the client sent is not repeated: it is client text, and the list says enough.
            known = ", ".join(sorted(self._routers))
            raise NotFound(
                f"no such model; available: {known}", code="model_not_found", param="model"
            ) from None

    async def approved(self, call: Call, model_id: str) -> ModelRouter:
        """The model's router, once change control lets it serve; else 503 naming the approval step.

        The call names the model and its digest first, so the refusal is audited with both."""
        router = self.router(model_id)
        call.model_id, call.model_digest = model_id, router.digest
        reason = (await self._gate.held()).get(model_id)
        if reason is not None:
            raise BackendUnavailable(reason, code="model_not_approved", param="model")
        return router

    async def __call__(self, request: Request, call: Call) -> Response:
        # Who, then whether that role may, then the body: a stranger's body is never read.
        call.principal = await self._auth(request)
        require_role(call.principal, CHAT_ROLES)
        chat = validate_chat(await read_json(request, self._limits.max_body_bytes))
        router = await self.approved(call, chat.model)
        if chat.stream:
            chat.body["stream_options"] = {"include_usage": True}  # the audit needs token counts
            return await self._stream(request, call, router, chat.body, chat.wants_usage)
        return await self._complete(request, call, router, chat.body)

    @staticmethod
    def _for(replica: Replica, body: dict[str, Any]) -> dict[str, Any]:
        return {**body, "model": replica.upstream_model or body["model"]}

    async def _complete(
        self, request: Request, call: Call, router: ModelRouter, body: dict[str, Any]
    ) -> Response:
        async def send(replica: Replica) -> dict[str, Any]:
            started = time.perf_counter()
            try:
                return await post_json(
                    self._client(),
                    replica,
                    "/chat/completions",
                    self._for(replica, body),
                    self._plain_timeout,
                )
            finally:
                call.upstream_s += time.perf_counter() - started

        async with CancelOnDisconnect(request.receive):
            replica, result = await router.call(send)
        call.model_digest = replica.digest or call.model_digest
        result["model"] = call.model_id
        for choice in result.get("choices") or ():
            message = choice.get("message")
            if isinstance(message, dict):
                split_message(message, starts_inside=router.reasoning_starts_inside)
        _usage(call, result.get("usage"))
        await self._calls.finish(call, 200)
        call.deferred = True  # finished here, so the overhead header includes the audit commit
        return Response(orjson.dumps(result), media_type="application/json")

    async def _stream(
        self, request: Request, call: Call, router: ModelRouter, body: dict[str, Any], wants_usage: bool
    ) -> Response:
        stack = contextlib.AsyncExitStack()
        started = time.perf_counter()

        # Opened before the response starts, so a refusal still gets a plain HTTP error status; a client
        # that leaves while the engine reads the prompt cancels it too.
        try:
            async with CancelOnDisconnect(request.receive):
                replica, batches = await stack.enter_async_context(router.stream(self._opener(body)))
        except BaseException:
            await stack.aclose()
            raise
        call.upstream_s += time.perf_counter() - started
        call.model_digest = replica.digest or call.model_digest
        call.deferred = True
        reasoning = _Reasoning(starts_inside=router.reasoning_starts_inside)
        return EventStream(self._relay(call, batches, reasoning, wants_usage, stack))

    def _opener(self, body: dict[str, Any]) -> Callable[[Replica], AsyncIterator[list[dict[str, Any]]]]:
        def open_on(replica: Replica) -> AsyncIterator[list[dict[str, Any]]]:
            return stream_batches(
                self._client(), replica, "/chat/completions", self._for(replica, body), self._stream_timeout
            )

        return open_on

    @staticmethod
    def _normalize(call: Call, event: dict[str, Any], reasoning: _Reasoning) -> bool:
        """Split reasoning out of one engine event and note its usage; True if it carries choices."""
        _usage(call, event.get("usage"))
        event["model"] = call.model_id
        choices = event.get("choices")
        if not choices:
            return False
        for choice in choices:
            delta = choice.get("delta")
            if isinstance(delta, dict):
                reasoning.split(delta)
        return True

    @staticmethod
    def _rest(reasoning: _Reasoning, last: dict[str, Any] | None) -> dict[str, Any] | None:
        """An event with what the splitter still holds at the end of the stream, if anything."""
        rest, thoughts = reasoning.flush()
        if not (rest or thoughts) or last is None:
            return None
        return {
            **last,
            "choices": [
                {"index": 0, "delta": {"content": rest, "reasoning_content": thoughts}, "finish_reason": None}
            ],
        }

    async def generate(self, call: Call, body: dict[str, Any]) -> AsyncIterator[dict[str, Any]]:
        """A streamed completion for in-process callers (the workbench): yields each choice's delta.

        Fills the call's model digest and token counts; errors are raised as `ApiError`.
        """
        router = await self.approved(call, body["model"])
        body = {**body, "stream": True, "stream_options": {"include_usage": True}}
        reasoning = _Reasoning(starts_inside=router.reasoning_starts_inside)
        chunks = 0
        last: dict[str, Any] | None = None
        async with router.stream(self._opener(body)) as (replica, batches):
            call.model_digest = replica.digest
            async for batch in batches:
                for event in batch:
                    if self._normalize(call, event, reasoning):
                        last = event
                        for choice in event["choices"]:
                            chunks += 1
                            yield choice.get("delta") or {}
        rest = self._rest(reasoning, last)
        if rest is not None:
            chunks += 1
            yield rest["choices"][0]["delta"]
        if call.completion_tokens is None:
            call.completion_tokens = chunks
            call.detail["usage_estimated"] = True

    async def _relay(
        self,
        call: Call,
        batches: AsyncIterator[list[dict[str, Any]]],
        reasoning: _Reasoning,
        wants_usage: bool,
        stack: contextlib.AsyncExitStack,
    ) -> AsyncGenerator[bytes]:
        status = _CLIENT_CLOSED  # until the stream is known to have ended otherwise
        chunks = 0
        last: dict[str, Any] | None = None
        # Events not yet written. Each network read's events go out in one write, except a read that
        # ends with the usage event (no choices): engines send it last, right before [DONE], so it waits
        # and goes out in one write with [DONE] (after the audit commit) instead of a write of its own.
        pending = b""
        try:
            try:
                async for batch in batches:
                    out = [pending]
                    ending = False
                    for event in batch:
                        if self._normalize(call, event, reasoning):
                            ending = False
                            last = event
                            chunks += 1
                            if not wants_usage:
                                event.pop("usage", None)
                        else:
                            ending = "usage" in event
                            if not wants_usage:
                                continue
                        out += (b"data: ", orjson.dumps(event), b"\n\n")
                    pending = b"".join(out)
                    if pending and not ending:
                        yield pending
                        pending = b""
                rest = self._rest(reasoning, last)
                if rest is not None:
                    chunks += 1
                    pending += b"data: " + orjson.dumps(rest) + b"\n\n"
            except ApiError as exc:
                status = exc.status_code
                call.detail["stream_error"] = exc.code or "error"
                yield pending + sse_error(exc)
                return
            except Exception:  # the stream's own boundary, like endpoint() for plain answers
                log.exception("stream_failed", request_id=call.request_id)
                status = 500
                call.detail["stream_error"] = "internal"
                yield pending + sse_error(ApiError("internal error; see the gateway log"))
                return
            if call.completion_tokens is None:
                call.completion_tokens = chunks  # the engine sent no usage: one chunk is about one token
                call.detail["usage_estimated"] = True
            status = 200
            await self._calls.finish(call, status)
            yield pending + b"data: [DONE]\n\n"
        finally:
            try:
                await stack.aclose()
            finally:  # even when a cancellation lands in the close: every call leaves its audit event
                if status != 200:
                    await self._calls.finish(call, status)
