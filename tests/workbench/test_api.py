"""The workbench JSON API over a real gateway and store, with a fake engine behind it."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import orjson
import pytest

from medvault.store import Role
from medvault.workbench import _runs
from tests.gateway.conftest import Engine
from tests.workbench.conftest import DEVICE_TEMPLATES, Bench, make_bench, sse_events

SOURCE = "Die Lunge ist frei. Kein Pleuraerguss links."


def _run(bench: Bench, **body: object) -> list[tuple[str, dict]]:
    payload = {"template_id": "report-correction", "lang": "de", "inputs": {"report": SOURCE}, **body}
    client = bench.api()
    response = client.post("/api/v1/runs", json=payload)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/event-stream")
    return sse_events(response)


def _error(response: object) -> dict:
    body = response.json()  # type: ignore[attr-defined]
    return dict(body["error"])


def seed_flipped_run(bench: Bench) -> str:
    """A stored correction run whose output turned `links` into `rechts`."""
    client = bench.api()
    version = client.get("/api/v1/templates/report-correction?lang=de").json()["version"]
    run = bench.store.save_run(
        user="alice", status="ok", template_id="report-correction", template_version=version,
        model_id="fake", model_digest="sha256:abc", guard_verdict="review", guard_counts={"laterality": 1},
        input_json=orjson.dumps({"report": SOURCE}).decode(),
        output_text="Die Lunge ist frei. Kein Pleuraerguss rechts.",
    )  # fmt: skip
    return run.id


DEVICE_CLASS = {"differential-diagnosis", "fleischner-nodule", "impression-from-findings"}


def test_list_templates_in_both_languages(bench: Bench) -> None:
    """The seven non-device templates are listed per language (device-class ones are not enabled by
    default), anchored ones first, with risk and warning."""
    client = bench.api()
    german = client.get("/api/v1/templates", params={"lang": "de"}).json()
    english = client.get("/api/v1/templates", params={"lang": "en"}).json()
    assert len(german) == len(english) == 7
    assert not {t["id"] for t in german} & DEVICE_CLASS
    assert {t["lang"] for t in german} == {"de"}
    kinds = [t["task_type"] for t in german]
    assert kinds == sorted(kinds, key=["anchored", "semi", "open"].index)
    correction = next(t for t in english if t["id"] == "report-correction")
    assert correction["warning"] and correction["risk"]["privacy"] == 5
    assert correction["version"].startswith("sha256:")


def test_device_class_templates_are_refused_unless_enabled(
    bench: Bench, tmp_path: Path, fake_engine: Engine
) -> None:
    """A device-class template is refused with 403 template_not_enabled by default (listed nowhere, run
    nowhere); with `governance.enable_device_templates` all ten are offered and run."""
    body = {"template_id": "fleischner-nodule", "lang": "de", "inputs": {"report": "Rundherd 7 x 6 mm."}}
    refused = bench.api().post("/api/v1/runs", json=body)
    detail = bench.api().get("/api/v1/templates/fleischner-nodule", params={"lang": "de"})
    assert refused.status_code == 403 and _error(refused)["code"] == "template_not_enabled"
    assert detail.status_code == 403 and _error(detail)["code"] == "template_not_enabled"
    with make_bench(tmp_path / "device", fake_engine, governance=DEVICE_TEMPLATES) as device:
        enabled = device.api()
        listed = {t["id"] for t in enabled.get("/api/v1/templates", params={"lang": "de"}).json()}
        ran = enabled.post("/api/v1/runs", json=body)
    assert len(listed) == 10 and listed >= DEVICE_CLASS
    assert ran.status_code == 200 and sse_events(ran)[-1][0] == "done"


def test_template_detail_and_unknown_template(bench: Bench) -> None:
    """A template's inputs are described; an unknown id is a 404 naming it."""
    client = bench.api()
    detail = client.get("/api/v1/templates/translation", params={"lang": "en"}).json()
    missing = client.get("/api/v1/templates/no-such-template")
    names = {i["name"]: i for i in detail["inputs"]}
    assert names["direction"]["choices"] == ["de-en", "en-de"]
    assert detail["source_variable"] == "text" and detail["guard_task"] == "translation"
    assert missing.status_code == 404
    assert "no-such-template" in _error(missing)["message"]


