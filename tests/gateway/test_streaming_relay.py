"""The streamed relay against an engine whose bytes arrive in chosen pieces: whatever the read boundaries
(an SSE line or a `<think>` tag cut in two, usage and [DONE] in separate reads, a stream broken off after
the usage event), the client gets the same events, in order, with reasoning split out exactly."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from aiohttp import web

from medvault.store import Role
from tests.gateway.conftest import Running, free_port, make_settings, open_store, serve
from tests.gateway.test_chat import CHAT, ask, sse

PAUSE_S = 0.03  # between two pieces: long enough for the gateway to read them separately


def event(delta: dict[str, object] | None = None, finish: str | None = None, **extra: object) -> bytes:
    body: dict[str, object] = {"id": "c1", "object": "chat.completion.chunk", "model": "engine-name"}
    body["choices"] = [] if delta is None else [{"index": 0, "delta": delta, "finish_reason": finish}]
    body.update(extra)
    return b"data: " + orjson.dumps(body) + b"\n\n"


USAGE = event(usage={"prompt_tokens": 7, "completion_tokens": 5, "total_tokens": 12})
DONE = b"data: [DONE]\n\n"


def cut(data: bytes, *marks: bytes) -> list[bytes]:
    """`data` split just before each mark (each found after the previous cut)."""
    pieces, start = [], 0
    for mark in marks:
        at = data.index(mark, start + 1)
        pieces.append(data[start:at])
        start = at
    return [*pieces, data[start:]]


class ScriptedEngine:
    """An OpenAI-compatible engine on loopback that writes the pieces of `script`, a pause between each."""

    def __init__(self) -> None:
        self.script: list[bytes] = []
        self.close_after = False  # cut the connection after the last piece (an engine dying)
        self.port = free_port()
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    async def _models(self, request: web.Request) -> web.Response:
        return web.json_response({"object": "list", "data": [{"id": "engine-name", "object": "model"}]})

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        await request.read()
        response = web.StreamResponse(headers={"content-type": "text/event-stream"})
        await response.prepare(request)
        for piece in self.script:
            await response.write(piece)
            await asyncio.sleep(PAUSE_S)
        if self.close_after:
            assert request.transport is not None
            request.transport.close()
        return response

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        app = web.Application()
        app.router.add_get("/v1/models", self._models)
        app.router.add_post("/v1/chat/completions", self._chat)
        runner = web.AppRunner(app)
        self._loop.run_until_complete(runner.setup())
        self._loop.run_until_complete(web.TCPSite(runner, "127.0.0.1", self.port).start())
        self._ready.set()
        self._loop.run_forever()
        self._loop.run_until_complete(runner.cleanup())

    def __enter__(self) -> ScriptedEngine:
        self._thread.start()
        self._ready.wait(10)
        return self

    def __exit__(self, *exc: object) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)


@pytest.fixture
def scripted() -> Iterator[ScriptedEngine]:
    with ScriptedEngine() as engine:
        yield engine


@pytest.fixture
def relay(tmp_path: Path, scripted: ScriptedEngine) -> Iterator[Running]:
    settings = make_settings(
        tmp_path,
        [f"http://127.0.0.1:{scripted.port}/v1"],
        limits={"request_timeout_s": 5, "first_token_timeout_s": 5},
    )
    store = open_store(settings)
    key_id, key = store.create_key("alice", Role.CLINICIAN)
    with serve(settings, store) as url:
        yield Running(url, settings, store, key, key, key_id)
    store.close()


def stream(relay: Running, **extra: object) -> list[dict[str, object] | str]:
    with (
        relay.client() as client,
        client.stream("POST", CHAT, json=ask("x", stream=True, **extra)) as response,
    ):
        assert response.status_code == 200
        return sse(response)


def deltas(events: list[dict[str, Any] | str], field: str) -> str:
    """One delta field of every choice, concatenated."""
    return "".join(
        str(choice["delta"].get(field) or "")
        for e in events
        if isinstance(e, dict)
        for choice in e.get("choices") or ()
    )


def test_tags_and_lines_cut_between_reads(relay: Running, scripted: ScriptedEngine) -> None:
    """A `<think>` tag and an SSE line each cut in two by the network: thoughts and answer still split."""
    body = b"".join([
        event({"role": "assistant"}),
        event({"content": "Wert <"}),  # a `<` that opens no tag: stays content
        event({"content": "5 mmol. <thi"}),
        event({"content": "nk>Befund prüfen</th"}),
        event({"content": "ink>Die Lunge ist frei."}),
        event({}, "stop"),
        USAGE,
        DONE,
    ])  # fmt: skip
    scripted.script = cut(body, b'mol. <thi"', b"nk>", b"</th", b"data: [DONE]")
    events = stream(relay, stream_options={"include_usage": True})
    assert events[-1] == "[DONE]"
    assert deltas(events, "content") == "Wert <5 mmol. Die Lunge ist frei."
    assert deltas(events, "reasoning_content") == "Befund prüfen"
    assert all(e["model"] == "fake" for e in events if isinstance(e, dict))
    assert events[-2] == {**orjson.loads(USAGE[6:]), "model": "fake"}  # the usage event, last before [DONE]


def test_vllm_reasoning_field_after_plain_chunks(relay: Running, scripted: ScriptedEngine) -> None:
    """vLLM's `reasoning` field mid-stream becomes `reasoning_content`; later plain chunks stay content."""
    scripted.script = [
        event({"role": "assistant"}),
        event({"content": "Die "}),
        event({"reasoning": "prüfen"}),
        event({"content": "Lunge"}) + event({}, "stop") + USAGE + DONE,
    ]
    events = stream(relay)
    assert deltas(events, "content") == "Die Lunge"
    assert deltas(events, "reasoning_content") == "prüfen"
    assert "reasoning" not in str(events).replace("reasoning_content", "")
    assert not any(isinstance(e, dict) and "usage" in e for e in events)  # not asked for: not relayed


@pytest.mark.parametrize("wants_usage", [True, False])
def test_usage_and_done_in_separate_reads(
    relay: Running, scripted: ScriptedEngine, wants_usage: bool
) -> None:
    """The usage event read well before [DONE] still arrives, before [DONE], and the audit has its counts."""
    scripted.script = [
        event({"role": "assistant"}) + event({"content": "frei"}),
        event({}, "stop"),
        USAGE,
        DONE,
    ]
    extra = {"stream_options": {"include_usage": True}} if wants_usage else {}
    events = stream(relay, **extra)
    assert events[-1] == "[DONE]"
    assert deltas(events, "content") == "frei"
    assert (events[-2] == {**orjson.loads(USAGE[6:]), "model": "fake"}) is wants_usage
    # The audit event is committed before [DONE] is sent, so it is there now.
    [row] = [e.event for e in relay.store.audit_events() if e.event.model_id == "fake"]
    assert (row.prompt_tokens, row.completion_tokens, row.status) == (7, 5, 200)


def test_stream_broken_after_usage(relay: Running, scripted: ScriptedEngine) -> None:
    """An engine that dies after the usage event: everything it sent is relayed, then an error, no [DONE]."""
    scripted.script = [event({"role": "assistant"}) + event({"content": "frei"}) + event({}, "stop"), USAGE]
    scripted.close_after = True
    events = stream(relay, stream_options={"include_usage": True})
    assert "[DONE]" not in events
    assert deltas(events, "content") == "frei"
    assert {**orjson.loads(USAGE[6:]), "model": "fake"} in events
    error = events[-1]
    assert isinstance(error, dict) and error["error"]["code"] == "stream_broken"  # type: ignore[index]
