"""The evaluation harness's own logic: cases, per-case measures, the pass/fail policy, the report.

The engine here is a scripted `Engine` (the harness's seam): it answers what each test needs, so the
numbers are known in advance. The real model runs in test_evaluation_e2e.py.
"""

from __future__ import annotations

import asyncio
import csv
import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from medvault.config import EvaluationPolicySettings
from medvault.errors import BackendUnavailable
from medvault.governance import Combination, current_combination, guard_version
from medvault.governance._eval_policy import judge, record_evaluation
from medvault.governance._eval_report import write_report
from medvault.governance._evaluation import (
    Answer,
    Case,
    EvaluationError,
    Plan,
    TemplateMetrics,
    case_file,
    load_cases,
    run_case,
    run_plan,
)
from medvault.store import Store
from medvault.templates import Template, TemplateLibrary, load_file

LIB = TemplateLibrary.load()
DIGEST = "sha256:" + "cd" * 32


class Scripted:
    """An engine whose answer is a function of the request; it records the bodies it got."""

    def __init__(self, answer: Callable[[dict[str, Any]], str], digest: str = DIGEST) -> None:
        self._answer = answer
        self.bodies: list[dict[str, Any]] = []
        self._digest = digest

    async def complete(self, body: dict[str, Any]) -> Answer:
        self.bodies.append(body)
        return Answer(self._answer(body), 40, 20, self._digest)


class Failing:
    async def complete(self, body: dict[str, Any]) -> Answer:
        raise BackendUnavailable("engine down", code="engine_unavailable")


def _run(template: Template, case: Case, engine: Any) -> Any:
    return asyncio.run(run_case(engine, "m", template, case))


def test_every_shipped_template_has_ten_valid_cases_per_language() -> None:
    """Each of the 20 template files has at least 10 cases that fit its inputs, with unique ids."""
    templates = LIB.list()
    assert len(templates) == 20
    for template in templates:
        cases = load_cases(template)
        assert len(cases) >= 10, template.source
        assert len({c.id for c in cases}) == len(cases)


def test_a_broken_case_file_is_refused_naming_file_and_line(tmp_path: Path) -> None:
    """A case whose inputs do not fit the template stops the evaluation before any engine call."""
    source = Path(LIB.get("report-correction", "en").source)
    copy = tmp_path / source.name
    copy.write_text(source.read_text())
    template = load_file(copy)
    (tmp_path / "cases").mkdir()
    case_file(template).write_text('{"id": "a", "inputs": {"report": "ok"}}\n{"id": "b", "inputs": {}}\n')
    with pytest.raises(EvaluationError, match=r"report-correction\.en\.jsonl:2: not a valid case"):
        load_cases(template)
    case_file(template).write_text(
        '{"id": "a", "inputs": {"report": "x"}}\n{"id": "a", "inputs": {"report": "y"}}\n'
    )
    with pytest.raises(EvaluationError, match="used twice"):
        load_cases(template)


def test_a_case_goes_through_the_clinicians_request_and_guard() -> None:
    """The request is the template's rendering with its sampling; an unchanged correction passes the
    guard, a swapped side is a review."""
    template = LIB.get("report-correction", "en")
    case = Case("c1", {"report": "Small left pleural effusion. Lungs otherwise clear."})
    engine = Scripted(lambda body: "Small left pleural effusion. Lungs otherwise clear.")
    result = _run(template, case, engine)
    assert engine.bodies[0]["messages"] == template.render(case.inputs)
    assert engine.bodies[0]["max_tokens"] == template.sampling.max_tokens
    assert (result.ok, result.guard_verdict, result.length_ratio) == (True, "ok", 1.0)
    assert result.tokens_per_s is not None and result.tokens_per_s > 0
    swapped = _run(
        template, case, Scripted(lambda body: "Small right pleural effusion. Lungs otherwise clear.")
    )
    assert swapped.guard_verdict == "review"