def test_run_streams_deltas_then_the_checked_record(bench: Bench) -> None:
    """A run streams content events, then a `done` event with guard result, diff and run id."""
    events = _run(bench)
    content = "".join(data["text"] for name, data in events if name == "content")
    assert content.startswith("Die Lunge ist frei.")
    name, done = events[-1]
    assert name == "done"
    assert done["output"] == content
    assert done["status"] == "ok" and done["template_id"] == "report-correction"
    assert done["guard"]["task"] == "correction"
    assert done["guard"]["verdict"] == done["guard_verdict"]
    assert any(s["op"] == "equal" for s in done["diff"])
    assert done["postprocess"]["ok"] is True
    stored = bench.store.get_run(done["id"])
    assert stored is not None and stored.user == "alice" and stored.status == "ok"
    assert stored.guard_counts == done["guard"]["counts"]


def test_run_leaves_no_text_in_audit_and_counts_flags_in_metrics(bench: Bench) -> None:
    """The audit event holds ids and counts only; guard flags reach the metric by template and kind."""
    done = _run(bench)[-1][1]
    event = next(e for e in bench.audit() if e["action"] == "run.create")
    assert event["status"] == 200 and event["user"] == "alice"
    assert (
        event["template_id"] == "report-correction" and event["template_version"] == done["template_version"]
    )
    assert event["detail"]["run_id"] == done["id"]
    assert event["detail"]["input_chars"] == len(SOURCE)
    for kind, count in done["guard"]["counts"].items():
        assert event["detail"][f"guard.{kind}"] == count
    trail = orjson.dumps([e.event.detail for e in bench.store.audit_events()]).decode()
    assert "Pleuraerguss" not in trail and "Lunge" not in trail
    client = bench.api(bench.admin_key)
    metrics = client.get("/metrics").text
    assert done["guard"]["counts"], "the fake engine's answer must trip at least one check"
    assert 'medvault_guard_flags_total{kind="edit_budget",template="report-correction"}' in metrics


def test_content_is_not_kept_without_retention(bench: Bench) -> None:
    """Without a retention period, a run read back has no inputs, output, flags or diff."""
    done = _run(bench)[-1][1]
    client = bench.api()
    record = client.get(f"/api/v1/runs/{done['id']}").json()
    assert record["content_retained"] is False
    assert record["output"] is None and record["inputs"] is None and record["diff"] is None
    assert record["guard_verdict"] == done["guard_verdict"]
    stored = bench.store.get_run(done["id"])
    assert stored is not None and stored.input_json is None and stored.output_text is None


def test_retained_run_reads_back_with_flags_and_diff(retaining_bench: Bench) -> None:
    """With retention, a stored run whose output flipped a side reads back with a laterality flag."""
    run_id = seed_flipped_run(retaining_bench)
    client = retaining_bench.api()
    record = client.get(f"/api/v1/runs/{run_id}").json()
    assert record["content_retained"] is True
    assert record["source"] == SOURCE
    kinds = {f["kind"] for f in record["guard"]["flags"]}
    assert "laterality" in kinds
    flag = next(f for f in record["guard"]["flags"] if f["kind"] == "laterality")
    start, end = flag["output_span"]
    assert record["output"][start:end] == "rechts"
    assert ("delete", "links.") in [(s["op"], s["text"]) for s in record["diff"]]


def test_runs_of_others_are_refused_and_unknown_runs_missing(bench: Bench) -> None:
    """Another clinician's run is 403; an admin may read it; an unknown id is 404."""
    done = _run(bench)[-1][1]
    _, bob_key = bench.store.create_key("bob", Role.CLINICIAN)
    client = bench.api(bob_key)
    assert client.get(f"/api/v1/runs/{done['id']}").status_code == 403
    assert (
        client.post(
            f"/api/v1/runs/{done['id']}/feedback", json={"utility": 5, "critical_error": False}
        ).status_code
        == 403
    )
    assert client.get("/api/v1/runs/nope").status_code == 404
    client = bench.api(bench.admin_key)
    assert client.get(f"/api/v1/runs/{done['id']}").status_code == 200


