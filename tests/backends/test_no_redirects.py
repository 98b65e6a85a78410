"""No engine can send MedVault elsewhere with a redirect (docs/security-model.md): a fake engine answers
`307 Location: <a second loopback listener>` and that listener must see no connection, from the gateway's
chat relay (plain and streamed: a 502 naming the redirect), its health probe, queue poll and tokenizer
call, or the supervisor's readiness probe (not ready). Controls: the same engine without the cue answers
200 and is ready, and the listener does count a connection made to it directly."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import threading
import urllib.error
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import aiohttp
import httpx
import orjson
import pytest
from structlog.testing import capture_logs

from medvault.backends import ModelRouter, QueueDepth
from medvault.backends._tokens import _ask
from medvault.backends._upstream import Replica, probe
from medvault.store import Role
from medvault.supervisor._netns import http_ok
from medvault.tls import direct_opener
from tests.gateway.conftest import REPO, free_port, make_settings, open_store, serve, wait_http

CHAT = "/v1/chat/completions"
CANARY = "PATIENT" + uuid.uuid4().hex
ELSEWHERE = "/ENGINE-CHOSEN"  # the path the engine's Location names on the listener


class _Elsewhere(ThreadingHTTPServer):
    """The host an engine would like MedVault to reach: answers everything with 200 and a plausible
    body (so that a followed redirect would look like success) and records every connection."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _ElsewhereHandler)
        self.connections: list[tuple[str, int]] = []
        self.bodies: list[bytes] = []

    def verify_request(self, request: Any, client_address: Any) -> bool:
        self.connections.append(client_address)
        return True

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_port}"


class _ElsewhereHandler(BaseHTTPRequestHandler):
    server: _Elsewhere

    def do_GET(self) -> None:
        if self.path.endswith("/metrics"):
            self._answer("text/plain", b"vllm:num_requests_waiting 42\n")
        else:
            self._answer("application/json", b'{"object": "list", "data": [{"id": "elsewhere"}]}')

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("content-length", 0)))
        self.server.bodies.append(body)
        if b'"stream":true' in body:
            chunk = {"choices": [{"index": 0, "delta": {"content": "x"}, "finish_reason": "stop"}]}
            self._answer("text/event-stream", b"data: " + orjson.dumps(chunk) + b"\n\ndata: [DONE]\n\n")
        else:
            message = {"role": "assistant", "content": "from elsewhere"}
            answer = {"object": "chat.completion", "choices": [{"index": 0, "message": message}], "count": 3}
            self._answer("application/json", orjson.dumps(answer))

    def _answer(self, content_type: str, body: bytes) -> None:
        self.send_response(200)
        self.send_header("content-type", content_type)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def elsewhere() -> Iterator[_Elsewhere]:
    server = _Elsewhere()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def _start_engine(*args: str) -> Iterator[str]:
    port = free_port()
    argv = [sys.executable, "-m", "tests.fakes.engine", "--port", str(port), *args]
    process = subprocess.Popen(argv, cwd=REPO)
    try:
        url = f"http://127.0.0.1:{port}/v1"
        wait_http(url + "/models")
        yield url
    finally:
        process.kill()
        process.wait()


@pytest.fixture(scope="module")
def engine(elsewhere: _Elsewhere) -> Iterator[str]:
    """Serves as usual; redirects a chat request whose last message says `__redirect__`."""
    yield from _start_engine("--redirect-to", elsewhere.url + ELSEWHERE + CHAT)


@pytest.fixture(scope="module")
def redirecting(elsewhere: _Elsewhere) -> Iterator[str]:
    """Redirects every request, /v1/models and /metrics included."""
    yield from _start_engine("--redirect-all", "--redirect-to", elsewhere.url + ELSEWHERE)


@pytest.fixture
def untouched(elsewhere: _Elsewhere) -> Iterator[None]:
    """The test must make no connection to the listener."""
    before = len(elsewhere.connections), len(elsewhere.bodies)
    yield
    assert elsewhere.connections[before[0] :] == [] and elsewhere.bodies[before[1] :] == []


def ask(text: str, stream: bool) -> dict[str, Any]:
    return {"model": "fake", "messages": [{"role": "user", "content": f"{text} {CANARY}"}], "stream": stream}


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory, engine: str) -> Iterator[tuple[str, str]]:
    tmp_path = tmp_path_factory.mktemp("gateway")
    settings = make_settings(tmp_path, [engine], limits={"request_timeout_s": 5, "first_token_timeout_s": 5})
    store = open_store(settings)
    _, key = store.create_key("alice", Role.CLINICIAN)
    with serve(settings, store) as url:
        yield url, key
    store.close()