def test_guideline_agreement_is_judged_by_the_calculator() -> None:
    """The model's extraction agrees when the code calculator reaches the case's category from it."""
    template = LIB.get("fleischner-nodule", "en")
    case = next(c for c in load_cases(template) if c.expected["nodule"]["long_axis_mm"] == 7)
    truth = {**case.expected["nodule"], "evidence": "7 x 5 mm"}
    right = _run(template, case, Scripted(lambda body: json.dumps(truth)))
    assert (right.schema_valid, right.agreement) == (True, True)
    wrong = _run(template, case, Scripted(lambda body: json.dumps({**truth, "long_axis_mm": 15})))
    assert (wrong.schema_valid, wrong.agreement) == (True, False)
    broken = _run(template, case, Scripted(lambda body: "no JSON here"))
    assert (broken.schema_valid, broken.agreement) == (False, False)


def test_quotes_not_in_the_source_count_as_invalid() -> None:
    """Of two quotes in a structured answer, the one not verbatim in the report is counted invalid."""
    template = LIB.get("structured-report", "en")
    case = load_cases(template)[2]  # "Small left pleural effusion. ..."
    finding = {"region": "pleura", "finding": "effusion", "present": True, "size_mm": None}
    answer = {
        "examination": None, "indication": None, "comparison": None, "impression": [], "recommendations": [],
        "findings": [
            {**finding, "laterality": "left", "quote": "Small left pleural effusion."},
            {**finding, "laterality": "right", "quote": "Large right pleural effusion."},
        ],
    }  # fmt: skip
    result = _run(template, case, Scripted(lambda body: json.dumps(answer)))
    assert (result.quotes, result.quotes_invalid) == (2, 1), result


def test_engine_failures_are_counted_not_raised() -> None:
    """A refused request is a failed run with the engine's error code; the evaluation goes on."""
    template = LIB.get("translation", "de")
    plan = Plan([(template, load_cases(template)[:3])])
    metrics, results, digests = asyncio.run(run_plan(Failing(), "m", plan))
    assert [r.error for r in results] == ["engine_unavailable"] * 3
    assert (metrics[0].runs, metrics[0].failed, metrics[0].review_per_100) == (3, 3, None)
    assert digests == set()


def test_metrics_per_template_and_the_cap() -> None:
    """Review and unchecked are per 100 answered runs; a cap lowers every request's max_tokens."""
    template = LIB.get("report-correction", "de")
    sided = [c for c in load_cases(template) if "links" in c.inputs["report"]]
    cases = sided[:3]
    assert len(cases) == 3
    # The first answer swaps the side (a review), the other two give the report back unchanged (ok).
    swapped = cases[0].inputs["report"]
    engine = Scripted(
        lambda body: (
            swapped.replace("links", "rechts")
            if swapped in body["messages"][1]["content"]
            else next(
                c.inputs["report"] for c in cases if c.inputs["report"] in body["messages"][1]["content"]
            )
        )
    )
    metrics, _results, digests = asyncio.run(run_plan(engine, "m", Plan([(template, cases)]), max_tokens=16))
    assert all(body["max_tokens"] == 16 for body in engine.bodies)
    assert metrics[0].review_per_100 == pytest.approx(100 / 3)
    assert digests == {DIGEST}


def _metrics(template: str = "report-correction.en", **values: Any) -> TemplateMetrics:
    base: dict[str, Any] = {
        "template": template, "version": "sha256:000000000000", "task_type": "anchored", "runs": 10,
        "failed": 0, "review_per_100": 10.0, "unchecked_per_100": 0.0, "schema_valid": None,
        "quote_valid": None, "agreement": None, "length_ratio": 1.0, "latency_s": 1.0,
        "latency_p95_s": 1.0, "tokens_per_s": 20.0,
    }  # fmt: skip
    return TemplateMetrics(**{**base, **values})


def test_policy_absolute_thresholds() -> None:
    """Each threshold fails an evaluation on its own, naming the template; within all, it passes."""
    policy = EvaluationPolicySettings()
    assert judge([_metrics()], None, policy, None) == []
    failing = {
        "case(s) run": _metrics(runs=5),
        "engine failed": _metrics(failed=1),
        "guard review 31.0": _metrics(review_per_100=31.0),
        "guard unchecked": _metrics(unchecked_per_100=40.0),
        "schema-valid answers 80%": _metrics(schema_valid=0.8),
        "verbatim quotes": _metrics(quote_valid=0.5),
        "agreement with the calculator": _metrics(agreement=0.7),
    }
    for words, metrics in failing.items():
        reasons = judge([metrics], None, policy, None)
        assert len(reasons) == 1 and words in reasons[0] and reasons[0].startswith("report-correction.en")
    assert "capped at 32" in judge([_metrics()], None, policy, 32)[0]
    assert judge([_metrics()], None, EvaluationPolicySettings(allow_capped=True), 32) == []