@pytest.mark.parametrize(
    ("body", "status", "param", "words"),
    [
        ({"template_id": "nope"}, 404, "template_id", "nope"),
        ({"inputs": {}}, 422, "report", "required"),
        ({"inputs": {"report": 42}}, 422, "report", "expected text"),
        ({"inputs": {"report": SOURCE, "extra": "x"}}, 422, "extra", "unknown input"),
        ({"inputs": {"report": "x" * 20_001}}, 413, "inputs", "Tokens"),
        ({"model": "no-such-model"}, 404, "model", "no such model"),
        ({"inputs": "not a mapping"}, 422, "inputs", "dictionary"),
        ({"lang": "fr"}, 422, "lang", "'de'"),
        ({"surprise": 1}, 422, "surprise", "Extra inputs"),
    ],
    ids=["unknown-template", "missing", "ill-typed", "unknown-input", "too-long", "unknown-model",
         "inputs-not-object", "bad-lang", "unknown-field"],
)  # fmt: skip
def test_run_errors(bench: Bench, body: dict, status: int, param: str | None, words: str) -> None:
    """Bad run requests get a clear 4xx naming the field, are audited, and store no run."""
    payload = {"template_id": "report-correction", "lang": "de", "inputs": {"report": SOURCE}, **body}
    client = bench.api()
    response = client.post("/api/v1/runs", json=payload)
    assert response.status_code == status, response.text
    error = _error(response)
    assert words in error["message"]
    if param is not None:
        assert error["param"] == param
    assert [e["status"] for e in bench.audit() if e["action"] == "run.create"] == [status]
    assert bench.store.list_runs() == []


def test_body_over_the_limit_is_413(bench: Bench) -> None:
    """A body larger than limits.max_body_bytes is refused before it is parsed."""
    big = {"template_id": "report-correction", "inputs": {"report": "x" * 1_100_000}}
    client = bench.api()
    response = client.post("/api/v1/runs", json=big)
    assert response.status_code == 413


def _chunks(data: bytes, size: int = 64 * 1024) -> Iterator[bytes]:
    """A body httpx sends with `Transfer-Encoding: chunked` and no `Content-Length`."""
    for start in range(0, len(data), size):
        yield data[start : start + size]


def test_chunked_body_over_the_limit_is_413(bench: Bench) -> None:
    """A chunked body without Content-Length meets the same limit: 413, audited, no run stored."""
    big = orjson.dumps({"template_id": "report-correction", "inputs": {"report": "x" * 1_100_000}})
    client = bench.api()
    request = client.build_request(
        "POST", "/api/v1/runs", content=_chunks(big), headers={"content-type": "application/json"}
    )
    assert "content-length" not in request.headers
    assert request.headers["transfer-encoding"] == "chunked"
    response = client.send(request)
    assert response.status_code == 413, response.text
    assert _error(response)["code"] == "payload_too_large"
    assert [e["status"] for e in bench.audit() if e["action"] == "run.create"] == [413]
    assert bench.store.list_runs() == []


def test_chunked_body_under_the_limit_runs_and_bad_json_is_400(bench: Bench) -> None:
    """A small chunked body is read as usual; a body that is not JSON is a 400 in the error shape."""
    body = orjson.dumps({"template_id": "report-correction", "lang": "de", "inputs": {"report": SOURCE}})
    client = bench.api()
    headers = {"content-type": "application/json"}
    ran = client.post("/api/v1/runs", content=_chunks(body, 16), headers=headers)
    assert ran.status_code == 200 and sse_events(ran)[-1][0] == "done"
    broken = client.post("/api/v1/runs", content=b"{not json", headers=headers)
    assert broken.status_code == 400 and "not valid JSON" in _error(broken)["message"]


