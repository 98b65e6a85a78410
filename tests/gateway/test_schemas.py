"""Chat requests are checked the way the engines check them: malformed ones never reach an engine, and
their 422 names the field without repeating what the client sent."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from openai import OpenAI
from structlog.testing import capture_logs

from medvault.errors import ValidationFailed
from medvault.gateway._schemas import _FIELDS, validate_chat
from medvault.store import Role
from tests.gateway.conftest import Engine, LogEvent, Running, make_settings, open_store, serve, start_engine

CHAT = "/v1/chat/completions"
CANARY = "CANARY" + uuid.uuid4().hex  # stands for patient text; must never come back or be written
SPACED = f"{CANARY} Erika Mustermann"  # a key no answer may name: it is not a plain identifier
MALFORMED_ID = "0bad" * 4  # the request id of every malformed request

USER = {"role": "user", "content": f"Befund von {CANARY}: Lunge frei."}
CALL = {"id": "call_1", "type": "function", "function": {"name": "lookup", "arguments": "{}"}}
ASKED = {"role": "assistant", "content": None, "tool_calls": [CALL]}
ANSWER = {"role": "tool", "tool_call_id": "call_1", "content": f"{CANARY} 12 mm"}
TOOL = {"type": "function", "function": {"name": "lookup", "parameters": {"type": "object"}}}


def chat(*messages: dict[str, Any], **fields: Any) -> dict[str, Any]:
    """A chat body with the canary in a user message, whatever else is wrong with it."""
    return {"model": "fake", "messages": list(messages) or [USER], **fields}


# Each malformed class: the body and the `param` its 422 must name. Every body holds the canary, in the
# offending field where it can hold text and in a user message always.
MALFORMED: dict[str, tuple[dict[str, Any], str | None]] = {
    "tool-without-tool_call_id": (chat(USER, ASKED, {"role": "tool", "content": CANARY}),
                                  "messages[2].tool_call_id"),
    "tool-answering-nothing": (chat(USER, {**ANSWER, "tool_call_id": CANARY}), "messages[1].tool_call_id"),
    "tool-call-unanswered": (chat(USER, ASKED, USER), "messages[1].tool_calls"),
    "tool-call-unanswered-at-end": (chat(USER, ASKED), "messages[1].tool_calls"),
    "unknown-role": (chat({"role": "wizard", "content": CANARY}), "messages[0].role"),
    "role-is-text": (chat(USER, {"role": CANARY, "content": "x"}), "messages[1].role"),
    "no-content": (chat(USER, {"role": "user"}), "messages[1].content"),
    "content-object": (chat(USER, {"role": "user", "content": {"note": CANARY}}), "messages[1].content"),
    "content-empty-list": (chat(USER, {"role": "user", "content": []}), "messages[1].content"),
    "image-part": (chat({"role": "user", "content": [{"type": "image_url", "image_url": {"url": CANARY}}]}),
                   "messages[0].content[0].type"),
    "part-text-not-string": (chat({"role": "user", "content": [{"type": "text", "text": [CANARY]}]}),
                             "messages[0].content[0].text"),
    "part-extra-field": (chat({"role": "user", "content": [{"type": "text", "text": "x", "note": CANARY}]}),
                         "messages[0].content[0].note"),
    "message-extra-field": (chat({**USER, "note": CANARY}), "messages[0].note"),
    "message-text-key": (chat({**USER, SPACED: 1}), "messages[0]"),
    "assistant-empty": (chat(USER, {"role": "assistant"}, USER), "messages[1].content"),
    "tool-call-bad-name": (chat(USER, {**ASKED, "tool_calls": [
        {**CALL, "function": {"name": SPACED, "arguments": "{}"}}]}, ANSWER),
        "messages[1].tool_calls[0].function.name"),
    "tool-call-arguments-object": (chat(USER, {**ASKED, "tool_calls": [
        {**CALL, "function": {"name": "lookup", "arguments": {"note": CANARY}}}]}, ANSWER),
        "messages[1].tool_calls[0].function.arguments"),
    "tool-call-no-id": (chat(USER, {**ASKED, "tool_calls": [{**CALL, "id": ""}]}),
                        "messages[1].tool_calls[0].id"),
    "tool-call-type": (chat(USER, {**ASKED, "tool_calls": [{**CALL, "type": CANARY}]}),
                       "messages[1].tool_calls[0].type"),
    "messages-text": (chat(USER) | {"messages": CANARY}, "messages"),
    "messages-empty": (chat(USER) | {"messages": []}, "messages"),
    "model-missing": ({"messages": [USER]}, "model"),
    "model-not-text": (chat(USER, model=[CANARY]), "model"),
    "stop-five": (chat(USER, stop=["a", "b", "c", "d", CANARY]), "stop"),
    "stop-not-text": (chat(USER, stop=[CANARY, 5]), "stop[1]"),
    "logit-bias-text-key": (chat(USER, logit_bias={SPACED: 5}), "logit_bias"),
    "logit-bias-range": (chat(USER, logit_bias={"50256": 101}), "logit_bias.50256"),
    "logit-bias-text-value": (chat(USER, logit_bias={"50256": CANARY}), "logit_bias.50256"),
    "logit-bias-list": (chat(USER, logit_bias=[CANARY]), "logit_bias"),
    "logit-bias-id-past-int32": (chat(USER, logit_bias={"2147483648": 1}), "logit_bias"),
    "top-k-negative": (chat(USER, top_k=-1), "top_k"),
    "temperature-range": (chat(USER, temperature=2.5), "temperature"),
    "temperature-text": (chat(USER, temperature=CANARY), "temperature"),
    "top-p-range": (chat(USER, top_p=1.5), "top_p"),
    "n-two": (chat(USER, n=2), "n"),
    "max-tokens-zero": (chat(USER, max_tokens=0), "max_tokens"),
    "max-tokens-bool": (chat(USER, max_tokens=True), "max_tokens"),
    "max-tokens-huge": (chat(USER, max_tokens=2**40), "max_tokens"),
    "presence-penalty-range": (chat(USER, presence_penalty=-2.5), "presence_penalty"),
    "frequency-penalty-range": (chat(USER, frequency_penalty=3), "frequency_penalty"),
    "seed-fraction": (chat(USER, seed=1.5), "seed"),
    "seed-huge": (chat(USER, seed=2**63), "seed"),
    "top-logprobs-alone": (chat(USER, top_logprobs=3), "top_logprobs"),
    "response-format-type": (chat(USER, response_format={"type": CANARY}), "response_format.type"),
    "response-format-extra": (chat(USER, response_format={"type": "text", "note": CANARY}),
                              "response_format.note"),
    "json-schema-no-name": (chat(USER, response_format={"type": "json_schema", "json_schema": {
        "schema": {"description": CANARY}}}), "response_format.json_schema.name"),
    "tools-type": (chat(USER, tools=[{"type": CANARY}]), "tools[0].type"),
    "tools-parameters-text": (chat(USER, tools=[{"type": "function", "function": {
        "name": "lookup", "parameters": CANARY}}]), "tools[0].function.parameters"),
    "tools-bad-name": (chat(USER, tools=[{"type": "function", "function": {"name": SPACED}}]),
                       "tools[0].function.name"),
    "schema-canary-type": (chat(USER, tools=[{"type": "function", "function": {"name": "lookup",
        "parameters": {"type": "object", "properties": {"x": {"type": CANARY}}}}}]),
        "tools[0].function.parameters"),
    "schema-canary-type-list": (chat(USER, response_format={"type": "json_schema", "json_schema": {
        "name": "befund", "schema": {"anyOf": [{"type": ["string", CANARY]}]}}}),
        "response_format.json_schema.schema"),
    "schema-remote-ref": (chat(USER, response_format={"type": "json_object", "schema": {
        "$ref": f"https://example.org/{CANARY}"}}), "response_format.schema"),
    "schema-dangling-ref": (chat(USER, response_format={"type": "json_schema", "json_schema": {
        "name": "befund", "schema": {"properties": {"x": {"$ref": f"#/$defs/{CANARY}"}},
                                     "$defs": {"note": {"description": CANARY}}}}}),
        "response_format.json_schema.schema"),
    "tool-choice-unknown": (chat(USER, tools=[TOOL], tool_choice={
        "type": "function", "function": {"name": "other"}}), "tool_choice.function.name"),
    "tool-choice-without-tools": (chat(USER, tool_choice="required"), "tool_choice"),
    "tool-choice-text": (chat(USER, tools=[TOOL], tool_choice=CANARY), "tool_choice"),
    "stream-options-without-stream": (chat(USER, stream_options={"include_usage": True}), "stream_options"),
    "stream-not-bool": (chat(USER, stream=CANARY), "stream"),
    "unknown-field": (chat(USER, grammar=f"root ::= \"{CANARY}\""), "grammar"),
    "logit-bias-type": (chat(USER, logit_bias_type="tokens"), "logit_bias_type"),
    "unknown-text-key": (chat(USER) | {SPACED: 1}, None),
}  # fmt: skip


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Running, Engine]]:
    """One engine and one gateway for the whole table: starting them per case would cost seconds each."""
    engine = start_engine()
    settings = make_settings(tmp_path_factory.mktemp("schemas"), [engine.url])
    store = open_store(settings)
    key_id, key = store.create_key("alice", Role.CLINICIAN)
    _, admin = store.create_key("root", Role.ADMIN)
    try:
        with serve(settings, store) as url:
            yield Running(url, settings, store, key, admin, key_id), engine
    finally:
        store.close()
        engine.kill()


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> Iterator[list[LogEvent]]:
    """The gateway's structlog events (it runs in a thread of this process) while the test runs."""
    with capture_logs() as captured:
        yield captured


