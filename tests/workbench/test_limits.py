"""Input limits from the model (tokens, never characters, never cut), engine errors as actionable text,
and the engine hop's timeouts (idle, not total) — over the fake engine and the real embedded model."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from medvault.backends._tokens import (
    DEFAULT_CONTEXT_TOKENS,
    MESSAGE_OVERHEAD_TOKENS,
    TokenCounter,
    estimate,
    estimate_text,
)
from medvault.config import load_settings
from medvault.templates import Template, TemplateLibrary
from medvault.workbench._limits import _skeleton
from tests.conftest import Service
from tests.gateway.conftest import Engine
from tests.workbench.conftest import Bench, make_bench, sse_events

REPORT = "Befund: Kein Pleuraerguss links. Die Lunge ist frei belüftet. Herz normal groß. "


def _template(template_id: str = "report-correction", lang: str = "de") -> Template:
    return TemplateLibrary.load().get(template_id, lang)


def _expected_limit(template_id: str = "report-correction") -> int:
    """The documented rule, with the fake engine's stated estimate (it has no tokenizer)."""
    template = _template(template_id)
    prompt = estimate(template.render(_skeleton(template)))
    return DEFAULT_CONTEXT_TOKENS - prompt - template.sampling.max_tokens


def _tokens(bench: Bench, text: str, template_id: str = "report-correction") -> httpx.Response:
    client, csrf = bench.sign_in()
    body = {"template_id": template_id, "lang": "de", "inputs": {"report": text}}
    return client.post("/api/v1/tokens", json=body, headers={"x-csrf-token": csrf})


def test_templates_carry_their_input_limit_in_tokens(bench: Bench) -> None:
    """Each listed template and its detail carry window − prompt − max_tokens, not a character count."""
    client = bench.api()
    listed = {t["id"]: t for t in client.get("/api/v1/templates", params={"lang": "de"}).json()}
    detail = client.get("/api/v1/templates/report-correction", params={"lang": "de"}).json()
    assert listed["report-correction"]["input_limit_tokens"] == _expected_limit()
    assert detail["input_limit_tokens"] == _expected_limit()
    # A larger answer allowance leaves less room for the input.
    assert listed["translation"]["input_limit_tokens"] == _expected_limit("translation")
    assert listed["translation"]["input_limit_tokens"] < listed["report-correction"]["input_limit_tokens"]


def test_tokens_endpoint_counts_against_the_limit_and_needs_csrf(bench: Bench) -> None:
    """POST /tokens counts the inputs (stated estimate without a tokenizer) and says when they are over;
    a session without its CSRF token is refused, as for every POST."""
    limit = _expected_limit()
    under = _tokens(bench, REPORT)
    assert under.status_code == 200, under.text
    assert under.json() == {"tokens": estimate_text(REPORT), "limit": limit, "over": False, "exact": False}
    over = _tokens(bench, "x" * (2 * limit + 2)).json()
    assert over["over"] is True and over["tokens"] == limit + 1
    client, _ = bench.sign_in()
    body = {"template_id": "report-correction", "inputs": {"report": REPORT}}
    assert client.post("/api/v1/tokens", json=body).status_code == 403
    counted = [e for e in bench.audit() if e["action"] == "tokens.count" and e["status"] == 200]
    assert counted[0]["detail"]["input_tokens"] == estimate_text(REPORT)


def test_an_oversize_input_is_refused_with_its_numbers_and_never_cut(
    bench: Bench, fake_engine: Engine
) -> None:
    """One token over: 413 `input_too_long` with tokens and limit, audited, no run; at the limit the
    engine receives the whole text, to the last character."""
    limit = _expected_limit()
    client = bench.api()
    body = {"template_id": "report-correction", "lang": "de"}
    refused = client.post("/api/v1/runs", json={**body, "inputs": {"report": "x" * (2 * limit + 2)}})
    assert refused.status_code == 413, refused.text
    error = refused.json()["error"]
    assert error["code"] == "input_too_long" and (error["tokens"], error["limit"]) == (limit + 1, limit)
    assert f"{limit + 1} Tokens, höchstens {limit}" in error["message"]
    assert bench.store.list_runs() == []
    audited = [e for e in bench.audit() if e["action"] == "run.create"]
    assert audited[0]["status"] == 413 and audited[0]["detail"]["input_tokens"] == limit + 1

    whole = ("Lunge frei. " * limit)[: 2 * limit - 4] + "ENDE"  # exactly at the limit
    assert estimate_text(whole) == limit
    ran = client.post("/api/v1/runs", json={**body, "inputs": {"report": whole}})
    assert ran.status_code == 200 and sse_events(ran)[-1][0] == "done"
    sent = fake_engine.last()["messages"][-1]["content"]
    assert whole in sent and sent.rstrip().endswith("ENDE")


def test_the_context_window_follows_the_settings(tmp_path: Path) -> None:
    """`context_tokens` when set (an engine MedVault cannot ask), else the smallest n_ctx or
    max_model_len of the replicas, else the stated default."""
    url = "http://127.0.0.1:9/v1"
    models = [
        {"id": "told", "context_tokens": 32768, "replicas": [{"kind": "openai", "url": url}]},
        {"id": "unknown", "replicas": [{"kind": "openai", "url": url}]},
        {
            "id": "embedded",
            "replicas": [{"kind": "embedded", "n_ctx": 2048}, {"kind": "embedded", "n_ctx": 8192}],
        },
    ]
    counter = TokenCounter(load_settings(None, data_dir=tmp_path, models=models), {})
    assert [counter.window(m) for m in ("told", "unknown", "embedded")] == [
        32768,
        DEFAULT_CONTEXT_TOKENS,
        2048,
    ]