def test_reasoning_streams_separately_from_the_answer(bench: Bench) -> None:
    """A reasoning model's <think> block arrives as `reasoning` events and stays out of the output."""
    events = _run(bench, inputs={"report": "__think__ Lunge frei."})
    reasoning = "".join(data["text"] for name, data in events if name == "reasoning")
    content = "".join(data["text"] for name, data in events if name == "content")
    # The fake engine cycles its pieces over 16 chunks, so its think block comes twice.
    assert reasoning.startswith("Befund prüfen") and "think>" not in reasoning
    assert "think>" not in content and "Befund" not in content and "Lunge" in content
    done = events[-1][1]
    assert done["reasoning"] == reasoning and done["output"] == content


def test_engine_failure_mid_stream_is_an_error_event(bench: Bench) -> None:
    """An engine that dies mid-answer yields an `error` event; the run is stored as failed."""
    events = _run(bench, inputs={"report": "__die__ Lunge frei"})
    assert events[-1][0] == "error"
    assert events[-1][1]["error"]["code"]
    runs = bench.store.list_runs()
    assert [r.status for r in runs] == ["error"]
    event = next(e for e in bench.audit() if e["action"] == "run.create")
    assert event["status"] >= 500 and event["detail"]["stream_error"]


def test_unauthenticated_and_refused_roles(bench: Bench) -> None:
    """No credentials is 401; an auditor may not run templates (403); both are audited."""
    client = bench.browser()
    response = client.get("/api/v1/templates")
    assert response.status_code == 401
    _, auditor_key = bench.store.create_key("audrey", Role.AUDITOR)
    client = bench.api(auditor_key)
    assert client.get("/api/v1/templates").status_code == 403
    statuses = [e["status"] for e in bench.audit() if e["action"] == "templates.list"]
    assert statuses == [401, 403]


def test_feedback_is_stored_with_template_and_model_not_text(retaining_bench: Bench) -> None:
    """Feedback records run, template id+version and model digest; the audit has no comment."""
    run_id = seed_flipped_run(retaining_bench)
    body = {"utility": 7, "critical_error": True, "categories": ["omission"], "comment": "Seite vertauscht"}
    client = retaining_bench.api()
    response = client.post(f"/api/v1/runs/{run_id}/feedback", json=body)
    assert response.status_code == 201, response.text
    saved = response.json()
    assert saved["run_id"] == run_id and saved["template_id"] == "report-correction"
    assert saved["model_digest"] == "sha256:abc" and saved["categories"] == ["omission"]
    [stored] = retaining_bench.store.list_feedback()
    assert stored.utility == 7 and stored.comment == "Seite vertauscht"
    event = next(e for e in retaining_bench.audit() if e["action"] == "feedback.create")
    assert event["status"] == 201 and event["detail"]["run_id"] == run_id
    assert "Seite" not in orjson.dumps(event).decode()


def test_rating_a_run_again_replaces_the_rating(retaining_bench: Bench) -> None:
    """A run keeps one rating: a second one replaces it (`replaced`), both are audited, and the run
    reads back with the current rating."""
    run_id = seed_flipped_run(retaining_bench)
    client = retaining_bench.api()
    first = client.post(f"/api/v1/runs/{run_id}/feedback", json={"utility": 8, "critical_error": False})
    second = client.post(
        f"/api/v1/runs/{run_id}/feedback",
        json={"utility": 2, "critical_error": True, "categories": ["laterality"]},
    )
    assert first.status_code == second.status_code == 201
    assert (first.json()["replaced"], second.json()["replaced"]) == (False, True)
    assert second.json()["id"] == first.json()["id"]
    [stored] = retaining_bench.store.list_feedback()
    assert stored.utility == 2 and stored.categories == ["laterality"]
    events = [e["detail"] for e in retaining_bench.audit() if e["action"] == "feedback.create"]
    assert [(d["utility"], d["replaced"]) for d in events] == [(8, False), (2, True)]
    rating = client.get(f"/api/v1/runs/{run_id}").json()["feedback"]
    assert rating["utility"] == 2 and rating["critical_error"] and rating["categories"] == ["laterality"]


