"""A fast fake OpenAI-compatible engine, to measure the gateway and to make engines misbehave on cue.

It stands in for an engine only where the gateway itself is under test (overhead benchmark, failover,
an engine dying mid-stream, timeouts); the product's tests of real answers use the real embedded model.
The last user message selects the behaviour:

    __think__      the answer carries a <think>…</think> block
    __reasoning__  the answer carries vLLM's separate `reasoning_content` field
    __die__        a stream sends two chunks, then the connection is cut
    __hang__       no answer for a minute
    __late:S__     no byte for S seconds (a model still reading a long prompt), then the usual answer
    __slow__       a stream of 200 chunks, 50 ms apart (for disconnect tests)
    __error400__   the engine refuses the request (400), its error text full of internals: a Python
                   traceback and an echo of the request, as llama-cpp-python's server writes them
    __error500__   the engine fails (500) with a plain-text traceback and the same echo
    __context__    the engine refuses a prompt too long for its context, worded as llama-cpp-python does
    __error_event__  a stream sends two chunks, then an error event with the same internals
    __errorNNN:R__ the engine answers status NNN (401, 403, 404, 429, ...) with the internals, and
                   `Retry-After: R` when `:R` is given
    __tool__       the answer calls the first tool, as llama-cpp-python does for a named tool_choice:
                   `tool_calls` and the legacy `function_call` side by side
    __redirect__   the engine answers `307 Location: <--redirect-to>` (a compromised engine pointing the
                   gateway, with the patient's prompt, at a host of its choosing)
Anything else: a short answer (streamed in `--chunks` pieces when asked to stream).
`GET /_stats` reports how many requests started, finished and were cancelled; `GET /_last` returns the
last chat request's body as the engine received it.

With `--redirect-all`, every request (`/v1/models`, `/metrics`, tokenize, chat, any path) answers
`307 Location: <--redirect-to><path>`: a compromised engine trying to make a health probe or metrics
poll count another host's answer as its own.

With `--burst`, a stream's events that are ready together (all of them, for the usual short answer)
go out in one write instead of one write each: still one SSE event per token chunk, as llama.cpp and
vLLM send them, but the fake engine no longer spends a send() per token. Benchmarks use it so that
the engine, which shares the cores with the gateway it measures, costs little; the cues that time
their chunks (`__slow__`, `__die__`, `__error_event__`) write event by event either way.

With `--lean` (benchmarks only), the same usual answers (plain and streamed, the same bytes of JSON and
the same SSE events, one write per event unless `--burst`) come from a bare asyncio protocol with
httptools' parser instead of aiohttp: about a third of aiohttp's CPU per request, left to the gateway it
measures. It serves `GET /v1/models` and `POST /v1/chat/completions` without cues (a cue gets a 400
saying so) and nothing else; tests use the aiohttp server.

Run: python -m tests.fakes.engine --port 9000 [--host 127.0.0.1] [--chunks 16] [--model fake-model] [--burst]
     [--lean] [--redirect-to URL [--redirect-all]]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import re
import time
from typing import Any, cast

import httptools
import orjson
from aiohttp import web

WORDS = ("Die ", "Lunge ", "ist ", "frei. ")
INTERNALS_MARK = "Traceback (most recent call last)"  # in every error text that exposes internals
_STATUS_CUE = re.compile(r"__error(\d{3})(?::([^_]+))?__")
_LATE_CUE = re.compile(r"__late:(\d+(?:\.\d+)?)__")


def _internals(body: dict[str, Any]) -> str:
    """An error text that no client may see: a traceback, a file path and the request echoed back."""
    return (
        f'{INTERNALS_MARK}:\n  File "/srv/engine/llama_cpp/server/app.py", line 421, in chat\n'
        f"pydantic_core.ValidationError: 1 validation error, input: {orjson.dumps(body).decode()}"
    )


def _chunk(model: str, delta: dict[str, Any], finish: str | None = None) -> bytes:
    body = {
        "id": "chatcmpl-fake",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    return b"data: " + orjson.dumps(body) + b"\n\n"


class FakeEngine:
    def __init__(self, model: str, chunks: int, burst: bool = False, redirect_to: str | None = None) -> None:
        self.model = model
        self.chunks = chunks
        self.burst = burst
        self.redirect_to = redirect_to  # where `__redirect__` and `--redirect-all` send the client
        self.stats = {"started": 0, "finished": 0, "cancelled": 0}
        self.last: dict[str, Any] = {}

    def model_list(self) -> dict[str, Any]:
        """`GET /v1/models`: the one model this engine serves."""
        return {"object": "list", "data": [{"id": self.model, "object": "model"}]}

    async def models(self, request: web.Request) -> web.Response:
        return web.json_response(self.model_list())

    async def stats_view(self, request: web.Request) -> web.Response:
        return web.json_response(self.stats)

    async def last_view(self, request: web.Request) -> web.Response:
        return web.json_response(self.last)

    async def chat(self, request: web.Request) -> web.StreamResponse:
        body = orjson.loads(await request.read())
        self.last = body
        cue = str(body["messages"][-1].get("content", ""))
        self.stats["started"] += 1
        try:
            if "__error400__" in cue:
                return web.json_response(
                    {"error": {"message": _internals(body), "type": "internal_server_error"}}, status=400
                )
            if "__error500__" in cue:
                return web.Response(text=_internals(body), status=500)
            if found := _STATUS_CUE.search(cue):
                headers = {"retry-after": found[2]} if found[2] else None
                error: dict[str, Any] = {
                    "error": {"message": _internals(body), "type": "internal_server_error"}
                }
                return web.json_response(error, status=int(found[1]), headers=headers)
            if "__redirect__" in cue:
                assert self.redirect_to is not None, "__redirect__ needs --redirect-to"
                return web.Response(status=307, headers={"location": self.redirect_to})
            if "__context__" in cue:
                error = {
                    "message": "This model's maximum context length is 2048 tokens; you requested 9000",
                    "type": "invalid_request_error",
                    "code": "context_length_exceeded",
                }
                return web.json_response({"error": error}, status=400)
            if "__hang__" in cue:
                await asyncio.sleep(60)
            if late := _LATE_CUE.search(cue):
                await asyncio.sleep(float(late[1]))
            if body.get("stream"):
                return await self._stream(request, cue, body)
            return self._complete(cue, body)
        except (asyncio.CancelledError, ConnectionResetError):
            # The gateway dropped the connection: a real engine stops generating here.
            self.stats["cancelled"] += 1
            raise
        finally:
            self.stats["finished"] += 1

    def _complete(self, cue: str, request: dict[str, Any]) -> web.Response:
        return web.Response(body=self.answer(cue, request), content_type="application/json")

    def answer(self, cue: str, request: dict[str, Any]) -> bytes:
        """A whole (not streamed) answer's JSON body."""
        message: dict[str, Any] = {"role": "assistant", "content": "".join(WORDS)}
        if "__tool__" in cue:
            call = {"name": request["tools"][0]["function"]["name"], "arguments": '{"id": 7}'}
            message = {"role": "assistant", "content": None, "function_call": call,
                       "tool_calls": [{"id": "call_fake", "type": "function", "function": call}]}  # fmt: skip
        if "__think__" in cue:
            message["content"] = "<think>Befund prüfen.</think>\n\n" + message["content"]
        if "__reasoning__" in cue:
            message["reasoning_content"] = "Befund prüfen."
        body = {
            "id": "chatcmpl-fake",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": self.model,
            "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 11, "completion_tokens": 4, "total_tokens": 15},
        }
        return orjson.dumps(body)

    def _events(self, cue: str, body: dict[str, Any], count: int) -> list[bytes]:
        """A stream's events, pre-encoded: the role, `count` content pieces, the finish, usage, [DONE]."""
        pieces = ["<think>", "Befund ", "prüfen", "</think>", *WORDS] if "__think__" in cue else list(WORDS)
        encoded = [_chunk(self.model, {"content": piece}) for piece in pieces]  # once per piece
        events = [_chunk(self.model, {"role": "assistant"})]
        events += (encoded[index % len(encoded)] for index in range(count))
        events.append(_chunk(self.model, {}, "stop"))
        if (body.get("stream_options") or {}).get("include_usage"):
            usage = {
                "id": "chatcmpl-fake",
                "object": "chat.completion.chunk",
                "model": self.model,
                "choices": [],
                "usage": {"prompt_tokens": 11, "completion_tokens": count, "total_tokens": 11 + count},
            }
            events.append(b"data: " + orjson.dumps(usage) + b"\n\n")
        events.append(b"data: [DONE]\n\n")
        return events

    async def _stream(self, request: web.Request, cue: str, body: dict[str, Any]) -> web.StreamResponse:
        response = web.StreamResponse(headers={"content-type": "text/event-stream"})
        await response.prepare(request)
        events = self._events(cue, body, 200 if "__slow__" in cue else self.chunks)
        timed = any(each in cue for each in ("__slow__", "__die__", "__error_event__"))
        if self.burst and not timed:
            await response.write(b"".join(events))
            return response
        for index, event in enumerate(events):
            if index == 3 and "__die__" in cue:  # after the role and two content chunks
                assert request.transport is not None
                request.transport.close()  # the engine process "dies" mid-answer
                return response
            if index == 3 and "__error_event__" in cue:
                error = {"error": {"message": _internals(body), "type": "internal_server_error"}}
                await response.write(b"data: " + orjson.dumps(error) + b"\n\n")
                return response
            await response.write(event)
            if "__slow__" in cue and 1 <= index <= 200:  # after each content chunk
                await asyncio.sleep(0.05)
        return response