def test_the_listener_counts_connections(elsewhere: _Elsewhere) -> None:
    """Control: a request made to the listener itself is counted (so "no connection" means something)."""
    before = len(elsewhere.connections)
    assert httpx.get(elsewhere.url + "/v1/models").status_code == 200
    assert len(elsewhere.connections) == before + 1


@pytest.mark.parametrize("stream", [False, True])
def test_gateway_does_not_follow_an_engines_redirect(
    gateway: tuple[str, str], untouched: None, stream: bool
) -> None:
    """The chat body (the patient's prompt) is not re-sent to where the engine points: the client gets
    a 502 saying the engine redirected; the log has the status and category, not the Location."""
    url, key = gateway
    with (
        capture_logs() as logs,
        httpx.Client(base_url=url, headers={"authorization": f"Bearer {key}"}) as client,
    ):
        response = client.post(CHAT, json=ask("__redirect__", stream), timeout=30)
    assert response.status_code == 502, response.text
    error = response.json()["error"]
    assert error["code"] == "engine_redirected"
    assert error["message"].startswith("the inference engine answered with a redirect (engine status 307)")
    assert ELSEWHERE not in response.text and CANARY not in response.text
    [logged] = [e for e in logs if e["event"] == "engine_error"]
    assert logged["status"] == 307 and logged["category"] == "engine_redirected"
    assert ELSEWHERE not in repr(logs) and CANARY not in repr(logs)


@pytest.mark.parametrize("stream", [False, True])
def test_gateway_control_the_same_engine_answers_without_the_cue(
    gateway: tuple[str, str], untouched: None, stream: bool
) -> None:
    """Control: without `__redirect__` the same engine, through the same gateway, answers 200."""
    url, key = gateway
    with httpx.Client(base_url=url, headers={"authorization": f"Bearer {key}"}) as client:
        response = client.post(CHAT, json=ask("hello", stream), timeout=30)
    assert response.status_code == 200, response.text
    assert "Lunge" in response.text


async def _engine_calls(base: str) -> tuple[str | None, float, BaseException | None]:
    """The router's health probe, the queue poll and the tokenizer call, made to `base` as the gateway
    makes them; the tokenizer's failure (or None)."""
    replica = Replica("fake#0", base)
    async with aiohttp.ClientSession(trust_env=False) as session:
        problem = await probe(session, replica, 5.0)
        depth = await QueueDepth([ModelRouter("fake", [replica])], deep_at=1).refresh(session, 5.0)
        failure: BaseException | None = None
        try:
            await _ask(session, replica, "vllm", None, CANARY)
        except aiohttp.ClientResponseError as exc:
            failure = exc
    return problem, depth, failure


def test_gateway_probes_polls_and_tokenizer_follow_no_redirect(redirecting: str, untouched: None) -> None:
    """An engine redirecting everything is unhealthy ("HTTP 307"), reports no queue, and its tokenizer
    call fails with the 307; the listener (which would say healthy, 42 waiting, 3 tokens) is not asked."""
    problem, depth, failure = asyncio.run(_engine_calls(redirecting))
    assert problem == "HTTP 307"
    assert depth == 0.0
    assert isinstance(failure, aiohttp.ClientResponseError) and failure.status == 307


def test_gateway_probes_control_the_listener_answers_them(elsewhere: _Elsewhere) -> None:
    """Control: asked directly, the listener is healthy, 42 deep and counts 3 tokens (so the 307 above,
    had it been followed, would have shown)."""
    problem, depth, failure = asyncio.run(_engine_calls(elsewhere.url + ELSEWHERE + "/v1"))
    assert (problem, depth, failure) == (None, 42.0, None)


def test_readiness_probe_does_not_follow_a_redirect(redirecting: str, untouched: None) -> None:
    """The supervisor's readiness probe (`direct_opener`) of a redirecting engine says not ready; the
    opener raises the 307 as an HTTPError instead of following it."""
    assert asyncio.run(http_ok(redirecting + "/models")) is False
    with pytest.raises(urllib.error.HTTPError) as raised:
        direct_opener().open(redirecting + "/models", timeout=5)
    assert raised.value.code == 307


def test_readiness_probe_control_an_engine_that_answers_is_ready(engine: str, untouched: None) -> None:
    """Control: the same probe of an engine that answers 200 says ready."""
    assert asyncio.run(http_ok(engine + "/models")) is True
    with direct_opener().open(engine + "/models", timeout=5) as response:
        assert response.status == 200