def test_feedback_comment_follows_retention(bench: Bench) -> None:
    """Without retention the feedback's comment is dropped; the ratings stay."""
    run_id = _run(bench)[-1][1]["id"]
    client = bench.api()
    response = client.post(
        f"/api/v1/runs/{run_id}/feedback", json={"utility": 3, "critical_error": False, "comment": "text"}
    )
    assert response.status_code == 201
    [stored] = bench.store.list_feedback()
    assert stored.utility == 3 and stored.comment is None


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"utility": 11, "critical_error": False}, "utility"),
        ({"utility": -1, "critical_error": False}, "utility"),
        ({"utility": "7", "critical_error": False}, "utility"),
        ({"utility": 5, "critical_error": "yes"}, "critical_error"),
        ({"utility": 5, "critical_error": True, "categories": ["typo"]}, "categories[0]"),
        ({"utility": 5, "critical_error": False, "categories": ["omission"]}, "categories"),
        ({"critical_error": False}, "utility"),
    ],
    ids=["too-high", "negative", "string", "bool-as-text", "unknown-category", "category-without-error",
         "missing"],
)  # fmt: skip
def test_feedback_errors(bench: Bench, body: dict, param: str) -> None:
    """Ill-formed feedback is a 422 naming the field, and nothing is stored."""
    run_id = _run(bench)[-1][1]["id"]
    client = bench.api()
    response = client.post(f"/api/v1/runs/{run_id}/feedback", json=body)
    assert response.status_code == 422, response.text
    assert _error(response)["param"] == param
    assert bench.store.list_feedback() == []


def test_feedback_on_unknown_run_is_404(bench: Bench) -> None:
    """Feedback needs an existing run."""
    client = bench.api()
    response = client.post("/api/v1/runs/nope/feedback", json={"utility": 5, "critical_error": False})
    assert response.status_code == 404


def test_survey_is_stored_and_validated(bench: Bench) -> None:
    """The survey takes stability and ease of use 0–10; other values are 422."""
    client = bench.api()
    ok = client.post("/api/v1/survey", json={"stability": 8, "ease_of_use": 9, "comment": "gut"})
    bad = client.post("/api/v1/survey", json={"stability": 11, "ease_of_use": 9})
    assert ok.status_code == 201 and ok.json()["stability"] == 8
    assert bad.status_code == 422 and _error(bad)["param"] == "stability"
    actions = [(e["action"], e["status"]) for e in bench.audit() if e["action"] == "survey.create"]
    assert actions == [("survey.create", 201), ("survey.create", 422)]


def test_answering_the_survey_again_replaces_the_answer(bench: Bench) -> None:
    """Each user has one survey answer; answering again replaces it and says so."""
    client = bench.api()
    first = client.post("/api/v1/survey", json={"stability": 3, "ease_of_use": 4})
    again = client.post("/api/v1/survey", json={"stability": 9, "ease_of_use": 8})
    assert (first.json()["replaced"], again.json()["replaced"]) == (False, True)
    answer = bench.store.get_survey("alice")
    assert answer is not None and (answer.stability, answer.ease_of_use) == (9, 8)


def test_api_is_in_the_openapi_document(bench: Bench) -> None:
    """Clients find every workbench route and its body models in /openapi.json."""
    client = bench.api()
    schema = client.get("/openapi.json").json()
    paths = schema["paths"]
    for path in ("/api/v1/templates", "/api/v1/templates/{template_id}", "/api/v1/runs",
                 "/api/v1/runs/{run_id}", "/api/v1/runs/{run_id}/feedback", "/api/v1/survey"):  # fmt: skip
        assert path in paths, path
    assert {"RunIn", "RunOut", "FeedbackIn", "SurveyIn"} <= set(schema["components"]["schemas"])


def _fill(spec: dict) -> object:
    if spec["type"] == "choice":
        return spec["choices"][0]
    return {"number": 6, "boolean": False}.get(spec["type"], SOURCE)


