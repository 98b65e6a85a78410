"""The API's answers are hardened: engine errors without engine internals, plain request ids only, the
schema behind a key, auditors kept from the models, auth before the body, no-store and nosniff on every
answer, and no redirect built from the client's Host header."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import orjson
import pytest
from structlog.testing import capture_logs

from medvault.store import Role
from tests.fakes.engine import INTERNALS_MARK
from tests.gateway.conftest import Engine, LogEvent, Running

CHAT = "/v1/chat/completions"
CANARY = "CANARY" + uuid.uuid4().hex
_OUR_ID = re.compile(r"[0-9a-f]{24}")


def ask(text: str, **extra: object) -> dict[str, object]:
    return {"model": "fake", "messages": [{"role": "user", "content": f"{text} {CANARY}"}], **extra}


def sse(lines: list[str]) -> list[Any]:
    return [orjson.loads(line[6:]) for line in lines if line.startswith("data: {")]


@pytest.fixture
def logs() -> Iterator[list[LogEvent]]:
    """The gateway's structlog events while the test runs (the gateway is a thread of this process)."""
    with capture_logs() as captured:
        yield captured


def _audit(gateway: Running, request_id: str) -> Any:
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        found = [e.event for e in gateway.store.audit_events() if e.event.request_id == request_id]
        if found:
            return found[0]
        time.sleep(0.05)
    raise AssertionError(f"no audit event for {request_id}")


@pytest.mark.parametrize(
    ("cue", "status", "code", "message"),
    [
        (
            "__error400__",
            400,
            "engine_rejected",
            "the inference engine refused the request (engine status 4xx)",
        ),
        ("__error500__", 502, "engine_failed", "the inference engine failed (engine status 5xx)"),
        ("__context__", 400, "context_length_exceeded", "the prompt and max_tokens do not fit"),
    ],
)
@pytest.mark.parametrize("stream", [False, True])
def test_engine_errors_reach_the_client_without_internals(
    gateway: Running, logs: list[LogEvent], cue: str, status: int, code: str, message: str, stream: bool
) -> None:
    """An engine's error body (traceback, request echo) becomes a fixed OpenAI-shaped error; the log
    keeps the engine's status and a category only."""
    with gateway.client() as client:
        response = client.post(CHAT, json=ask(cue, stream=stream))
    assert response.status_code == status
    error = response.json()["error"]
    assert error["code"] == code and error["message"].startswith(message)
    assert INTERNALS_MARK not in response.text and CANARY not in response.text
    [logged] = [e for e in logs if e["event"] == "engine_error"]
    assert logged["category"] == code and logged["status"] == {400: 400, 502: 500}[status]
    assert INTERNALS_MARK not in repr(logs) and CANARY not in repr(logs)


@pytest.mark.parametrize(
    ("cue", "status", "code", "retry_after"),
    [
        ("__error401__", 502, "engine_misconfigured", None),
        ("__error403__", 502, "engine_misconfigured", None),
        ("__error404__", 502, "engine_misconfigured", None),
        ("__error429:7__", 503, "engine_busy", "7"),
        ("__error429__", 503, "engine_busy", "5"),
        ("__error429:Wed, 21 Oct 2015 07:28:00 GMT__", 503, "engine_busy", "5"),
        ("__error429:86400__", 503, "engine_busy", "5"),
        ("__error429:-3__", 503, "engine_busy", "5"),
    ],
)
@pytest.mark.parametrize("stream", [False, True])
def test_engine_refusals_that_are_not_the_clients_fault(
    gateway: Running,
    logs: list[LogEvent],
    cue: str,
    status: int,
    code: str,
    retry_after: str | None,
    stream: bool,
) -> None:
    """An engine's 401/403/404 is the gateway's misconfiguration (502), its 429 a busy engine (503 with
    `Retry-After`: the engine's when it is a small whole number, else 5); no engine internals leak."""
    with gateway.client() as client:
        response = client.post(CHAT, json=ask(cue, stream=stream))
    assert response.status_code == status
    assert response.json()["error"]["code"] == code
    assert response.headers.get("retry-after") == retry_after
    assert INTERNALS_MARK not in response.text and CANARY not in response.text
    [logged] = [e for e in logs if e["event"] == "engine_error"]
    assert logged["category"] == code and logged["status"] == int(cue[7:10])
    assert INTERNALS_MARK not in repr(logs) and CANARY not in repr(logs)


