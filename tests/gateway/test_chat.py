"""The chat completions route: answers, streams, reasoning, and every error a client can meet."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx
import orjson
import pytest

from medvault.store import Role
from tests.gateway.conftest import Engine, Running, make_settings, open_store, serve

CHAT = "/v1/chat/completions"


def ask(text: str, **extra: object) -> dict[str, object]:
    return {"model": "fake", "messages": [{"role": "user", "content": text}], **extra}


def sse(response: httpx.Response) -> list[dict[str, object] | str]:
    events: list[dict[str, object] | str] = []
    for line in response.iter_lines():
        if line.startswith("data: "):
            data = line[6:]
            events.append(data if data == "[DONE]" else orjson.loads(data))
    return events


def test_completion_is_proxied_with_overhead_header(gateway: Running) -> None:
    """A plain completion comes back with the gateway's model id, token usage and overhead header."""
    with gateway.client() as client:
        response = client.post(CHAT, json=ask("Befund"))
    assert response.status_code == 200
    body = response.json()
    assert body["model"] == "fake"
    assert body["choices"][0]["message"]["content"] == "Die Lunge ist frei. "
    assert body["usage"]["completion_tokens"] == 4
    assert float(response.headers["x-medvault-overhead-ms"]) >= 0
    assert response.headers["x-request-id"]


def test_stream_relays_chunks_and_done(gateway: Running) -> None:
    """A streamed completion relays every chunk and ends with [DONE], without usage unless asked."""
    with gateway.client() as client, client.stream("POST", CHAT, json=ask("Befund", stream=True)) as response:
        events = sse(response)
    assert response.status_code == 200
    assert events[-1] == "[DONE]"
    text = "".join(e["choices"][0]["delta"].get("content", "") for e in events[:-1])  # type: ignore[index]
    assert text.startswith("Die Lunge ist frei.")
    assert all(isinstance(e, str) or e["choices"] for e in events)


def test_stream_usage_only_when_asked(gateway: Running) -> None:
    """`stream_options.include_usage` gets the usage chunk through."""
    payload = ask("Befund", stream=True, stream_options={"include_usage": True})
    with gateway.client() as client, client.stream("POST", CHAT, json=payload) as response:
        events = sse(response)
    usage = [e for e in events if isinstance(e, dict) and e.get("usage")]
    assert usage and usage[0]["usage"]["completion_tokens"] == 16  # type: ignore[index]


@pytest.mark.parametrize("cue", ["__think__", "__reasoning__"])
def test_reasoning_is_separated(gateway: Running, cue: str) -> None:
    """Both a <think> block and vLLM's reasoning field end up in `reasoning_content`."""
    with gateway.client() as client:
        message = client.post(CHAT, json=ask(cue)).json()["choices"][0]["message"]
    assert message["content"] == "Die Lunge ist frei. "
    assert message["reasoning_content"] == "Befund prüfen."


def test_streamed_reasoning_is_separated(gateway: Running) -> None:
    """Streamed <think> text never reaches `content`."""
    with (
        gateway.client() as client,
        client.stream("POST", CHAT, json=ask("__think__", stream=True)) as response,
    ):
        events = [e for e in sse(response) if isinstance(e, dict)]
    deltas = [e["choices"][0]["delta"] for e in events]  # type: ignore[index]
    content = "".join(d.get("content") or "" for d in deltas)
    reasoning = "".join(d.get("reasoning_content") or "" for d in deltas)
    assert "<think>" not in content and "Befund prüfen" in reasoning
    assert "Befund" not in content.split("Die")[0]


@pytest.mark.parametrize(
    ("body", "status", "needle"),
    [
        (b"{not json", 400, "not valid JSON"),
        (b"", 400, "empty"),
        (b"[1, 2]", 422, "JSON object"),
        (orjson.dumps({"model": "fake"}), 422, "`messages`"),
        (
            orjson.dumps({"model": "fake", "messages": [{"role": "wizard", "content": "x"}]}),
            422,
            "messages[0].role",
        ),
        (orjson.dumps(ask("x", temperature=5)), 422, "`temperature`"),
        (orjson.dumps({**ask("x"), "model": "gpt-9"}), 404, "no such model; available: fake"),
        (orjson.dumps(ask("x" * 5000)), 413, "limit"),
        (orjson.dumps(ask("__error400__")), 400, "engine refused the request"),
    ],
)
def test_bad_requests_get_openai_errors(gateway: Running, body: bytes, status: int, needle: str) -> None:
    """Each kind of bad input gets its status and an OpenAI-shaped error naming the problem."""
    with gateway.client() as client:
        response = client.post(CHAT, content=body, headers={"content-type": "application/json"})
    assert response.status_code == status
    error = response.json()["error"]
    assert needle in error["message"]
    assert set(error) >= {"message", "type", "code"}