@pytest.mark.parametrize("lang", ["de", "en"])
def test_every_template_runs_with_its_guard_profile(bench: Bench, lang: str) -> None:
    """Each shipped template runs; templates with a guard profile come back checked, and exactly the
    same-language, plain-text anchored ones are diffed (not translation, not the JSON ones)."""
    client = bench.api()
    diffed = set()
    for summary in client.get("/api/v1/templates", params={"lang": lang}).json():
        detail = client.get(f"/api/v1/templates/{summary['id']}", params={"lang": lang}).json()
        inputs = {spec["name"]: _fill(spec) for spec in detail["inputs"] if spec["required"]}
        body = {"template_id": detail["id"], "lang": lang, "inputs": inputs}
        response = client.post("/api/v1/runs", json=body)
        assert response.status_code == 200, (detail["id"], response.text)
        name, done = sse_events(response)[-1]
        assert name == "done" and done["status"] == "ok", (detail["id"], done)
        assert (done["guard"] is not None) == (detail["guard_task"] is not None), detail["id"]
        if done["diff"] is not None:
            diffed.add(detail["id"])
        assert (
            "guard_error"
            not in next(e for e in reversed(bench.audit()) if e["action"] == "run.create")["detail"]
        ), detail["id"]
    assert diffed == {"report-correction", "patient-simplification", "referrer-summary"}


def test_client_disconnect_mid_stream_is_recorded_as_cancelled(bench: Bench) -> None:
    """A client that goes away mid-answer leaves a `cancelled` run and a 499 audit event."""
    payload = {"template_id": "report-correction", "lang": "de", "inputs": {"report": "__slow__ Lunge frei"}}
    client = bench.api()
    with client.stream("POST", "/api/v1/runs", json=payload) as response:
        assert response.status_code == 200
        for line in response.iter_lines():
            if line.startswith("event: content"):
                break
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not bench.store.list_runs():
        time.sleep(0.05)
    [run] = bench.store.list_runs()
    assert run.status == "cancelled"
    while time.monotonic() < deadline and not any(e["action"] == "run.create" for e in bench.audit()):
        time.sleep(0.05)
    event = next(e for e in bench.audit() if e["action"] == "run.create")
    assert event["status"] == 499 and event["detail"]["run_id"] == run.id


@pytest.mark.parametrize(
    ("body", "judged"),
    [(b"{not json", 400), (b'{"surprise": 1}', 422), (b"x" * 1_100_000, 413)],
    ids=["not-json", "invalid", "too-large"],
)
def test_auth_comes_before_the_body(bench: Bench, body: bytes, judged: int) -> None:
    """Without credentials (or with a session but no CSRF token) a bad body is refused for who sent it,
    401 or 403, never judged; with a key the same body gets its 400, 413 or 422."""
    headers = {"content-type": "application/json"}
    assert bench.browser().post("/api/v1/runs", content=body, headers=headers).status_code == 401
    session, _ = bench.sign_in()
    refused = session.post("/api/v1/runs", content=body, headers=headers)
    assert refused.status_code == 403 and _error(refused)["code"] == "csrf_failed"
    assert bench.api().post("/api/v1/runs", content=body, headers=headers).status_code == judged
    assert [e["status"] for e in bench.audit() if e["action"] == "run.create"] == [401, 403, judged]


def test_auditor_reads_runs_but_cannot_run_templates(bench: Bench) -> None:
    """An auditor may read another user's run; running a template is refused (403) and audited with who."""
    done = _run(bench)[-1][1]
    _, auditor_key = bench.store.create_key("audrey", Role.AUDITOR)
    client = bench.api(auditor_key)
    assert client.get(f"/api/v1/runs/{done['id']}").status_code == 200
    payload = {"template_id": "report-correction", "lang": "de", "inputs": {"report": SOURCE}}
    assert client.post("/api/v1/runs", json=payload).status_code == 403
    refused = [e for e in bench.audit() if e["action"] == "run.create" and e["status"] == 403]
    assert [e["user"] for e in refused] == ["audrey"]
    assert len(bench.store.list_runs()) == 1