@pytest.mark.parametrize("cue", ["__error_event__", "__die__"])
def test_engine_failing_mid_stream_gives_a_fixed_error_event(
    gateway: Running, logs: list[LogEvent], cue: str
) -> None:
    """An error event or a dead connection mid-stream reaches the client as a fixed error event."""
    with gateway.client() as client, client.stream("POST", CHAT, json=ask(cue, stream=True)) as response:
        lines = list(response.iter_lines())
    assert response.status_code == 200
    text = "\n".join(lines)
    error = sse(lines)[-1]["error"]
    assert error["message"] == "inference engine fake#0 broke off its answer"
    assert error["type"] == "server_error"
    assert INTERNALS_MARK not in text and CANARY not in text
    assert INTERNALS_MARK not in repr(logs) and CANARY not in repr(logs)
    assert any(e["event"] == "engine_error" for e in logs)


def test_engine_down_names_no_address(tmp_path: Any) -> None:
    """A refused connection is a 503 that does not tell the client where the engine listens."""
    from tests.gateway.conftest import make_settings, open_store, serve

    settings = make_settings(tmp_path, ["http://127.0.0.1:9/v1"])
    store = open_store(settings)
    _, key = store.create_key("alice", Role.CLINICIAN)
    with serve(settings, store) as url, httpx.Client(base_url=url) as client:
        response = client.post(CHAT, json=ask("x"), headers={"authorization": f"Bearer {key}"})
    store.close()
    assert response.status_code == 503
    assert "127.0.0.1" not in response.text and "Errno" not in response.text


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("0b5d3c5e-8f7a-4d2b-9c1e-3a4f5b6c7d8e", True),
        ("0B5D3C5E-8F7A-4D2B-9C1E-3A4F5B6C7D8E", True),
        ("a" * 16, True),
        ("a" * 64, True),
        ("a" * 15, False),
        ("a" * 65, False),
        ("0b5d3c5e-8f7a-4d2b-9c1e-3a4f5b6c7d8", False),
        ("Erika.Mustermann:1970-01-01", False),
        ("req-1.2:3_x", False),
        (f"{CANARY} Erika Mustermann", False),
        ("x;drop table", False),
        ("", False),
        ("ä-latin1", False),
    ],
)
def test_request_ids_are_kept_only_when_plain(gateway: Running, given: str, kept: bool) -> None:
    """A client's x-request-id reaches the audit and the answer only if it fits the strict pattern."""
    with gateway.client() as client:
        response = client.get("/v1/models", headers={b"x-request-id": given.encode("latin-1")})
    request_id = response.headers["x-request-id"]
    assert (request_id == given) is kept
    if not kept:
        assert _OUR_ID.fullmatch(request_id)
    assert _audit(gateway, request_id).request_id == request_id
    assert CANARY not in repr([e.event for e in gateway.store.audit_events()])


def test_openapi_document_needs_a_key(gateway: Running) -> None:
    """/openapi.json answers 401 without a valid key and the schema with one; no docs page exists."""
    with httpx.Client(base_url=gateway.url) as anonymous:
        assert anonymous.get("/openapi.json").status_code == 401
        wrong = anonymous.get("/openapi.json", headers={"authorization": "Bearer mv-wrong"})
        assert wrong.status_code == 401
        assert anonymous.get("/docs").status_code == 404
    with gateway.client() as client:
        schema = client.get("/openapi.json")
    assert schema.status_code == 200 and "/api/v1/runs" in schema.json()["paths"]
    assert _audit(gateway, schema.headers["x-request-id"]).action == "openapi.read"


