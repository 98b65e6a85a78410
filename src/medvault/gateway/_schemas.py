"""The chat request body, checked the way the engines check it, before any of it reaches an engine.

An engine that rejects a request writes it to its log, patient text included, and answers with its own
error text. So the gateway accepts only what every engine behind it accepts (OpenAI's shapes, narrowed
where llama-cpp-python's server is narrower), answers anything else with 422 naming the field in `param`
(`messages[2].tool_call_id`), and forwards a rebuilt body that holds only checked fields. No error
message quotes a value: values may be patient text. Field names are quoted only when they are plain
identifiers, since a client can put text in a key as well. The rules, and why unknown fields are
refused, are in docs/api.md.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, NoReturn

import orjson
from starlette.requests import ClientDisconnect, Request

from medvault.errors import (
    BadRequest,
    ClientClosed,
    PayloadTooLarge,
    UnsupportedMediaType,
    ValidationFailed,
)
from medvault.gateway._request import header
from medvault.gateway.errors import IDENTIFIER

_FUNCTION_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")  # OpenAI's rule for tool and schema names
_TOKEN_ID = re.compile(r"[0-9]{1,10}")
_INT64 = 2**63
_INT32_MAX = 2**31 - 1  # llama.cpp reads token counts and token ids into C ints
_MAX_STOP = 4
_MAX_TOOLS = 128


@dataclass(slots=True)
class ChatRequest:
    """A checked chat request: what the gateway needs of it, and the body to forward."""

    model: str
    stream: bool
    wants_usage: bool
    body: dict[str, Any]


def _is_json(content_type: str) -> bool:
    """Whether a Content-Type declares JSON in UTF-8: `application/json` or an `application/*+json`
    type, with parameters, but no charset other than UTF-8 (RFC 8259: JSON between systems is UTF-8)."""
    media_type, *params = content_type.lower().split(";")
    media_type = media_type.strip()
    if media_type != "application/json" and not (
        media_type.startswith("application/") and media_type.endswith("+json")
    ):
        return False
    for param in params:
        name, _, value = param.partition("=")
        if name.strip() == "charset" and value.strip().strip('"') not in ("utf-8", "utf8"):
            return False
    return True


def _require_json(request: Request) -> None:
    """415 for a body declared as anything but JSON. A request without a Content-Type is read as JSON:
    the OpenAI SDKs always send one, and plain HTTP clients that send none mean JSON here. The declared
    type is not quoted back: it is client text."""
    declared = header(request, b"content-type")
    if declared.strip() and not _is_json(declared):
        raise UnsupportedMediaType(
            "request body must be JSON in UTF-8: send Content-Type: application/json", param="Content-Type"
        )


def _not_json(raw: bytes, exc: orjson.JSONDecodeError) -> BadRequest:
    """A readable 400 for a body orjson refused; its own message for bytes that are not UTF-8 names
    surrogates, which is not what the client got wrong."""
    try:
        raw.decode("utf-8")  # only on the failure path: a valid body is never decoded twice
    except UnicodeDecodeError:
        return BadRequest("request body is not valid UTF-8 JSON: send the JSON encoded as UTF-8")
    return BadRequest(f"request body is not valid JSON: {exc}")


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, refusing more than `limit` bytes (413) by its declared length or, for a
    chunked one, as soon as it grows past the limit: never read whole first."""
    declared = header(request, b"content-length")
    if declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"request body of {declared} bytes exceeds the limit of {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise PayloadTooLarge(f"request body exceeds the limit of {limit} bytes")
            chunks.append(chunk)
    except ClientDisconnect:  # gone before its body arrived: audited as 499, not as a server fault
        raise ClientClosed("client disconnected while sending its request body") from None
    return b"".join(chunks)


async def read_json(request: Request, limit: int) -> Any:
    """The request body as JSON, refusing a declared non-JSON type (415) and more than `limit` bytes
    (413) before reading them all."""
    _require_json(request)
    raw = await read_body(request, limit)
    if not raw:
        raise BadRequest("request body is empty; send a JSON object")
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise _not_json(raw, exc) from exc


def _fail(param: str, problem: str) -> NoReturn:
    raise ValidationFailed(f"`{param}` {problem}", param=param)


def _child(param: str, key: str) -> str:
    return f"{param}.{key}" if param else key