def test_missing_and_revoked_keys_are_401(gateway: Running) -> None:
    """No key, a wrong key and a revoked key are all refused with 401."""
    with httpx.Client(base_url=gateway.url) as client:
        assert client.post(CHAT, json=ask("x")).status_code == 401
        assert client.get("/v1/models", headers={"authorization": "Bearer mv-wrong"}).status_code == 401
    with gateway.client() as client:
        assert client.get("/v1/models").status_code == 200
        gateway.store.revoke_key(gateway.key_id)
        response = client.get("/v1/models")
    assert response.status_code == 401
    assert response.json()["error"]["type"] == "authentication_error"


def test_every_api_answer_carries_the_overhead_header(gateway: Running) -> None:
    """Listings, refusals and validation errors carry `x-medvault-overhead-ms` and a request id too."""
    with httpx.Client(base_url=gateway.url) as anonymous, gateway.client() as client:
        answers = [
            client.get("/v1/models"),
            anonymous.post(CHAT, json=ask("x")),
            client.post(CHAT, json={"model": "fake"}),
            client.post(CHAT, json=ask("x", model="nope")),
        ]
    assert [a.status_code for a in answers] == [200, 401, 422, 404]
    for answer in answers:
        assert float(answer.headers["x-medvault-overhead-ms"]) >= 0
        assert answer.headers["x-request-id"]


def test_api_routes_skip_the_page_middleware_but_not_their_methods(gateway: Running) -> None:
    """API answers have no page security headers; a wrong method still gets the OpenAI-shaped 405."""
    with gateway.client() as client:
        listed = client.get("/v1/models")
        wrong = client.delete("/v1/models")
    assert "content-security-policy" not in listed.headers
    assert wrong.status_code == 405
    assert set(wrong.json()["error"]) >= {"message", "type", "code"}


def test_metrics_need_admin_or_auditor(gateway: Running) -> None:
    """A clinician's key is authenticated but refused (403) on /metrics; an admin's is served."""
    with gateway.client() as client:
        assert client.get("/metrics").status_code == 403
    with gateway.client(gateway.admin_key) as client:
        response = client.get("/metrics")
    assert response.status_code == 200
    assert "medvault_requests_total" in response.text


def test_health_routes_need_no_key(gateway: Running) -> None:
    """/healthz and /readyz answer without a key; readiness reflects the engine."""
    with httpx.Client(base_url=gateway.url) as client:
        assert client.get("/healthz").json() == {"status": "ok"}
        ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["models"] == {"fake": True}


def test_unknown_route_is_openai_shaped(gateway: Running) -> None:
    """A wrong path still answers in the OpenAI error shape."""
    with gateway.client() as client:
        response = client.get("/v1/nothing")
    assert response.status_code == 404
    assert "error" in response.json()


def test_engine_dying_mid_stream_sends_error_event(gateway: Running) -> None:
    """An engine that dies mid-answer yields an SSE error event, then the stream ends cleanly."""
    with (
        gateway.client() as client,
        client.stream("POST", CHAT, json=ask("__die__", stream=True)) as response,
    ):
        events = sse(response)
    assert response.status_code == 200
    assert isinstance(events[-1], dict) and "error" in events[-1]
    assert "[DONE]" not in events


def test_engine_timeout_is_504(gateway: Running) -> None:
    """An engine that does not answer within the limit gives 504."""
    with gateway.client() as client:
        response = client.post(CHAT, json=ask("__hang__"))
    assert response.status_code == 504
    assert response.json()["error"]["code"] == "backend_timeout"


def test_engine_down_is_503(tmp_path: Path) -> None:
    """With no engine listening, the model is not ready and requests get 503."""
    settings = make_settings(tmp_path, ["http://127.0.0.1:9/v1"])
    store = open_store(settings)
    _, key = store.create_key("alice", Role.CLINICIAN)
    with (
        serve(settings, store) as url,
        httpx.Client(base_url=url, headers={"authorization": f"Bearer {key}"}) as c,
    ):
        assert c.get("/readyz").status_code == 503
        response = c.post(CHAT, json=ask("x"))
    store.close()
    assert response.status_code == 503
    assert "no healthy replica" in response.json()["error"]["message"]


def test_client_disconnect_cancels_engine_request(gateway: Running, engine: Engine) -> None:
    """When the client goes away mid-stream the engine's request is cancelled too."""
    with (
        gateway.client() as client,
        client.stream(
            "POST", CHAT, json=ask("__slow__", stream=True), headers={"x-request-id": "d15c0000000000000001"}
        ) as response,
    ):
        lines = response.iter_lines()
        for _ in range(3):
            next(lines)
    deadline = time.monotonic() + 5
    while engine.stats()["cancelled"] < 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert engine.stats()["cancelled"] >= 1
    assert _audited_status(gateway, "d15c0000000000000001") == 499


