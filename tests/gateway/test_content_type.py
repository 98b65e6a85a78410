"""What the chat API accepts as a body and how it says no: a declared non-JSON type is a readable 415, JSON
with parameters or a `+json` type is read, bytes that are not UTF-8 are named as such, and a wrong method
names the allowed ones in `Allow`."""

from __future__ import annotations

import httpx
import orjson
import pytest

from tests.gateway.conftest import Engine, Running

CHAT = "/v1/chat/completions"
BODY = orjson.dumps({"model": "fake", "messages": [{"role": "user", "content": "Befund"}]})


def _error(response: httpx.Response) -> dict[str, object]:
    error: dict[str, object] = response.json()["error"]
    return error


@pytest.mark.parametrize(
    "content_type",
    ["application/x-www-form-urlencoded", "text/plain", "multipart/form-data; boundary=x",
     "application/json; charset=latin-1", "application/jsonp", "text/json"],
)  # fmt: skip
def test_a_body_declared_as_not_json_is_a_readable_415(
    gateway: Running, engine: Engine, content_type: str
) -> None:
    """The same valid JSON object under a non-JSON type: 415 saying what to send, and no engine call."""
    with gateway.client() as client:
        refused = client.post(CHAT, content=BODY, headers={"content-type": content_type})
    assert refused.status_code == 415, refused.text
    error = _error(refused)
    assert error["code"] == "unsupported_media_type" and error["type"] == "invalid_request_error"
    assert "send Content-Type: application/json" in str(error["message"])
    assert error["param"] == "Content-Type"
    assert engine.stats()["started"] == 0


@pytest.mark.parametrize(
    "content_type",
    ["application/json", "application/json; charset=utf-8", 'Application/JSON;charset="UTF-8"',
     "application/vnd.api+json", None],
)  # fmt: skip
def test_json_with_parameters_suffix_or_no_type_is_read(
    gateway: Running, engine: Engine, content_type: str | None
) -> None:
    """The control: JSON types with a charset, a `+json` type, and no Content-Type at all are served."""
    headers = {} if content_type is None else {"content-type": content_type}
    with gateway.client() as client:
        served = client.post(CHAT, content=BODY, headers=headers)
    assert served.status_code == 200, served.text
    assert served.json()["choices"][0]["message"]["content"]


def test_the_type_is_checked_only_after_the_key(gateway: Running) -> None:
    """A stranger's form post is a 401, never a 415: the body of an unauthenticated request is not judged."""
    with httpx.Client(base_url=gateway.url) as anonymous:
        refused = anonymous.post(CHAT, content=BODY, headers={"content-type": "text/plain"})
    assert refused.status_code == 401


@pytest.mark.parametrize(
    "raw", [b'{"model": "fake", "x": "\xff"}', b'{"model": "\xed\xa0\x80"}'], ids=["latin1", "surrogate"]
)
def test_a_body_that_is_not_utf8_is_named_so(gateway: Running, raw: bytes) -> None:
    """400 in the error shape saying the body is not UTF-8 JSON, not the parser's word for surrogates."""
    with gateway.client() as client:
        refused = client.post(CHAT, content=raw, headers={"content-type": "application/json"})
        broken = client.post(CHAT, content=b"{not json", headers={"content-type": "application/json"})
    assert refused.status_code == 400
    message = str(_error(refused)["message"])
    assert "not valid UTF-8 JSON" in message and "surrogates" not in message
    # Control: JSON that is UTF-8 but broken keeps its parser position, and is not called non-UTF-8.
    assert broken.status_code == 400
    assert "UTF-8" not in str(_error(broken)["message"]) and "column" in str(_error(broken)["message"])


def test_a_wrong_method_names_the_allowed_ones(gateway: Running) -> None:
    """405 in the error shape, with the `Allow` header HTTP requires; the control, a GET of /v1/models,
    is served."""
    with gateway.client() as client:
        wrong = client.get(CHAT)
        also_wrong = client.delete("/v1/models")
        right = client.get("/v1/models")
    assert wrong.status_code == 405 and wrong.headers["allow"] == "POST"
    assert _error(wrong)["type"] == "invalid_request_error"
    assert wrong.headers["cache-control"] == "no-store"
    assert also_wrong.status_code == 405 and "GET" in also_wrong.headers["allow"].split(", ")
    assert right.status_code == 200 and "allow" not in right.headers