def _everything_written(gateway: Running, logs: list[LogEvent], caplog: pytest.LogCaptureFixture) -> str:
    """The gateway's log lines, its audit rows and every file of its data dir, as one text."""
    rows = [repr(e.event) for e in gateway.store.audit_events()]
    files = [
        p.read_bytes().decode("latin-1") for p in Path(gateway.settings.data_dir).rglob("*") if p.is_file()
    ]
    return "\n".join([repr(logs), caplog.text, *rows, *files])


@pytest.mark.parametrize(("body", "param"), MALFORMED.values(), ids=MALFORMED.keys())
def test_malformed_requests_are_refused_without_echo(
    served: tuple[Running, Engine],
    logs: list[LogEvent],
    caplog: pytest.LogCaptureFixture,
    body: dict[str, Any],
    param: str | None,
) -> None:
    """Each malformed class gets 422 naming its field; the canary is in no answer, log line, audit row or
    file, and the engine never saw the request."""
    gateway, engine = served
    with gateway.client() as client:
        response = client.post(CHAT, json=body, headers={"x-request-id": MALFORMED_ID})
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert (error["param"], error["type"], error["code"]) == (
        param,
        "invalid_request_error",
        "validation_error",
    )
    assert CANARY not in response.text and "Mustermann" not in response.text
    assert engine.stats()["started"] == 0
    assert any(e.get("request_id") == MALFORMED_ID and e.get("status") == 422 for e in logs), logs
    written = _everything_written(gateway, logs, caplog)
    assert MALFORMED_ID in written  # the audit row and the log line are there, and were searched
    assert CANARY not in written