def _only(value: dict[str, Any], allowed: frozenset[str], param: str) -> None:
    """Refuse keys outside `allowed`, naming the key only if it is a plain identifier."""
    for key in value:
        if key not in allowed:
            if IDENTIFIER.fullmatch(key):
                _fail(_child(param, key), "is not a field MedVault accepts here")
            raise ValidationFailed(
                f"`{param or 'body'}` has a field MedVault does not accept (its name is not shown)",
                param=param or None,
            )


def _object(value: Any, param: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        _fail(param, "must be an object")
    return value


def _string(value: Any, param: str, *, pattern: re.Pattern[str] | None = None) -> str:
    if not isinstance(value, str):
        _fail(param, "must be a string")
    if pattern is not None and not pattern.fullmatch(value):
        _fail(param, f"must match {pattern.pattern}")
    return value


def _boolean(value: Any, param: str) -> bool:
    if not isinstance(value, bool):
        _fail(param, "must be true or false")
    return value


def _number(value: Any, param: str, *, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        _fail(param, "must be a number")
    if not low <= value <= high:
        _fail(param, f"must be between {low} and {high}")
    return value


def _integer(value: Any, param: str, *, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        _fail(param, "must be a whole number")
    if not low <= value <= high:
        _fail(param, f"must be between {low} and {high}")
    return value


def _choice(value: Any, param: str, *, choices: tuple[str, ...]) -> str:
    if value not in choices:
        _fail(param, f"must be one of {', '.join(choices)}")
    return str(value)


def _required(value: dict[str, Any], key: str, param: str) -> Any:
    found = value.get(key)
    if found is None:
        _fail(_child(param, key), "is required")
    return found


def _text(value: Any, param: str) -> str:
    """Content: a string, or a list of text parts, joined with newlines as vLLM does.

    Always forwarded as one string: llama-cpp-python accepts parts in user messages only.
    """
    if isinstance(value, str):
        return value
    if not isinstance(value, list) or not value:
        _fail(param, "must be a string or a non-empty list of text parts")
    texts = []
    for index, part in enumerate(value):
        where = f"{param}[{index}]"
        if _object(part, where).get("type") != "text":
            _fail(f"{where}.type", "must be text: MedVault accepts text parts only")
        _only(part, frozenset({"type", "text"}), where)
        texts.append(_string(_required(part, "text", where), f"{where}.text"))
    return "\n".join(texts)


def _stop(value: Any, param: str) -> str | list[str]:
    if isinstance(value, str):
        return value
    if not isinstance(value, list) or len(value) > _MAX_STOP:
        _fail(param, f"must be a string or a list of at most {_MAX_STOP} strings")
    return [_string(item, f"{param}[{index}]") for index, item in enumerate(value)]


def _logit_bias(value: Any, param: str) -> dict[str, float]:
    for key, bias in _object(value, param).items():
        if not _TOKEN_ID.fullmatch(key) or int(key) > _INT32_MAX:
            # Never named: llama-cpp-python tokenises other keys as text (its `logit_bias_type`), and a
            # token id past a C int crashes it with the request in its log.
            _fail(param, f"must map token ids (whole numbers 0 to {_INT32_MAX}, as strings) to numbers")
        _number(bias, f"{param}.{key}", low=-100, high=100)
    return value  # every key and value checked above


def _model(value: Any, param: str) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > 256:
        _fail(param, "must be a model id (1 to 256 characters)")
    return value


# The JSON Schema keywords whose values are subschemas, by shape. Only these are walked for `type`:
# elsewhere (`enum`, `const`, `default`, examples) a `type` key is data, not a keyword.
_SUBSCHEMA = ("items", "additionalProperties", "not", "contains", "propertyNames", "if", "then", "else",
              "additionalItems", "unevaluatedItems", "unevaluatedProperties")  # fmt: skip
_SUBSCHEMA_MAPS = ("properties", "patternProperties", "$defs", "definitions", "dependentSchemas")
_SUBSCHEMA_LISTS = ("anyOf", "oneOf", "allOf", "prefixItems", "items")
_SCHEMA_TYPES = frozenset({"string", "number", "integer", "boolean", "object", "array", "null"})


def _schema(value: Any, param: str) -> dict[str, Any]:
    """A JSON Schema, checked where llama-cpp-python's grammar builder would fail on it.

    That builder prints a schema it does not understand, client text included, to the engine's log
    ("Unrecognized schema: {...}" for an unknown `type`, the whole schema for a `$ref` it cannot
    resolve), and it fetches `https://` references. So `type` must be JSON Schema type names and every
    `$ref` must point into this schema. Walked with a stack: nesting is the client's to choose.
    """
    root = _object(value, param)
    schemas: list[Any] = [root]
    while schemas:
        schema = schemas.pop()
        if not isinstance(schema, dict):
            continue  # `true`/`false` schemas, or a shape the engine refuses without quoting it
        kind = schema.get("type")
        kinds = kind if isinstance(kind, list) else [kind]
        if "type" in schema and not (kinds and all(k in _SCHEMA_TYPES for k in kinds)):
            _fail(param, f"holds a `type` that is not one of {', '.join(sorted(_SCHEMA_TYPES))}")
        schemas += [schema.get(key) for key in _SUBSCHEMA]
        for key in _SUBSCHEMA_MAPS:
            if isinstance(schema.get(key), dict):
                schemas += schema[key].values()
        for key in _SUBSCHEMA_LISTS:
            if isinstance(schema.get(key), list):
                schemas += schema[key]
    _check_refs(root, param)
    return root


def _check_refs(root: dict[str, Any], param: str) -> None:
    """Every `$ref` anywhere in the tree (the engine looks in every object) points into `root`."""
    nodes: list[Any] = [root]
    while nodes:
        node = nodes.pop()
        if isinstance(node, list):
            nodes += node
        elif isinstance(node, dict):
            if "$ref" in node and _resolve(root, node["$ref"]) is None:
                _fail(param, "holds a `$ref` that does not point into this schema (`#/...`)")
            nodes += node.values()


def _resolve(root: dict[str, Any], ref: Any) -> dict[str, Any] | None:
    if not isinstance(ref, str) or not ref.startswith("#/"):
        return None
    target: Any = root
    for step in ref[2:].split("/"):  # as the engine resolves it: no `~1` unescaping
        if not isinstance(target, dict) or step not in target:
            return None
        target = target[step]
    return target if isinstance(target, dict) else None


def _described(spec: dict[str, Any], where: str, out: dict[str, Any]) -> dict[str, Any]:
    """`out` with the optional `description` and `strict` of a function or a json_schema spec."""
    if spec.get("description") is not None:
        out["description"] = _string(spec["description"], f"{where}.description")
    if spec.get("strict") is not None:
        out["strict"] = _boolean(spec["strict"], f"{where}.strict")
    return out


_FUNCTION_KEYS = frozenset({"name", "description", "parameters", "strict"})


def _tools(value: Any, param: str) -> list[dict[str, Any]]:
    if not isinstance(value, list) or not 1 <= len(value) <= _MAX_TOOLS:
        _fail(param, f"must be a list of 1 to {_MAX_TOOLS} tools")
    tools = []
    for index, tool in enumerate(value):
        where = f"{param}[{index}]"
        _only(_object(tool, where), frozenset({"type", "function"}), where)
        _choice(tool.get("type"), f"{where}.type", choices=("function",))
        function = _object(_required(tool, "function", where), f"{where}.function")
        where = f"{where}.function"
        _only(function, _FUNCTION_KEYS, where)
        out: dict[str, Any] = {
            "name": _string(_required(function, "name", where), f"{where}.name", pattern=_FUNCTION_NAME),
            # llama-cpp-python requires `parameters`; OpenAI's default is a function without any.
            "parameters": _schema(function.get("parameters", {"type": "object", "properties": {}}),
                                  f"{where}.parameters"),
        }  # fmt: skip
        tools.append({"type": "function", "function": _described(function, where, out)})
    return tools


def _tool_choice(value: Any, param: str) -> str | dict[str, Any]:
    if isinstance(value, str):
        return _choice(value, param, choices=("none", "auto", "required"))
    _only(_object(value, param), frozenset({"type", "function"}), param)
    _choice(value.get("type"), f"{param}.type", choices=("function",))
    function = _object(_required(value, "function", param), f"{param}.function")
    _only(function, frozenset({"name"}), f"{param}.function")
    name = _string(_required(function, "name", f"{param}.function"), f"{param}.function.name")
    return {"type": "function", "function": {"name": name}}


def _response_format(value: Any, param: str) -> dict[str, Any]:
    kind = _choice(_object(value, param).get("type"), f"{param}.type",
                   choices=("text", "json_object", "json_schema"))  # fmt: skip
    if kind == "text":
        _only(value, frozenset({"type"}), param)
        return {"type": "text"}
    if kind == "json_object":  # `schema`: llama.cpp's way to constrain a JSON object
        _only(value, frozenset({"type", "schema"}), param)
        if value.get("schema") is None:
            return {"type": "json_object"}
        return {"type": "json_object", "schema": _schema(value["schema"], f"{param}.schema")}
    _only(value, frozenset({"type", "json_schema"}), param)
    where = f"{param}.json_schema"
    spec = _object(_required(value, "json_schema", param), where)
    _only(spec, frozenset({"name", "description", "schema", "strict"}), where)
    out: dict[str, Any] = {"name": _string(_required(spec, "name", where), f"{where}.name",
                                           pattern=_FUNCTION_NAME)}  # fmt: skip
    if spec.get("schema") is not None:
        out["schema"] = _schema(spec["schema"], f"{where}.schema")
    return {"type": "json_schema", "json_schema": _described(spec, where, out)}


def _stream_options(value: Any, param: str) -> dict[str, Any]:
    _only(_object(value, param), frozenset({"include_usage"}), param)
    if value.get("include_usage") is not None:
        _boolean(value["include_usage"], f"{param}.include_usage")
    return value  # checked; the gateway sets its own for the engine anyway


_ROLES = ("system", "developer", "user", "assistant", "tool")
_ASSISTANT_DROPPED = ("refusal", "reasoning_content", "function_call", "audio", "annotations")
_MESSAGE_KEYS = {
    "system": frozenset({"role", "content", "name"}),
    "developer": frozenset({"role", "content", "name"}),
    "user": frozenset({"role", "content", "name"}),
    # The others come back in answers (ours, or the embedded engine's `function_call` next to its
    # `tool_calls` for a named tool_choice), so SDKs send them in the history: accepted, not forwarded.
    "assistant": frozenset({"role", "content", "name", "tool_calls", *_ASSISTANT_DROPPED}),
    "tool": frozenset({"role", "content", "tool_call_id", "name"}),  # `name`: dropped, as OpenAI's SDKs
}


def _tool_calls(value: Any, param: str) -> list[dict[str, Any]]:
    if not isinstance(value, list) or not value:
        _fail(param, "must be a non-empty list of tool calls")
    calls = []
    for index, call in enumerate(value):
        where = f"{param}[{index}]"
        # `index` is part of streamed deltas, which clients sometimes send back as they got them.
        _only(_object(call, where), frozenset({"id", "type", "function", "index"}), where)
        call_id = _string(_required(call, "id", where), f"{where}.id")
        if not call_id:
            _fail(f"{where}.id", "must not be empty")
        _choice(call.get("type"), f"{where}.type", choices=("function",))
        function = _object(_required(call, "function", where), f"{where}.function")
        _only(function, frozenset({"name", "arguments"}), f"{where}.function")
        name = _string(_required(function, "name", f"{where}.function"), f"{where}.function.name",
                       pattern=_FUNCTION_NAME)  # fmt: skip
        arguments = _string(_required(function, "arguments", f"{where}.function"),
                            f"{where}.function.arguments")  # fmt: skip
        calls.append({"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}})
    return calls


def _message(message: dict[str, Any], where: str) -> dict[str, Any]:
    """One message, checked and rebuilt; `developer` becomes `system`, which every engine knows."""
    role = message.get("role")
    if not isinstance(role, str) or role not in _MESSAGE_KEYS:
        _fail(f"{where}.role", f"must be one of {', '.join(_ROLES)}")
    present = {key: value for key, value in message.items() if value is not None}  # null = absent
    _only(present, _MESSAGE_KEYS[role], where)
    out: dict[str, Any] = {"role": "system" if role == "developer" else role}
    if role == "assistant":
        if "tool_calls" in present:
            out["tool_calls"] = _tool_calls(present["tool_calls"], f"{where}.tool_calls")
        elif "refusal" in present and "content" not in present:
            out["content"] = ""  # a refusal alone: the turn happened, and its text is not the model's
        elif "content" not in present:
            _fail(f"{where}.content", "is required unless the message has tool_calls or a refusal")
        for key in ("refusal", "reasoning_content"):
            if key in present:
                _string(present[key], f"{where}.{key}")
    if "content" in present:
        out["content"] = _text(present["content"], f"{where}.content")
    elif role != "assistant":
        _fail(f"{where}.content", "is required")
    if "name" in present and role != "tool":
        out["name"] = _string(present["name"], f"{where}.name")
    if role == "tool":
        out["tool_call_id"] = _string(_required(present, "tool_call_id", where), f"{where}.tool_call_id")
    return out


def _messages(value: Any, param: str) -> list[dict[str, Any]]:
    """The conversation, with OpenAI's rule for tools: each tool call of an assistant message is
    answered by a `tool` message right after it, and every `tool` message answers one."""
    if not isinstance(value, list) or not value:
        _fail(param, "must be a non-empty list of messages")
    out = []
    unanswered: set[str] = set()
    asked = ""  # the assistant message whose tool calls are unanswered
    for index, message in enumerate(value):
        where = f"{param}[{index}]"
        checked = _message(_object(message, where), where)
        role = checked["role"]
        if role == "tool":
            if checked["tool_call_id"] not in unanswered:
                _fail(f"{where}.tool_call_id", "must answer a tool call of the assistant message before it")
            unanswered.discard(checked["tool_call_id"])
        elif unanswered:
            _fail(f"{asked}.tool_calls", "must each be answered by a tool message before the next message")
        if role == "assistant" and "tool_calls" in checked:
            unanswered = {call["id"] for call in checked["tool_calls"]}
            asked = where
        out.append(checked)
    if unanswered:
        _fail(f"{asked}.tool_calls", "must each be answered by a tool message")
    return out


def _reasoning_effort(value: Any, param: str) -> str:
    """OpenAI's levels; the engines (vLLM) know low, medium and high, so the two below low ask for low."""
    effort = _choice(value, param, choices=("none", "minimal", "low", "medium", "high"))
    return "low" if effort in ("none", "minimal") else effort


Check = Callable[[Any, str], Any]
# Every field MedVault forwards, with its check; each returns the value to forward.
_FIELDS: dict[str, Check] = {
    "model": _model,
    "messages": _messages,
    "stream": _boolean,
    "stream_options": _stream_options,
    "temperature": partial(_number, low=0, high=2),
    "top_p": partial(_number, low=0, high=1),
    "min_p": partial(_number, low=0, high=1),
    "top_k": partial(_integer, low=0, high=_INT32_MAX),  # llama-cpp-python refuses -1
    "n": partial(_integer, low=1, high=1),  # one choice: the audit and the reasoning split count on it
    "max_tokens": partial(_integer, low=1, high=_INT32_MAX),
    "max_completion_tokens": partial(_integer, low=1, high=_INT32_MAX),
    "presence_penalty": partial(_number, low=-2, high=2),
    "frequency_penalty": partial(_number, low=-2, high=2),
    "seed": partial(_integer, low=-_INT64, high=_INT64 - 1),
    "stop": _stop,
    "logit_bias": _logit_bias,
    "logprobs": _boolean,
    "top_logprobs": partial(_integer, low=0, high=20),
    "response_format": _response_format,
    "tools": _tools,
    "tool_choice": _tool_choice,
    "parallel_tool_calls": _boolean,
    "reasoning_effort": _reasoning_effort,
}
# OpenAI's bookkeeping fields: they ask nothing of the model, and `user` (or `safety_identifier`, its
# successor) may name a patient, so they are accepted and never forwarded.
_DROPPED = frozenset({"user", "metadata", "store", "service_tier", "prompt_cache_key", "safety_identifier"})
_ACCEPTED = frozenset(_FIELDS) | _DROPPED


def validate_chat(body: Any) -> ChatRequest:
    """Check a chat request and build the body to forward, or raise 422 naming the first bad field."""
    if not isinstance(body, dict):
        raise ValidationFailed("request body must be a JSON object")
    present = {key: value for key, value in body.items() if value is not None}  # null = absent
    _only(present, _ACCEPTED, "")
    out = {key: _FIELDS[key](value, key) for key, value in present.items() if key not in _DROPPED}
    for key in ("model", "messages"):
        if key not in out:
            _fail(key, "is required")
    stream = out.get("stream", False)
    if "stream_options" in out and not stream:
        _fail("stream_options", "is allowed only with stream: true")
    if "top_logprobs" in out and not out.get("logprobs"):
        _fail("top_logprobs", "needs logprobs: true")
    _check_tool_choice(out)
    if "max_completion_tokens" in out:  # OpenAI's newer name; llama-cpp-python knows max_tokens only
        out.setdefault("max_tokens", out.pop("max_completion_tokens"))
    wants_usage = bool(out.get("stream_options", {}).get("include_usage"))
    return ChatRequest(out["model"], stream, wants_usage, out)


def _check_tool_choice(out: dict[str, Any]) -> None:
    choice = out.get("tool_choice")
    if choice is None or choice == "none":
        return
    names = {tool["function"]["name"] for tool in out.get("tools", ())}
    if not names:
        _fail("tool_choice", "needs tools")
    if isinstance(choice, dict) and choice["function"]["name"] not in names:
        _fail("tool_choice.function.name", "must name one of the tools")
