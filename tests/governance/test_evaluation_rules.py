"""Review fixes to the evaluation gate: the newest evaluation of a combination decides an approval; a
model that stops quoting fails the quote rules; an evaluation of no template fails."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from medvault.config import EvaluationPolicySettings
from medvault.governance import ApprovalRefused, Combination, approve_model
from medvault.governance._eval_policy import judge, record_evaluation
from medvault.governance._evaluation import Answer, Plan, TemplateMetrics, load_cases, run_plan
from medvault.store import EvaluationRecord, Store
from medvault.templates import TemplateLibrary

DIGEST = "sha256:" + "a" * 64
COMBINATION = Combination(DIGEST, {"translation.en": "sha256:111111111111"}, "sha256:222222222222")
POLICY = EvaluationPolicySettings()
LIB = TemplateLibrary.load()


def _metrics(key: str = "translation.en", **values: Any) -> TemplateMetrics:
    base: dict[str, Any] = {
        "template": key, "version": "v", "task_type": "anchored", "runs": 12, "failed": 0,
        "review_per_100": 0.0, "unchecked_per_100": 0.0, "schema_valid": 1.0, "quote_valid": 1.0,
        "agreement": None, "length_ratio": 1.0, "latency_s": 1.0, "latency_p95_s": 1.0, "tokens_per_s": 1.0,
    }  # fmt: skip
    return TemplateMetrics(**{**base, **values})


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = Store.open(f"sqlite:///{tmp_path / 'db.sqlite'}")
    opened.migrate()
    yield opened
    opened.close()


def _evaluate(store: Store, minutes: int, *, passing: bool) -> EvaluationRecord:
    """Store an evaluation of COMBINATION finished `minutes` after a fixed time; failing: 90 reviews."""
    at = datetime(2026, 12, 1, tzinfo=UTC) + timedelta(minutes=minutes)
    metrics = [_metrics(review_per_100=0.0 if passing else 90.0)]
    outcome = record_evaluation(
        store, model_id="m", combination=COMBINATION, metrics=metrics, results=[], baseline=None,
        policy=POLICY, max_tokens=None, started_at=at, finished_at=at, run_by="tester",
    )  # fmt: skip
    assert outcome.record.passed is passing
    return outcome.record


def test_a_newer_failed_evaluation_blocks_the_approval(store: Store) -> None:
    """Passed, then failed: refused, naming the failed evaluation; nothing recorded."""
    _evaluate(store, 1, passing=True)
    failed = _evaluate(store, 2, passing=False)
    with pytest.raises(ApprovalRefused) as refused:
        approve_model(store, "m", COMBINATION, decided_by="root", reason="CAB-1")
    said = str(refused.value)
    assert f"evaluation {failed.id}" in said
    assert "evaluate again" in said and "--override" in said
    assert store.model_approvals() == []
    latest = store.latest_evaluation("m", COMBINATION.digest)
    assert latest is not None and latest.id == failed.id and not latest.passed


def test_a_newer_passed_evaluation_is_the_ground_of_the_approval(store: Store) -> None:
    """Control: failed, then passed: approved on the newer, passed evaluation."""
    _evaluate(store, 1, passing=False)
    passed = _evaluate(store, 2, passing=True)
    decision = approve_model(store, "m", COMBINATION, decided_by="root", reason="CAB-2")
    assert (decision.evaluation_id, decision.override) == (passed.id, False)


def test_an_override_still_approves_after_a_failed_evaluation(store: Store) -> None:
    """The refusal's way out works: --override records the approval as an override."""
    _evaluate(store, 1, passing=True)
    _evaluate(store, 2, passing=False)
    decision = approve_model(store, "m", COMBINATION, decided_by="root", reason="CAB-3", override=True)
    assert (decision.evaluation_id, decision.override) == (None, True)


class _Scripted:
    """An engine that answers every request with the same text."""

    def __init__(self, text: str) -> None:
        self.text = text

    async def complete(self, body: dict[str, Any]) -> Answer:
        return Answer(self.text, 40, 20, DIGEST)


def test_a_quoting_template_without_any_quote_fails() -> None:
    """error-check answered with no error (so no quote) in every case: the quote rule fails; the
    template is recognised as quoting from its schema, a non-quoting one is not."""
    template = LIB.get("error-check", "en")
    plan = Plan([(template, load_cases(template)[:3])])
    (metrics,), _results, _digests = asyncio.run(run_plan(_Scripted(json.dumps({"errors": []})), "m", plan))
    assert (metrics.quoting, metrics.quote_valid, metrics.schema_valid) == (True, None, 1.0)
    (reason,) = [r for r in judge([metrics], None, POLICY, None) if "quote" in r]
    assert reason == "error-check.en: no answer carried a verbatim quote, though the template asks for them"
    translation = LIB.get("translation", "en")
    (plain,), _r, _d = asyncio.run(
        run_plan(_Scripted("Text."), "m", Plan([(translation, load_cases(translation)[:1])]))
    )
    assert plain.quoting is False


def test_a_quoting_template_with_quotes_passes_the_quote_rule() -> None:
    """Control: the same template with one verbatim quote among answers without any passes."""
    quoted = _metrics("error-check.en", quoting=True, quote_valid=1.0)
    assert judge([quoted], None, POLICY, None) == []
    # No quote counts as 0% verbatim: a policy whose floor is 0 (a smoke run) lets it pass.
    silent = _metrics("error-check.en", quoting=True, quote_valid=None)
    assert judge([silent], None, EvaluationPolicySettings(min_quote_valid=0), None) == []


def _baseline() -> EvaluationRecord:
    """The approved model's evaluation: referrer-summary with every quote verbatim."""
    at = datetime(2026, 11, 1, tzinfo=UTC)
    return EvaluationRecord(
        id="b", model_id="old", model_digest=DIGEST, combination="sha256:c", guard_version="sha256:g",
        retrieval_index=None, templates={}, started_at=at, finished_at=at, run_by="root", max_tokens=None,
        passed=True, reasons=[], baseline_id=None,
        metrics=[_metrics("referrer-summary.en", quote_valid=1.0).to_dict()],
    )  # fmt: skip


def test_a_candidate_that_stops_quoting_falls_behind_the_approved_model() -> None:
    """The approved model quoted (all verbatim), the candidate gives no quote: the relative rule fails;
    control: the candidate's quotes all verbatim pass."""
    silent = judge([_metrics("referrer-summary.en", quote_valid=None)], _baseline(), POLICY, None)
    assert silent == [
        "referrer-summary.en: no answer carried a verbatim quote; the approved model's quotes were "
        "100% verbatim"
    ]
    assert judge([_metrics("referrer-summary.en", quote_valid=1.0)], _baseline(), POLICY, None) == []


def test_an_evaluation_of_no_template_fails() -> None:
    """Nothing evaluated cannot pass; control: one template meeting every rule passes."""
    assert judge([], None, POLICY, None) == ["no template was evaluated"]
    assert judge([_metrics()], None, POLICY, None) == []