def test_well_formed_requests_reach_the_engine_rebuilt(gateway: Running, engine: Engine) -> None:
    """A request using every accepted shape is served; the engine gets it rebuilt to what it accepts."""
    body = chat(
        {"role": "developer", "content": [{"type": "text", "text": "Sei knapp."}]},
        {"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}],
         "name": "dr"},
        {**ASKED, "refusal": None, "reasoning_content": "denken"},
        ANSWER,
        {"role": "user", "content": "Befund"},
        temperature=0, top_p=1, n=1, max_completion_tokens=64, presence_penalty=0.5, frequency_penalty=-1,
        seed=-1, stop=["\n\n", "###"], logit_bias={"50256": -100, "7": 1.5}, logprobs=True, top_logprobs=2,
        response_format={"type": "json_schema",
                         "json_schema": {"name": "befund", "schema": {"type": "object"}}},
        tools=[{"type": "function", "function": {"name": "lookup"}}], tool_choice="auto",
        parallel_tool_calls=False, user="patient-4711", metadata={"ward": "7"}, store=False, top_k=40,
        min_p=0.05, reasoning_effort="low", stream=None,
    )  # fmt: skip
    with gateway.client() as client:
        response = client.post(CHAT, json=body)
    assert response.status_code == 200, response.text
    sent = engine.last()
    assert [m["role"] for m in sent["messages"]] == ["system", "user", "assistant", "tool", "user"]
    assert sent["messages"][0]["content"] == "Sei knapp."
    assert sent["messages"][1] == {"role": "user", "content": "a\nb", "name": "dr"}
    assert sent["messages"][2] == {"role": "assistant", "tool_calls": [CALL]}
    assert sent["messages"][3] == ANSWER
    assert sent["max_tokens"] == 64 and "max_completion_tokens" not in sent
    assert sent["tools"][0]["function"]["parameters"] == {"type": "object", "properties": {}}
    assert not {"user", "metadata", "store", "stream"} & set(sent)