class _LeanConnection(asyncio.Protocol):
    """One keep-alive HTTP/1.1 connection of the `--lean` server: the usual answers only."""

    def __init__(self, engine: FakeEngine) -> None:
        self._engine = engine
        self._parser = httptools.HttpRequestParser(self)
        self._transport: asyncio.Transport | None = None
        self._url = b""
        self._body: list[bytes] = []

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass

    def data_received(self, data: bytes) -> None:
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError:
            self._send(b"400 Bad Request", b"text/plain", b"bad request")
            assert self._transport is not None
            self._transport.close()

    # httptools' callbacks
    def on_url(self, url: bytes) -> None:
        self._url += url

    def on_body(self, body: bytes) -> None:
        self._body.append(body)

    def on_message_complete(self) -> None:
        url, self._url = self._url, b""
        body, self._body = b"".join(self._body), []
        method = self._parser.get_method()
        if method == b"GET" and url == b"/v1/models":
            self._send(b"200 OK", b"application/json", orjson.dumps(self._engine.model_list()))
        elif method == b"POST" and url == b"/v1/chat/completions":
            self._chat(orjson.loads(body))
        else:
            self._send(b"404 Not Found", b"text/plain", b"not found")
        if not self._parser.should_keep_alive() and self._transport is not None:
            self._transport.close()

    def _chat(self, body: dict[str, Any]) -> None:
        cue = str(body["messages"][-1].get("content", ""))
        if "__" in cue:
            error = {"error": {"message": "the --lean engine serves no cues", "type": "invalid_request"}}
            self._send(b"400 Bad Request", b"application/json", orjson.dumps(error))
            return
        engine = self._engine
        if not body.get("stream"):
            self._send(b"200 OK", b"application/json", engine.answer(cue, body))
            return
        head = b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n"
        chunks = [b"%x\r\n%b\r\n" % (len(event), event) for event in engine._events(cue, body, engine.chunks)]
        chunks.append(b"0\r\n\r\n")
        assert self._transport is not None
        if engine.burst:
            self._transport.write(head + b"".join(chunks))
            return
        # One write (one send()) per event, as aiohttp's server and real engines do; the head goes with
        # the first event and the end of the chunked body with the last.
        chunks[0] = head + chunks[0]
        chunks[-2:] = [chunks[-2] + chunks[-1]]
        for chunk in chunks:
            self._transport.write(chunk)

    def _send(self, status: bytes, content_type: bytes, body: bytes) -> None:
        assert self._transport is not None
        self._transport.write(
            b"HTTP/1.1 %b\r\ncontent-type: %b\r\ncontent-length: %d\r\n\r\n%b"
            % (status, content_type, len(body), body)
        )