def test_api_answers_are_no_store_and_nosniff(bench: Bench) -> None:
    """Workbench API answers, served, streamed, refused or invalid, carry both headers exactly once."""
    payload = {"template_id": "report-correction", "lang": "de", "inputs": {"report": SOURCE}}
    client = bench.api()
    answers = [
        client.get("/api/v1/templates"),
        client.post("/api/v1/runs", json=payload),
        client.post("/api/v1/runs", json={"surprise": 1}),
        bench.browser().get("/api/v1/templates"),
    ]
    assert [a.status_code for a in answers] == [200, 200, 422, 401]
    for answer in answers:
        assert answer.headers.get_list("cache-control") == ["no-store"], answer.headers
        assert answer.headers.get_list("x-content-type-options") == ["nosniff"], answer.headers


def test_a_key_that_is_text_is_not_named(bench: Bench) -> None:
    """An unknown body field whose name is not a plain identifier is refused without repeating it."""
    payload = {"template_id": "report-correction", "lang": "de", "inputs": {"report": SOURCE}}
    response = bench.api().post("/api/v1/runs", json={**payload, "Erika Mustermann, geb. 1960": 1})
    assert response.status_code == 422
    assert _error(response)["param"] is None and "Mustermann" not in response.text


def _keyed(bench: Bench, key: str, report: str = SOURCE) -> httpx.Response:
    payload = {"template_id": "report-correction", "lang": "de", "inputs": {"report": report}}
    return bench.api().post("/api/v1/runs", json=payload, headers={"idempotency-key": key})


def test_a_retried_run_with_the_same_key_is_refused_naming_the_first(bench: Bench) -> None:
    """The same Idempotency-Key twice: one run in the store, the retry a 409 naming it, both audited."""
    key = str(uuid.uuid4())
    first = _keyed(bench, key)
    assert first.status_code == 200 and sse_events(first)[-1][0] == "done"
    again = _keyed(bench, key)
    [run] = bench.store.list_runs()
    assert again.status_code == 409, again.text
    error = _error(again)
    assert error["code"] == "run_exists" and run.id in error["message"]
    events = [e for e in bench.audit() if e["action"] == "run.create"]
    assert [e["status"] for e in events] == [200, 409]
    assert events[1]["detail"]["run_id"] == run.id
    other = _keyed(bench, str(uuid.uuid4()))  # a new key is a new run
    assert other.status_code == 200 and len(bench.store.list_runs()) == 2


def test_a_retry_while_the_first_still_waits_is_refused(bench: Bench) -> None:
    """A retry that arrives while the first request waits for the engine gets 409 `run_in_progress`;
    the first still completes, and only one run is stored."""
    key = str(uuid.uuid4())
    with ThreadPoolExecutor(1) as pool:
        first = pool.submit(_keyed, bench, key, "__late:2__ " + SOURCE)
        time.sleep(1)
        again = _keyed(bench, key)
        assert first.result().status_code == 200
    assert again.status_code == 409 and _error(again)["code"] == "run_in_progress"
    assert sse_events(first.result())[-1][0] == "done"
    assert len(bench.store.list_runs()) == 1


def test_a_key_that_is_not_a_uuid_is_422_and_a_refused_run_frees_its_key(bench: Bench) -> None:
    """A malformed Idempotency-Key is a 422 naming the header; a run refused before it started (an
    unknown model) leaves its key free for the corrected request."""
    assert _error(_keyed(bench, "not-a-uuid"))["param"] == "Idempotency-Key"
    key = str(uuid.uuid4())
    payload = {"template_id": "report-correction", "inputs": {"report": SOURCE}, "model": "no-such-model"}
    refused = bench.api().post("/api/v1/runs", json=payload, headers={"idempotency-key": key})
    assert refused.status_code == 404
    assert _keyed(bench, key).status_code == 200