# What llama-cpp-python's server (the embedded engine) validates a chat request against.
_ENGINE_SHAPES = [
    chat(USER),
    chat({"role": "developer", "content": [{"type": "text", "text": "x"}]}, USER, stop="###", seed=7),
    chat(USER, ASKED, ANSWER, tools=[{"type": "function", "function": {"name": "lookup"}}],
         tool_choice={"type": "function", "function": {"name": "lookup"}}),
    chat({"role": "system", "content": [{"type": "text", "text": "x"}]}, {**USER, "name": "dr"},
         {"role": "assistant", "content": [{"type": "text", "text": "y"}]}, USER,
         logit_bias={"1": 2}, response_format={"type": "json_object", "schema": {"type": "object"}}),
]  # fmt: skip


def _boundaries() -> list[dict[str, Any]]:
    """One body per end of every numeric range in the gateway's table, and the largest token id."""
    bodies = [chat(USER, logit_bias={"2147483647": 1, "0": -100})]
    for name, check in _FIELDS.items():
        ends = getattr(check, "keywords", {})
        for end in (ends.get("low"), ends.get("high")):
            if end is not None:
                needs = {"logprobs": True} if name == "top_logprobs" else {}
                bodies.append(chat(USER, **{name: end}, **needs))
    return bodies


@pytest.mark.parametrize("body", _ENGINE_SHAPES + _boundaries())
def test_forwarded_bodies_fit_the_embedded_engine(body: dict[str, Any]) -> None:
    """What the gateway forwards validates against llama-cpp-python's own request model."""
    from llama_cpp.server.types import CreateChatCompletionRequest

    forwarded = validate_chat(orjson.loads(orjson.dumps(body))).body
    CreateChatCompletionRequest.model_validate(forwarded)