def test_auditor_cannot_run_completions(gateway: Running, engine: Engine) -> None:
    """An auditor's key is refused (403, audited with who) on chat completions; it still reads metrics."""
    _, auditor = gateway.store.create_key("audrey", Role.AUDITOR)
    with gateway.client(auditor) as client:
        refused = client.post(CHAT, json=ask("Befund"))
        metrics = client.get("/metrics")
    assert refused.status_code == 403 and refused.json()["error"]["type"] == "permission_error"
    assert metrics.status_code == 200
    assert engine.stats()["started"] == 0
    event = _audit(gateway, refused.headers["x-request-id"])
    assert (event.action, event.status, event.user, event.role) == (
        "chat.completions",
        403,
        "audrey",
        "auditor",
    )
    with gateway.client() as client:  # positive control: a clinician is served
        assert client.post(CHAT, json=ask("Befund")).status_code == 200


@pytest.mark.parametrize(
    ("body", "judged"),
    [(b"{not json", 400), (b'{"model": 5}', 422), (b"x" * 10_000, 413)],
    ids=["not-json", "invalid", "too-large"],
)
def test_auth_comes_before_the_body(gateway: Running, body: bytes, judged: int) -> None:
    """Without a key, a malformed or oversized body gets 401; with a key the same body is judged."""
    headers = {"content-type": "application/json"}
    with httpx.Client(base_url=gateway.url) as anonymous:
        assert anonymous.post(CHAT, content=body, headers=headers).status_code == 401
    with gateway.client() as client:
        assert client.post(CHAT, content=body, headers=headers).status_code == judged


def _hardened(response: httpx.Response) -> None:
    assert response.headers.get_list("cache-control") == ["no-store"], (response.url, response.headers)
    assert response.headers.get_list("x-content-type-options") == ["nosniff"], (
        response.url,
        response.headers,
    )


def test_every_api_answer_is_no_store_and_nosniff(gateway: Running) -> None:
    """Served, refused, failed and streamed answers, metrics and health all carry both headers once."""
    with (
        httpx.Client(base_url=gateway.url) as anonymous,
        gateway.client() as client,
        gateway.client(gateway.admin_key) as admin,
    ):
        with client.stream("POST", CHAT, json=ask("Befund", stream=True)) as stream:
            stream.read()
        answers = [
            stream,
            client.post(CHAT, json=ask("Befund")),
            client.post(CHAT, json=ask("__error500__")),
            client.post(CHAT, json={"model": "fake"}),
            client.get("/v1/models"),
            client.delete("/v1/models"),
            client.get("/v1/nothing"),
            client.get("/metrics"),
            admin.get("/metrics"),
            client.get("/openapi.json"),
            anonymous.get("/v1/models"),
            anonymous.get("/healthz"),
            anonymous.get("/readyz"),
            anonymous.get("/api/v1/templates"),
        ]
    assert [a.status_code for a in answers] == [
        200,
        200,
        502,
        422,
        200,
        405,
        404,
        403,
        200,
        200,
        401,
        200,
        200,
        401,
    ]
    for answer in answers:
        _hardened(answer)


@pytest.mark.parametrize("path", ["/v1/models/", "/api/v1/templates/", "/metrics/", "/workbench/"])
def test_no_redirect_echoes_the_host_header(gateway: Running, path: str) -> None:
    """A stray trailing slash with a forged Host gets no redirect that points at the forged host."""
    with gateway.client() as client:
        response = client.get(path, headers={"host": "evil.example"})
    assert "evil.example" not in response.headers.get("location", "")
    assert "evil.example" not in response.text
    if path.startswith(("/v1", "/api", "/metrics")):
        assert response.status_code == 404
