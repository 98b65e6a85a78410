"""The workbench API under the gateway's body rule: a declared non-JSON type is a readable 415 (never
pydantic's "field `body`" complaint), JSON with a charset or no type is read, bytes that are not UTF-8 are
named as such, and a wrong method names the allowed ones in `Allow`."""

from __future__ import annotations

import httpx
import orjson

from tests.workbench.conftest import Bench, sse_events

RUN = orjson.dumps({"template_id": "report-correction", "lang": "de", "inputs": {"report": "Lunge frei."}})
TOKENS = RUN  # the token counter takes the same body


def _error(response: httpx.Response) -> dict[str, object]:
    error: dict[str, object] = response.json()["error"]
    return error


def test_form_typed_json_is_a_readable_415_and_json_with_a_charset_runs(bench: Bench) -> None:
    """`curl -d` sends its form type: 415 saying what to send, no run, audited; the same bytes as
    `application/json; charset=utf-8` or with no type at all run."""
    client = bench.api()
    for content_type in ("application/x-www-form-urlencoded", "text/plain"):
        refused = client.post("/api/v1/runs", content=RUN, headers={"content-type": content_type})
        assert refused.status_code == 415, refused.text
        error = _error(refused)
        assert error["code"] == "unsupported_media_type" and error["param"] == "Content-Type"
        assert "send Content-Type: application/json" in str(error["message"])
        assert "field `body`" not in str(error["message"])
    assert bench.store.list_runs() == []
    tokens = client.post("/api/v1/tokens", content=TOKENS, headers={"content-type": "text/plain"})
    assert tokens.status_code == 415
    assert [e["status"] for e in bench.audit() if e["action"] in ("run.create", "tokens.count")] == [
        415, 415, 415,
    ]  # fmt: skip
    # Controls: a charset parameter, and no Content-Type at all, are read as JSON.
    ran = client.post(
        "/api/v1/runs", content=RUN, headers={"content-type": "application/json; charset=utf-8"}
    )
    assert ran.status_code == 200 and sse_events(ran)[-1][0] == "done"
    request = client.build_request("POST", "/api/v1/tokens", content=TOKENS)
    assert "content-type" not in request.headers  # httpx sends none for raw bytes
    counted = client.send(request)
    assert counted.status_code == 200 and counted.json()["tokens"] > 0, counted.text


def test_a_body_that_is_not_utf8_is_named_so(bench: Bench) -> None:
    """400 in the error shape saying the body is not UTF-8 JSON, not the parser's word for surrogates."""
    raw = RUN.replace(b"Lunge", b"L\xfcnge")  # Latin-1, as an old client might send it
    refused = bench.api().post("/api/v1/runs", content=raw, headers={"content-type": "application/json"})
    assert refused.status_code == 400
    message = str(_error(refused)["message"])
    assert "not valid UTF-8 JSON" in message and "surrogates" not in message


def test_a_wrong_method_names_the_allowed_ones(bench: Bench) -> None:
    """405 with `Allow` (HTTP requires it) in the API's error shape; the control, the allowed GET, is
    served."""
    client = bench.api()
    wrong = client.delete("/api/v1/templates")
    assert wrong.status_code == 405 and wrong.headers["allow"].split(", ") == ["GET"]
    assert "error" in wrong.json()
    runs = client.put("/api/v1/runs")
    assert runs.status_code == 405 and set(runs.headers["allow"].split(", ")) >= {"GET", "POST"}
    assert client.get("/api/v1/templates").status_code == 200