def test_tool_call_answers_round_trip_through_the_sdk(gateway: Running, engine: Engine) -> None:
    """The engine's answer to a named tool_choice (`tool_calls` and `function_call`), sent back by the
    OpenAI SDK with the tool's result, is served; the legacy fields never reach the engine."""
    client = OpenAI(base_url=gateway.url + "/v1", api_key=gateway.key, max_retries=0)
    tools: Any = [TOOL]
    messages: list[Any] = [{"role": "user", "content": "__tool__"}]
    asked = (
        client.chat.completions.create(
            model="fake",
            messages=messages,
            tools=tools,
            tool_choice={"type": "function", "function": {"name": "lookup"}},
        )
        .choices[0]
        .message
    )
    assert asked.function_call is not None and asked.tool_calls
    messages += [
        asked,
        {"role": "tool", "tool_call_id": asked.tool_calls[0].id, "name": "lookup", "content": "7"},
    ]
    messages.append({"role": "user", "content": "Befund"})
    answer = client.chat.completions.create(model="fake", messages=messages, tools=tools)
    assert answer.choices[0].message.content
    sent = engine.last()["messages"]
    assert sent[1] == {"role": "assistant", "tool_calls": [asked.tool_calls[0].model_dump()]}
    assert sent[2] == {"role": "tool", "tool_call_id": "call_fake", "content": "7"}


@pytest.mark.parametrize(
    "message",
    [
        {"role": "assistant", "refusal": "Dazu kann ich nichts sagen."},
        {"role": "assistant", "content": "x", "function_call": {"name": "lookup", "arguments": "{}"},
         "audio": {"id": "audio_1"}, "annotations": [{"type": "url_citation"}], "refusal": None},
    ],
)  # fmt: skip
def test_assistant_fields_from_answers_are_accepted_and_dropped(message: dict[str, Any]) -> None:
    """What answers carry besides content (refusal, function_call, audio, annotations) is accepted in
    the history and forwarded as plain content the engine accepts."""
    from llama_cpp.server.types import CreateChatCompletionRequest

    forwarded = validate_chat(chat(USER, message, USER)).body
    assert forwarded["messages"][1] == {"role": "assistant", "content": message.get("content", "")}
    CreateChatCompletionRequest.model_validate(forwarded)


@pytest.mark.parametrize(
    "fields",
    [
        {"service_tier": None, "grammar": None, "user": None},
        {"service_tier": "auto", "prompt_cache_key": "k1", "safety_identifier": CANARY, "user": CANARY},
    ],
)
def test_null_and_bookkeeping_fields_are_accepted_and_not_forwarded(fields: dict[str, Any]) -> None:
    """A null top-level field counts as absent (even an unknown one), and bookkeeping fields are
    accepted and never forwarded."""
    assert validate_chat(chat(USER, **fields)).body == chat(USER)


@pytest.mark.parametrize(("given", "sent"), [("none", "low"), ("minimal", "low"), ("high", "high")])
def test_reasoning_effort_levels_map_to_what_engines_know(given: str, sent: str) -> None:
    """All of OpenAI's effort levels are accepted; those below `low` are sent as `low`."""
    assert validate_chat(chat(USER, reasoning_effort=given)).body["reasoning_effort"] == sent


def test_tool_message_without_id_is_what_the_engine_rejects() -> None:
    """Positive control: llama-cpp-python itself rejects the tool message the gateway refuses."""
    from llama_cpp.server.types import CreateChatCompletionRequest
    from pydantic import ValidationError

    body, _ = MALFORMED["tool-without-tool_call_id"]
    with pytest.raises(ValidationError):
        CreateChatCompletionRequest.model_validate(body)
    with pytest.raises(ValidationFailed):
        validate_chat(body)


@pytest.mark.parametrize(
    ("fields", "usage"),
    [
        ({"stream": True, "stream_options": {"include_usage": True}}, True),
        ({"stream": True}, False),
        ({}, False),
    ],
)
def test_stream_flags(fields: dict[str, Any], usage: bool) -> None:
    """The gateway learns whether to stream and whether the client wants the usage chunk."""
    checked = validate_chat(chat(USER, **fields))
    assert (checked.model, checked.stream, checked.wants_usage) == ("fake", bool(fields), usage)