def test_client_disconnect_cancels_plain_request(gateway: Running, engine: Engine) -> None:
    """A non-streamed request whose client disconnects is cancelled at the engine."""

    with gateway.client(timeout=0.5) as client, pytest.raises(httpx.ReadTimeout):
        client.post(CHAT, json=ask("__hang__"), headers={"x-request-id": "d15c0000000000000002"})
    deadline = time.monotonic() + 5
    while engine.stats()["cancelled"] < 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert engine.stats()["cancelled"] >= 1
    assert _audited_status(gateway, "d15c0000000000000002") == 499


def test_client_leaving_before_the_first_token_cancels_the_engine(gateway: Running, engine: Engine) -> None:
    """A stream whose client leaves while the engine is still silent is cancelled and audited 499."""
    before = engine.stats()["cancelled"]
    with gateway.client(timeout=0.5) as client, pytest.raises(httpx.ReadTimeout):
        payload = ask("__hang__", stream=True)
        with client.stream(
            "POST", CHAT, json=payload, headers={"x-request-id": "d15c0000000000000003"}
        ) as response:
            response.read()
    deadline = time.monotonic() + 5
    while engine.stats()["cancelled"] <= before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert engine.stats()["cancelled"] > before
    assert _audited_status(gateway, "d15c0000000000000003") == 499


def _audited_status(gateway: Running, request_id: str) -> int | None:
    """The audited status of one request, waiting briefly for its event to be committed."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        found = [e.event.status for e in gateway.store.audit_events() if e.event.request_id == request_id]
        if found:
            return found[0]
        time.sleep(0.05)
    return None


def test_models_lists_configured_models(gateway: Running) -> None:
    """/v1/models lists the configured model ids in OpenAI's list shape."""
    with gateway.client() as client:
        body = client.get("/v1/models").json()
    assert body["object"] == "list"
    assert [m["id"] for m in body["data"]] == ["fake"]


def test_every_call_leaves_one_audit_event(gateway: Running) -> None:
    """Served, refused and failed calls each write one audit event with ids and counts only."""
    with gateway.client() as client:
        ok = client.post(CHAT, json=ask("Befund"), headers={"x-request-id": "0c0000000000000000000001"})
        client.post(CHAT, json=ask("x", temperature=9), headers={"x-request-id": "0c0000000000000000000002"})
    with httpx.Client(base_url=gateway.url) as anonymous:
        anonymous.get("/v1/models", headers={"x-request-id": "0c0000000000000000000003"})
    events = {e.event.request_id: e.event for e in gateway.store.audit_events()}
    served = events["0c0000000000000000000001"]
    assert ok.status_code == 200
    assert (served.action, served.status, served.user, served.role) == (
        "chat.completions",
        200,
        "alice",
        "clinician",
    )
    assert (served.prompt_tokens, served.completion_tokens, served.model_id) == (11, 4, "fake")
    assert served.latency_ms is not None and served.client_kind == "api"
    assert events["0c0000000000000000000002"].status == 422
    assert (
        events["0c0000000000000000000003"].status == 401 and events["0c0000000000000000000003"].user is None
    )
    assert gateway.store.verify_audit_chain().ok


def test_rate_limit_per_key(tmp_path: Path, engine: Engine) -> None:
    """Past `limits.rate_limit_per_minute` a key gets 429 in OpenAI shape."""
    settings = make_settings(tmp_path, [engine.url], limits={"rate_limit_per_minute": 3})
    store = open_store(settings)
    _, key = store.create_key("alice", Role.CLINICIAN)
    with (
        serve(settings, store) as url,
        httpx.Client(base_url=url, headers={"authorization": f"Bearer {key}"}) as c,
    ):
        statuses = [c.get("/v1/models").status_code for _ in range(5)]
    store.close()
    assert statuses == [200, 200, 200, 429, 429]


def test_gateway_audits_on_each_database(tmp_path: Path, engine: Engine, db_url: str) -> None:
    """Concurrent requests are audited, chained and verifiable on SQLite and PostgreSQL alike."""
    settings = make_settings(tmp_path, [engine.url], database_url=db_url)
    store = open_store(settings)
    _, key = store.create_key("alice", Role.CLINICIAN)
    with serve(settings, store) as url:

        async def burst() -> list[int]:
            headers = {"authorization": f"Bearer {key}"}
            async with httpx.AsyncClient(base_url=url, headers=headers, timeout=30) as client:
                calls = [client.post(CHAT, json=ask("Befund")) for _ in range(40)]
                return [r.status_code for r in await asyncio.gather(*calls)]

        statuses = asyncio.run(burst())
    events = [e.event for e in store.audit_events() if e.event.action == "chat.completions"]
    report = store.verify_audit_chain()
    store.close()
    assert statuses == [200] * 40
    assert len(events) == 40
    assert report.ok and report.checked >= 40
