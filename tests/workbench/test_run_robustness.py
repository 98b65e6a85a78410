"""A run survives what its answer or its checks throw at it: a bounded diff, a failing postprocessing
or guard, a client gone while it sends its body."""

from __future__ import annotations

import difflib
import json
import re
import socket
import time
import uuid
from typing import Any
from urllib.parse import urlparse

import httpx
import pytest

from medvault.templates import Template
from medvault.workbench import _diff, _runs
from medvault.workbench._diff import word_diff
from tests.workbench.conftest import Bench, sse_events

SOURCE = "Die Lunge ist frei. Kein Pleuraerguss links."
# A realistic report: sentences that share many short words ("der", "die", "mm"), as reports do.
_SENTENCES = [
    "Die Lunge ist beidseits frei belüftet.", "Kein Pleuraerguss links, kein Pleuraerguss rechts.",
    "Im rechten Oberlappen ein Rundherd von 6 mm, unverändert zur Voruntersuchung.",
    "Das Herz ist normal groß, die Aorta ist nicht erweitert.",
    "Die Lymphknoten im Mediastinum sind nicht vergrößert.",
    "Die Leber ist homogen, die Gallenblase ist unauffällig.",
    "Im linken Unterlappen ein Knoten von 4 mm, neu seit der Voruntersuchung.",
]  # fmt: skip


def _reference(source: str, output: str) -> list[tuple[str, str]]:
    """The diff as it was before the budget: difflib's exact matcher, unbounded (the oracle)."""
    src = [(m.start(), m.end()) for m in re.finditer(r"\S+", source)]
    out = [(m.start(), m.end()) for m in re.finditer(r"\S+", output)]
    matcher = difflib.SequenceMatcher(
        None, [source[s:e] for s, e in src], [output[s:e] for s, e in out], autojunk=False
    )
    expected = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            expected.append(("equal", output[out[j1][0] : out[j2 - 1][1]]))
            continue
        if i2 > i1:
            expected.append(("delete", source[src[i1][0] : src[i2 - 1][1]]))
        if j2 > j1:
            expected.append(("insert", output[out[j1][0] : out[j2 - 1][1]]))
    return expected


@pytest.mark.parametrize("sentences", [12, 60, 240])
def test_a_realistic_report_gets_the_same_diff_as_before(sentences: int) -> None:
    """Reports of a hundred to a few thousand words get exactly difflib's exact diff."""
    source = " ".join(_SENTENCES[i % len(_SENTENCES)] for i in range(sentences))
    output = source.replace("links", "rechts").replace("6 mm", "8 mm").replace("neu seit", "seit")
    diff = word_diff(source, output)
    assert diff is not None
    got = [(s["op"], s["text"]) for s in diff]
    assert got == _reference(source, output)
    assert ("insert", "rechts,") in got  # the oracle compares something that changed


def test_repetitive_text_is_diffed_within_a_second() -> None:
    """10,000 against 2,048 repetitive words (minutes for the exact matcher) take under a second: the
    exact matcher stops at its budget and the cheaper one answers."""
    words_a, words_b = ["x"] * 10000, ["x", "y"] * 1024
    with pytest.raises(_diff._OverBudget):  # positive control: the exact matcher is what is too slow
        _diff._BudgetedMatcher(words_a, words_b, False, _diff.BUDGET).get_opcodes()
    started = time.perf_counter()
    diff = word_diff("x " * 10000, "x y " * 1024)
    assert time.perf_counter() - started < 1.0
    assert diff is not None and {s["op"] for s in diff} <= {"equal", "delete", "insert"}


def test_no_diff_when_both_matchers_are_over_budget() -> None:
    """A pair too costly for both matchers gets no diff (the page shows the answer without one)."""
    source, output = "x " * 3000, "x " * 150  # under 200 words: the frequent-word matcher ignores nothing
    assert word_diff(source, output, budget=100_000) is None
    assert word_diff(source, output) is not None  # positive control: within the default budget


def _keyed(bench: Bench, key: str, report: str = SOURCE) -> httpx.Response:
    payload = {"template_id": "report-correction", "lang": "de", "inputs": {"report": report}}
    return bench.api().post("/api/v1/runs", json=payload, headers={"idempotency-key": key})