async def _serve_lean(engine: FakeEngine, host: str, port: int) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: _LeanConnection(engine), host, port, reuse_address=True)
    async with server:
        await server.serve_forever()


def build_app(
    model: str = "fake-model",
    chunks: int = 16,
    burst: bool = False,
    redirect_to: str | None = None,
    redirect_all: bool = False,
) -> web.Application:
    engine = FakeEngine(model, chunks, burst, redirect_to)
    middlewares: list[Any] = []
    if redirect_all:
        assert redirect_to is not None, "--redirect-all needs --redirect-to"

        @web.middleware
        async def redirect(request: web.Request, handler: Any) -> web.StreamResponse:
            await request.read()
            return web.Response(status=307, headers={"location": redirect_to + request.path_qs})

        middlewares.append(redirect)
    app = web.Application(middlewares=middlewares)
    app.router.add_get("/v1/models", engine.models)
    app.router.add_post("/v1/chat/completions", engine.chat)
    app.router.add_get("/_stats", engine.stats_view)
    app.router.add_get("/_last", engine.last_view)
    return app


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--chunks", type=int, default=16)
    parser.add_argument("--model", default="fake-model")
    parser.add_argument("--burst", action="store_true", help="write a stream's ready events at once")
    parser.add_argument("--lean", action="store_true", help="bare asyncio server, usual answers only")
    parser.add_argument("--redirect-to", help="where `__redirect__` (and --redirect-all) point the client")
    parser.add_argument("--redirect-all", action="store_true", help="answer every request with a 307")
    args = parser.parse_args()
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    if args.lean:
        engine = FakeEngine(args.model, args.chunks, args.burst)
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(_serve_lean(engine, args.host, args.port))
        return
    # handler_cancellation: like a real engine, stop working on a request whose client went away.
    web.run_app(
        build_app(args.model, args.chunks, args.burst, args.redirect_to, args.redirect_all),
        host=args.host,
        port=args.port,
        access_log=None,
        print=None,
        handler_cancellation=True,
    )


if __name__ == "__main__":
    main()