def test_policy_compares_with_the_approved_evaluation(tmp_path: Path) -> None:
    """Against a baseline, a rise in review rate or a drop in validity beyond the margin fails."""
    store = Store.open(f"sqlite:///{tmp_path / 'm.db'}")
    store.migrate()
    try:
        policy = EvaluationPolicySettings()
        base = record_evaluation(
            store, model_id="old", combination=Combination(DIGEST, {}, "g"),
            metrics=[_metrics(review_per_100=5.0, schema_valid=1.0)], results=[], baseline=None,
            policy=policy, max_tokens=None, started_at=datetime.now(UTC), finished_at=datetime.now(UTC),
            run_by="tester",
        ).record  # fmt: skip
        assert base.passed
        assert judge([_metrics(review_per_100=10.0, schema_valid=1.0)], base, policy, None) == []
        worse = judge([_metrics(review_per_100=12.0, schema_valid=0.92)], base, policy, None)
        assert len(worse) == 2 and "vs 5.0 for the approved model" in worse[0] and "92% vs 100%" in worse[1]
        slow = EvaluationPolicySettings(max_latency_ratio=1.5)
        assert "latency 2.00x" in judge([_metrics(review_per_100=5.0, latency_s=2.0)], base, slow, None)[0]
    finally:
        store.close()


def test_combination_names_every_material_change() -> None:
    """The combination digest changes with weights, any template version, the guard or the index."""
    templates = LIB.list("en")
    now = current_combination(DIGEST, templates)
    assert now.guard_version == guard_version() and now.guard_version.startswith("sha256:")
    assert now.digest == current_combination(DIGEST, templates).digest
    changed = Combination(
        "sha256:" + "ef" * 32, {**now.templates, "translation.en": "sha256:111111111111"}, "sha256:g2", "idx"
    )
    assert changed.digest != now.digest
    words = changed.changes_from(now)
    assert [w.split(" ")[0] for w in words] == ["weights", "template", "guard", "retrieval"]
    assert "translation.en" in words[1]


def test_report_has_html_csv_figures_and_no_case_text(tmp_path: Path) -> None:
    """HTML, CSV and PNG are written; neither the cases' nor the answers' text appears in them."""
    store = Store.open(f"sqlite:///{tmp_path / 'm.db'}")
    store.migrate()
    try:
        templates = [LIB.get("report-correction", "en"), LIB.get("fleischner-nodule", "en")]
        plan = Plan.of(templates, 3)
        secret = "ZEBRA-ANSWER-TEXT"
        metrics, results, _ = asyncio.run(run_plan(Scripted(lambda body: secret), "m", plan))
        outcome = record_evaluation(
            store, model_id="m", combination=current_combination(DIGEST, templates), metrics=metrics,
            results=results, baseline=None, policy=EvaluationPolicySettings(), max_tokens=None,
            started_at=datetime.now(UTC), finished_at=datetime.now(UTC), run_by="tester",
        )  # fmt: skip
        written = write_report(outcome, tmp_path / "out")
        names = sorted(p.name for p in written)
        assert names == [
            "cases.csv",
            "evaluation.html",
            "guard.png",
            "quality.png",
            "speed.png",
            "templates.csv",
        ]
        html = (tmp_path / "out" / "evaluation.html").read_text()
        assert "failed" in html and DIGEST in html and "data:image/png;base64," in html
        rows = list(csv.DictReader((tmp_path / "out" / "templates.csv").open()))
        assert [r["template"] for r in rows] == ["report-correction.en", "fleischner-nodule.en"]
        assert rows[1]["agreement"] == "0.0" and rows[1]["schema_valid"] == "0.0"
        texts = [c.inputs["report"] for _, cases in plan.templates for c in cases] + [secret]
        blob = "".join(p.read_text(errors="ignore") for p in written if p.suffix != ".png")
        blob += json.dumps(store.evaluations()[0].cases) + json.dumps(store.evaluations()[0].metrics)
        assert not any(text in blob for text in texts)
        assert (tmp_path / "out" / "guard.png").read_bytes().startswith(b"\x89PNG")
    finally:
        store.close()
