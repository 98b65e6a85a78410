"""The embedded engine's queue metrics: `QueueMetrics` counting requests in flight (against a slow fake
ASGI app), and the real engine started through `llama_server_argv` reporting its queue in llama.cpp's
names to `QueueDepth`, with an engine log the supervisor's filter keeps whole and free of request text."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from medvault._engine_server import QueueMetrics, parse_settings
from medvault.backends import ModelRouter, QueueDepth, Replica, llama_server_argv, waiting_in
from medvault.supervisor._output import engine_line
from tests.backends.conftest import EmbeddedEngine, embedded_engine

Message = dict[str, Any]


def gauges(page: str) -> dict[str, float]:
    """The samples of a metrics page, by name."""
    return {s.name: s.value for f in text_string_to_metric_families(page) for s in f.samples}


def queue(page: str) -> tuple[float, float]:
    """(processing, deferred) of a metrics page."""
    found = gauges(page)
    return found["llamacpp:requests_processing"], found["llamacpp:requests_deferred"]


# -- QueueMetrics against a fake engine app ------------------------------------------------------------


class FakeEngine:
    """A slow ASGI app: each request (`steps[i]`, in order of arrival) sends a chunk of its stream when
    the test puts "chunk" or "last" in its queue, waits for the client to go on "disconnect", fails on
    "fail"; after its last chunk it runs on until told "end"."""

    def __init__(self) -> None:
        self.steps: list[asyncio.Queue[str]] = []
        self.returned = 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        steps: asyncio.Queue[str] = asyncio.Queue()
        self.steps.append(steps)
        await receive()  # the request body
        await send({"type": "http.response.start", "status": 200, "headers": []})
        try:
            while (step := await steps.get()) != "end":
                if step == "fail":
                    raise RuntimeError("engine failed")
                if step == "disconnect":
                    assert (await receive())["type"] == "http.disconnect"
                    await asyncio.Event().wait()  # an app that lingers after the client left
                await send(
                    {"type": "http.response.body", "body": b"data: x\n\n", "more_body": step == "chunk"}
                )
        finally:
            self.returned += 1


class Client:
    """One request through the middleware: what it was sent, and whether it disconnected."""

    def __init__(self) -> None:
        self.sent: list[Message] = []
        self.gone = asyncio.Event()

    async def receive(self) -> Message:
        if not self.sent:
            return {"type": "http.request", "body": b"{}", "more_body": False}
        await self.gone.wait()
        return {"type": "http.disconnect"}

    async def send(self, message: Message) -> None:
        self.sent.append(message)


def scope(path: str, method: str = "POST") -> dict[str, Any]:
    return {"type": "http", "method": method, "path": path, "headers": []}


async def request(middleware: QueueMetrics, path: str) -> None:
    client = Client()
    await middleware(scope(path), client.receive, client.send)


async def read_metrics(middleware: QueueMetrics) -> tuple[dict[str, str], str]:
    client = Client()
    await middleware(scope("/metrics", "GET"), client.receive, client.send)
    start, body = client.sent
    assert start["status"] == 200
    return {k.decode(): v.decode() for k, v in start["headers"]}, body["body"].decode()


async def settle(condition: Callable[[], bool]) -> None:
    """Let the event loop run until `condition` holds (a second at most)."""
    for _ in range(1000):
        if condition():
            return
        await asyncio.sleep(0.001)
    raise AssertionError("the condition never held")


def test_requests_in_flight_are_processing_and_deferred() -> None:
    """Three requests on the engine: one processing, two deferred; each finished one leaves the count,
    streamed ones only when their last chunk is sent; a page that says so in llama.cpp's names."""

    async def run() -> None:
        app = FakeEngine()
        middleware = QueueMetrics(app)
        headers, page = await read_metrics(middleware)
        assert headers["content-type"].startswith("text/plain") and queue(page) == (0.0, 0.0)
        tasks = [
            asyncio.create_task(request(middleware, path))
            for path in ("/v1/chat/completions", "/v1/completions", "/v1/embeddings")
        ]
        await settle(lambda: middleware.in_flight == 3)
        _, page = await read_metrics(middleware)
        assert queue(page) == (1.0, 2.0) and waiting_in(page) == 2.0
        await app.steps[0].put("chunk")  # a streamed chunk: still in flight
        await asyncio.sleep(0.01)
        assert middleware.in_flight == 3
        await app.steps[0].put("last")  # the whole body is out: no longer in flight, though the app runs on
        await settle(lambda: middleware.in_flight == 2)
        assert app.returned == 0
        _, page = await read_metrics(middleware)
        assert queue(page) == (1.0, 1.0)
        for steps in app.steps:
            await steps.put("last")
            await steps.put("end")
        await asyncio.gather(*tasks)
        assert middleware.in_flight == 0 and app.returned == 3

    asyncio.run(run())


def test_a_client_that_disconnects_or_an_error_leaves_the_count() -> None:
    """A client gone mid-stream stops counting when the app learns of it (not when the app returns), and
    only once; a failing request stops counting too, its error passed on unchanged."""

    async def run() -> None:
        app = FakeEngine()
        middleware = QueueMetrics(app)
        leaving = Client()
        left = asyncio.create_task(middleware(scope("/v1/chat/completions"), leaving.receive, leaving.send))
        failed = asyncio.create_task(request(middleware, "/v1/completions"))
        await settle(lambda: middleware.in_flight == 2)
        await app.steps[0].put("chunk")
        await app.steps[0].put("disconnect")
        await app.steps[1].put("fail")
        with pytest.raises(RuntimeError, match="engine failed"):
            await failed
        assert middleware.in_flight == 1
        leaving.gone.set()
        await settle(lambda: middleware.in_flight == 0)
        assert not left.done()  # the app still runs: the client's departure is what counted
        left.cancel()
        with pytest.raises(asyncio.CancelledError):
            await left
        assert middleware.in_flight == 0  # counted down once, not again when the app ended

    asyncio.run(run())