def test_the_stream_opens_before_the_first_token_and_keeps_alive(
    bench: Bench, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While the engine is silent the stream has already sent its headers, a `queued` status and
    keep-alive comments; `generating` follows with the first word."""
    monkeypatch.setattr(_runs, "KEEPALIVE_S", 0.3)
    payload = {"template_id": "report-correction", "lang": "de", "inputs": {"report": "__late:2__ x"}}
    started = time.monotonic()
    with bench.api().stream("POST", "/api/v1/runs", json=payload) as response:
        assert response.status_code == 200
        chunks = iter(response.iter_bytes())
        first = next(chunks)
        opened_s = time.monotonic() - started
        body = first + b"".join(chunks)
    assert opened_s < 1.5 and first.startswith(b"event: status")
    text = body.decode()
    assert text.index(": keep-alive") < text.index('"generating"') < text.index("event: content")
    assert text.rstrip().split("\n\n")[-1].startswith("event: done")


def test_recent_runs_list_the_callers_own_runs_as_metadata(retaining_bench: Bench) -> None:
    """GET /runs?mine=1 lists the caller's newest runs first with title, verdict, rated and whether the
    text is kept; another user's runs and the text itself are not in it."""
    first = _run(retaining_bench)[-1][1]
    second = _run(retaining_bench)[-1][1]
    client = retaining_bench.api()
    assert (
        client.post(
            f"/api/v1/runs/{first['id']}/feedback", json={"utility": 6, "critical_error": False}
        ).status_code
        == 201
    )
    _, bob_key = retaining_bench.store.create_key("bob", Role.CLINICIAN)
    retaining_bench.api(bob_key).post(
        "/api/v1/runs", json={"template_id": "report-correction", "lang": "de", "inputs": {"report": SOURCE}}
    )
    listed = client.get("/api/v1/runs", params={"mine": 1, "limit": 20})
    assert listed.status_code == 200, listed.text
    runs = listed.json()["runs"]
    assert [r["id"] for r in runs] == [second["id"], first["id"]]
    assert runs[1]["rated"] is True and runs[0]["rated"] is False
    assert runs[0]["has_content"] is True and runs[0]["template_title"] and runs[0]["status"] == "ok"
    assert runs[0]["guard_verdict"] == second["guard_verdict"]
    assert "Pleuraerguss" not in listed.text
    assert client.get("/api/v1/runs", params={"mine": 0}).status_code == 422
    assert client.get("/api/v1/runs", params={"limit": 101}).status_code == 422


def test_a_run_without_kept_text_says_why_in_the_ui_language(bench: Bench) -> None:
    """Without retention a run reads back with output null, content_kept false and a note in the
    session's language; the live `done` record says the same."""
    client, csrf = bench.sign_in()
    client.get("/workbench?lang=en")
    body = {"template_id": "report-correction", "lang": "de", "inputs": {"report": SOURCE}}
    done = sse_events(client.post("/api/v1/runs", json=body, headers={"x-csrf-token": csrf}))[-1][1]
    assert done["output"] and done["content_kept"] is False
    record = client.get(f"/api/v1/runs/{done['id']}").json()
    assert record["output"] is None and record["content_kept"] is False
    assert record["content_note"].startswith("The text of this run is not kept on the server")
    listed = client.get("/api/v1/runs?mine=1").json()["runs"]
    assert listed[0]["id"] == done["id"] and listed[0]["has_content"] is False


def test_kept_run_has_no_note_and_guard_speaks_the_ui_language(retaining_bench: Bench) -> None:
    """A kept run has content_kept true and no note; its guard flags carry a code, the words on both
    sides and a sentence in the session's language, and a summary of what was checked."""
    run_id = seed_flipped_run(retaining_bench)
    client, _ = retaining_bench.sign_in()
    record = client.get(f"/api/v1/runs/{run_id}").json()
    assert record["content_kept"] is True and record["content_note"] is None
    guard = record["guard"]
    assert guard["summary"] and "content" in guard["not_checked"]
    flag = next(f for f in guard["flags"] if f["kind"] == "laterality")
    assert flag["code"] and flag["text"] and "rechts" in flag["text"]


def test_guard_verdict_strings_reach_the_audit_trail(bench: Bench) -> None:
    """The run's audit event records the guard's verdict string (ok, review or unchecked), never text."""
    done = _run(bench)[-1][1]
    event = next(e for e in bench.audit() if e["action"] == "run.create")
    assert event["detail"]["guard_verdict"] == done["guard"]["verdict"] in ("ok", "review", "unchecked")