def _wait_for(check: Any, seconds: float = 10) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if found := check():
            return found
        time.sleep(0.05)
    return check()


def test_a_run_without_a_diff_says_why(bench: Bench, monkeypatch: pytest.MonkeyPatch) -> None:
    """When the diff is over budget the run carries `diff_note` in the reader's language instead of
    silence; control: a normal run has its diff and no note."""
    control = sse_events(_keyed(bench, str(uuid.uuid4())))[-1][1]
    assert control["diff"] and control["diff_note"] is None
    monkeypatch.setattr(_runs, "word_diff", lambda source, output: None)
    name, done = sse_events(_keyed(bench, str(uuid.uuid4())))[-1]
    assert name == "done" and done["diff"] is None
    assert done["diff_note"].startswith("Kein Wortvergleich")


def test_a_failing_postprocessing_still_sends_done_with_the_answer(
    bench: Bench, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A postprocessing that raises leaves the answer and the diff; its error is a fixed text."""
    control = sse_events(_keyed(bench, str(uuid.uuid4())))[-1]
    assert control[0] == "done" and control[1]["postprocess"]["ok"] is True

    def broken(self: Template, output_text: str, inputs: Any = None) -> Any:
        raise RuntimeError("Pleuraerguss " + output_text)  # content in the message: never shown

    monkeypatch.setattr(Template, "postprocess", broken)
    name, done = sse_events(_keyed(bench, str(uuid.uuid4())))[-1]
    assert name == "done", done
    assert done["output"].startswith("Die Lunge ist frei.") and done["diff"]
    assert done["postprocess"] == {"error": _runs._POSTPROCESS_FAILED}
    assert [r.status for r in bench.store.list_runs()] == ["ok", "ok"]


def test_a_failing_guard_stores_the_run_as_an_error_and_ends_the_stream(
    bench: Bench, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The guard raising: one stored run (error), audited 500, an `error` event coded `internal`, and a
    retry with the same key hears the run exists."""

    def broken(*_: Any) -> Any:
        raise RuntimeError("guard fault")

    monkeypatch.setattr(_runs, "guard_check", broken)
    key = str(uuid.uuid4())
    first = _keyed(bench, key)
    assert first.status_code == 200
    name, event = sse_events(first)[-1]
    assert name == "error" and event["code"] == "internal", event
    [run] = bench.store.list_runs()
    assert run.status == "error"
    audit = [e for e in bench.audit() if e["action"] == "run.create"]
    assert [e["status"] for e in audit] == [500]
    assert audit[0]["detail"]["run_id"] == run.id and audit[0]["detail"]["stream_error"] == "internal"
    again = _keyed(bench, key)
    assert again.status_code == 409 and again.json()["error"]["code"] == "run_exists", again.text
    monkeypatch.undo()  # positive control: the same request with a working guard completes
    assert sse_events(_keyed(bench, str(uuid.uuid4())))[-1][0] == "done"


def _send_part_of_a_body(bench: Bench, declared: int, sent: bytes) -> None:
    """POST a run declaring `declared` body bytes, send `sent`, then hang up."""
    url = urlparse(bench.url)
    with socket.create_connection((url.hostname, url.port)) as conn:
        conn.sendall(
            b"POST /api/v1/runs HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n"
            + f"Authorization: Bearer {bench.key}\r\nContent-Length: {declared}\r\n\r\n".encode()
            + sent
        )
        time.sleep(0.3)


def test_a_client_gone_while_sending_its_body_is_audited_as_499(bench: Bench) -> None:
    """A request body cut short by a disconnect is the client's doing (499), not a server fault."""
    body = json.dumps({"template_id": "report-correction", "lang": "de", "inputs": {"report": SOURCE}})
    _send_part_of_a_body(bench, len(body) + 500, body.encode()[:20])
    statuses = _wait_for(lambda: [e["status"] for e in bench.audit() if e["action"] == "run.create"])
    assert statuses == [499]
    assert not bench.store.list_runs()
    # Positive control: the whole body over the same kind of connection starts a run.
    _send_part_of_a_body(bench, len(body), body.encode())
    assert _wait_for(lambda: len(bench.store.list_runs()) == 1)