@pytest.mark.parametrize(
    ("cue", "status", "code", "words"),
    [
        ("__context__", 400, "context_exceeded", "Kontextfenster"),
        ("__error429:7__", 503, "engine_busy", "in 7 Sekunden"),
        ("__error500__", 502, "engine_failed", "Administration verständigen"),
    ],
    ids=["context", "busy", "failed"],
)
def test_engine_refusals_are_short_translated_and_actionable(
    bench: Bench, cue: str, status: int, code: str, words: str
) -> None:
    """An engine's refusal before the first word keeps its status, with a stable code and German text
    saying what to do, and none of the engine's internals."""
    body = {"template_id": "report-correction", "lang": "de", "inputs": {"report": f"{cue} Lunge frei"}}
    response = bench.api().post("/api/v1/runs", json=body)
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code and words in error["message"]
    assert "Traceback" not in response.text


def test_an_engine_failure_mid_answer_is_an_error_event_in_the_ui_language(bench: Bench) -> None:
    """The SSE `error` event carries the stable code and the text at the top level (the contract) and
    in the error shape; the English session gets English."""
    client, csrf = bench.sign_in()
    client.get("/workbench?lang=en")  # the session's UI language
    body = {"template_id": "report-correction", "lang": "de", "inputs": {"report": "__error_event__ Lunge"}}
    events = sse_events(client.post("/api/v1/runs", json=body, headers={"x-csrf-token": csrf}))
    name, data = events[-1]
    assert name == "error" and data["code"] == "engine_failed" == data["error"]["code"]
    assert data["message"].startswith("The language model broke off its answer")
    assert "Traceback" not in str(data)


@pytest.fixture
def quick_timeouts(tmp_path: Path, fake_engine: Engine) -> Iterator[Bench]:
    """A workbench whose engine hop gives up after 1 s of silence, and whose old total limit is 2 s."""
    limits = {"first_token_timeout_s": 1.0, "request_timeout_s": 2.0, "connect_timeout_s": 1.0}
    with make_bench(tmp_path, fake_engine, limits=limits) as running:
        yield running


def test_a_long_stream_that_keeps_coming_completes_and_a_silent_one_is_cut(quick_timeouts: Bench) -> None:
    """200 chunks over 10 s (five times request_timeout_s, never 1 s silent) arrive whole; an engine
    silent for 3 s is cut after about 1 s with the `timeout` code."""
    client = quick_timeouts.api()
    body = {"template_id": "report-correction", "lang": "de"}
    started = time.monotonic()
    slow = sse_events(client.post("/api/v1/runs", json={**body, "inputs": {"report": "__slow__ Lunge"}}))
    took_s = time.monotonic() - started
    assert slow[-1][0] == "done", slow[-1]
    assert len([e for e in slow if e[0] == "content"]) == 200 and took_s > 2.0 * 2
    started = time.monotonic()
    late = sse_events(client.post("/api/v1/runs", json={**body, "inputs": {"report": "__late:3__ Lunge"}}))
    cut_s = time.monotonic() - started
    assert late[-1][0] == "error" and late[-1][1]["code"] == "timeout"
    assert 0.9 < cut_s < 2.5


@pytest.mark.model
@pytest.mark.slow
@pytest.mark.timeout(300)
def test_the_real_model_counts_with_its_own_tokenizer(service: Service) -> None:
    """With the embedded llama.cpp engine the count is exact (its tokenizer), the limit follows n_ctx,
    and a text over it is refused before it reaches the engine."""
    from llama_cpp import Llama

    from medvault.config import bundled_model_path

    client = httpx.Client(
        base_url=service.url, headers={"authorization": f"Bearer {service.admin_key}"}, timeout=60
    )
    body = {"template_id": "report-correction", "lang": "de", "inputs": {"report": REPORT}}
    counted = client.post("/api/v1/tokens", json=body).json()
    vocab = Llama(model_path=str(bundled_model_path()), vocab_only=True, verbose=False)
    assert counted["exact"] is True
    assert counted["tokens"] == len(vocab.tokenize(REPORT.encode(), add_bos=True, special=True))
    assert counted["tokens"] < len(REPORT.encode()) / 2, "the estimate would have been used"
    template = _template()
    skeleton = "\n".join(m["content"] for m in template.render(_skeleton(template)))
    prompt = len(vocab.tokenize(skeleton.encode(), add_bos=True, special=True)) + 2 * MESSAGE_OVERHEAD_TOKENS
    assert counted["limit"] == 4096 - prompt - template.sampling.max_tokens  # n_ctx's default is 4096
    digits = "0123456789" * counted["limit"]  # a token per digit: far over
    refused = client.post("/api/v1/runs", json={**body, "inputs": {"report": digits}})
    assert refused.status_code == 413 and refused.json()["error"]["exact"] is True