def test_other_paths_and_lifespan_pass_through_uncounted() -> None:
    """Health probes, tokenizer calls and the lifespan protocol reach the app and count nothing; only
    `GET /metrics` is answered by the middleware itself."""
    seen: list[str] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen.append(f"{scope['type']} {scope.get('method', '')} {scope.get('path', '')}".strip())
        assert middleware.in_flight == 0

    middleware = QueueMetrics(app)

    async def run() -> None:
        client = Client()
        await middleware({"type": "lifespan"}, client.receive, client.send)
        for path, method in (("/v1/models", "GET"), ("/extras/tokenize/count", "POST"), ("/metrics", "POST")):
            await middleware(scope(path, method), client.receive, client.send)

    asyncio.run(run())
    assert seen == [
        "lifespan",
        "http GET /v1/models",
        "http POST /extras/tokenize/count",
        "http POST /metrics",
    ]


def test_the_engine_command_runs_the_metrics_entry_with_quiet_settings() -> None:
    """The supervisor's command line starts this module, and its parser (llama-cpp-python's own) reads
    every flag: verbose output and the interrupting of streams off, the address and model as given."""
    argv = llama_server_argv(gguf=Path("m.gguf"), alias="m", host="127.0.0.1", port=1, n_ctx=512, threads=1)
    assert argv[1:3] == ["-m", "medvault._engine_server"]
    server, model = parse_settings(argv[3:])
    assert (server.host, server.port, server.interrupt_requests) == ("127.0.0.1", 1, False)
    assert (model.model, model.model_alias, model.n_ctx, model.n_threads, model.verbose) == (
        "m.gguf", "m", 512, 1, False,
    )  # fmt: skip


# -- the real embedded engine ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedEngine]:
    with embedded_engine(tmp_path_factory.mktemp("engine-metrics")) as started:
        yield started


def stream_completion(engine: EmbeddedEngine, prompt: str, max_tokens: int) -> int:
    """One streamed completion, read to its end; returns the number of events."""
    body = {"prompt": prompt, "max_tokens": max_tokens, "temperature": 0, "stream": True}
    with httpx.stream("POST", engine.url + "/completions", json=body, timeout=120) as response:
        assert response.status_code == 200
        return sum(1 for line in response.iter_lines() if line.startswith("data: "))


async def refreshed(engine: EmbeddedEngine) -> float:
    """What the gateway's reader makes of the engine's queue."""
    depth = QueueDepth([ModelRouter("smollm2", [Replica("smollm2#0", engine.url)])], deep_at=1)
    async with aiohttp.ClientSession() as session:
        return await depth.refresh(session)


@pytest.mark.model
@pytest.mark.slow
def test_embedded_engine_reports_its_queue_while_busy(engine: EmbeddedEngine) -> None:
    """Four concurrent streams on the real engine: it reports requests deferred while they run (also
    through `QueueDepth`, as every gateway worker reads it), and none once they are done. Its output
    passes the supervisor's engine-log filter whole, and no prompt text reaches it."""
    canary = f"CANARY{uuid.uuid4().hex}"
    assert queue(engine.metrics()) == (0.0, 0.0)
    seen: list[tuple[float, float]] = []
    depths: list[float] = []
    with ThreadPoolExecutor(4) as pool:
        streams = [pool.submit(stream_completion, engine, f"{canary} Patient {n} has", 48) for n in range(4)]
        deadline = time.monotonic() + 60
        while not all(s.done() for s in streams) and time.monotonic() < deadline:
            seen.append(queue(engine.metrics()))
            if seen[-1][1] >= 1:
                depths.append(asyncio.run(refreshed(engine)))
            time.sleep(0.05)
        assert all(s.result() > 1 for s in streams)
    assert max(deferred for _, deferred in seen) >= 1, seen
    assert all(processing == 1.0 for processing, deferred in seen if deferred), seen
    assert depths and max(depths) >= 1.0, (seen, depths)
    assert queue(engine.metrics()) == (0.0, 0.0)
    assert asyncio.run(refreshed(engine)) == 0.0
    output = engine.output.read_text()
    assert canary not in output
    lines = [line for line in output.splitlines() if line.strip()]
    assert lines and [line for line in lines if engine_line(line) is None] == []
    assert "/metrics" not in output  # the gateways' frequent reads are not logged
    assert "POST /v1/completions" in output  # positive control: other requests are


@pytest.mark.model
@pytest.mark.slow
def test_a_client_leaving_a_real_stream_leaves_the_queue(engine: EmbeddedEngine) -> None:
    """A streamed answer abandoned after its first chunk stops counting within seconds."""
    body = {"prompt": "Once upon a time", "max_tokens": 400, "temperature": 0, "stream": True}
    with httpx.stream("POST", engine.url + "/completions", json=body, timeout=60) as response:
        lines = response.iter_lines()  # kept: closing the iterator would close the stream here
        next(line for line in lines if line.startswith("data: "))
        assert queue(engine.metrics()) == (1.0, 0.0)
    deadline = time.monotonic() + 10
    while queue(engine.metrics()) != (0.0, 0.0) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert queue(engine.metrics()) == (0.0, 0.0)
