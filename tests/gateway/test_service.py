"""The running service with the real embedded model: the official OpenAI SDK, canaries, durability."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from openai import OpenAI

from tests.conftest import Service

pytestmark = [pytest.mark.model, pytest.mark.slow]


def sdk(service: Service) -> OpenAI:
    return OpenAI(base_url=service.url + "/v1", api_key=service.admin_key, max_retries=0)


def test_sdk_completion_on_embedded_model(service: Service) -> None:
    """The unmodified OpenAI SDK gets a real answer from the embedded SmolLM2 model."""
    client = sdk(service)
    models = [m.id for m in client.models.list().data]
    answer = client.chat.completions.create(
        model=models[0], messages=[{"role": "user", "content": "Name one organ of the chest."}], max_tokens=16
    )
    assert answer.choices[0].message.content
    assert answer.usage is not None and answer.usage.completion_tokens > 0
    assert answer.model == models[0]


def test_sdk_stream_on_embedded_model(service: Service) -> None:
    """Streaming through the SDK yields text deltas from the real engine."""
    client = sdk(service)
    model = client.models.list().data[0].id
    stream = client.chat.completions.create(
        model=model, messages=[{"role": "user", "content": "Count to three."}], max_tokens=12, stream=True
    )
    text = "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices)
    assert text.strip()


def test_model_digest_is_recorded(service: Service) -> None:
    """The bundled GGUF's SHA-256 digest is shown in the model list."""
    models = sdk(service).models.with_raw_response.list().http_response.json()["data"]
    assert models[0]["digest"].startswith("sha256:") and len(models[0]["digest"]) == 7 + 64


def _dump_database(path: str) -> str:
    with sqlite3.connect(path) as db:
        tables = [row[0] for row in db.execute("select name from sqlite_master where type='table'")]
        rows = [repr(db.execute(f'select * from "{t}"').fetchall()) for t in tables]  # noqa: S608
    return "\n".join(rows)


def test_canaries_never_reach_logs_database_or_metrics(service: Service) -> None:
    """Unique markers in prompts and answers appear in no log line, no table, no database file, no metric."""
    canary = f"CANARY{uuid.uuid4().hex}"
    client = sdk(service)
    model = client.models.list().data[0].id
    markers = {canary}
    for stream in (False, True):
        prompt = f"Repeat exactly: {canary} Patient Erika Mustermann, geb. 01.02.1960, Befund links."
        if stream:
            parts = client.chat.completions.create(
                model=model, messages=[{"role": "user", "content": prompt}], max_tokens=24, stream=True
            )
            answer = "".join(c.choices[0].delta.content or "" for c in parts if c.choices)
        else:
            response = client.chat.completions.create(
                model=model, messages=[{"role": "user", "content": prompt}], max_tokens=24
            )
            answer = response.choices[0].message.content or ""
        if len(answer.strip()) >= 16:  # the model's own words are content too
            markers.add(answer.strip()[:40])
    markers.add("Erika Mustermann")
    metrics = httpx.get(
        service.url + "/metrics", headers={"authorization": f"Bearer {service.admin_key}"}
    ).text
    haystacks = {"metrics": metrics, "tables": _dump_database(str(service.data_dir / "medvault.db"))}
    for path in [*service.data_dir.rglob("*.log"), service.output, *service.data_dir.glob("medvault.db*")]:
        haystacks[str(path)] = path.read_bytes().decode("utf-8", "replace")
    assert len(haystacks) >= 5
    for name, text in haystacks.items():
        for marker in markers:
            assert marker not in text, f"{marker!r} leaked into {name}"


def test_gateway_logs_are_one_json_object_per_line(service: Service) -> None:
    """Every line the gateway writes is a JSON object with an event, a level and a UTC timestamp."""
    sdk(service).models.list()
    logs = sorted((service.data_dir / "logs").glob("gateway*.log"))  # gateway.log, or one per worker
    lines = [line for log in logs for line in log.read_text().splitlines()]
    assert lines
    for line in lines:
        record = json.loads(line)
        assert {"event", "level", "timestamp"} <= set(record), line
        assert record["timestamp"].endswith("Z")


def test_audit_chain_verifies_after_traffic(service: Service) -> None:
    """`medvault audit verify` accepts the chain the running service wrote."""
    sdk(service).models.list()
    result = service.cli("audit", "verify", "--json", check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert json.loads(result.stdout)["ok"] is True


def test_killed_gateway_loses_no_completed_audit_event(service: Service) -> None:
    """Concurrent requests answered just before a SIGKILL of the gateway all have their audit event."""
    marker = uuid.uuid4().hex[:12]  # with 4 hex digits: a request id
    headers = {"authorization": f"Bearer {service.admin_key}"}

    def ask(index: int) -> int:
        with httpx.Client(base_url=service.url, headers=headers) as client:
            return client.get("/v1/models", headers={"x-request-id": f"{marker}{index:04x}"}).status_code

    # Ten at a time, so that events share group commits, as they do under load.
    with ThreadPoolExecutor(max_workers=10) as pool:
        assert list(pool.map(ask, range(40))) == [200] * 40
    state = json.loads((service.data_dir / "run" / "supervisor.json").read_text())
    gateway_pids = [p["pid"] for p in state["processes"] if p["name"].startswith("gateway")]
    assert gateway_pids  # one, or one per worker: every one of them is killed
    for pid in gateway_pids:
        os.kill(pid, signal.SIGKILL)
    with sqlite3.connect(service.data_dir / "medvault.db") as db:
        count = db.execute(
            "select count(*) from audit_events where request_id like ?", (f"{marker}%",)
        ).fetchone()[0]
    assert count == 40
    deadline = time.monotonic() + 60  # the supervisor restarts the gateway
    while time.monotonic() < deadline:
        try:
            if httpx.get(service.url + "/readyz", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            time.sleep(0.3)
    assert httpx.get(service.url + "/readyz", timeout=2).status_code == 200
