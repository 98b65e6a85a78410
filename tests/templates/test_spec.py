"""The template file model's cross-field rules, one broken field at a time."""

from __future__ import annotations

import re
from typing import Any

import pytest
from pydantic import ValidationError

from medvault.templates._spec import TemplateSpec

REGULATORY = {"eu": "device", "us": "device", "cn": "device", "rationale": "a reason long enough"}
RISK = {
    "privacy": 1, "privacy_reason": "no patient data at all", "reasoning": 1,
    "reasoning_reason": "copying text, nothing to infer", "target_user": "professional",
    "regulatory": REGULATORY,
}  # fmt: skip
VALID: dict[str, Any] = {
    "id": "demo-template", "lang": "en", "title": "Demo", "description": "d", "task_type": "anchored",
    "guard_task": "correction", "guard_checks": ["numbers"], "source_variable": "report",
    "output_format": "text", "warning": "w",
    "sampling": {"temperature": 0, "top_p": 1, "max_tokens": 10},
    "risk": RISK,
    "inputs": [{"name": "report", "type": "text", "label": "Report"}],
    "prompt": {"system": "s", "user": "{{ report }}"},
}  # fmt: skip

REPORT = {"name": "report", "type": "text", "label": "Report"}
CASES: list[tuple[dict[str, Any], str]] = [
    ({"inputs": [{**REPORT, "choices": ["a"]}]}, "`choices` only fits an input of type choice"),
    ({"inputs": [REPORT, {"name": "n", "type": "number", "label": "N", "max_chars": 3}]}, "`max_chars` only"),
    ({"inputs": [{**REPORT, "minimum": 1}]}, "`minimum`/`maximum` only fit"),
    ({"inputs": [REPORT, REPORT]}, "input names must be unique"),
    ({"guard_checks": ["numbers", "numbers"]}, "a check is named twice"),
    ({"decision": "fleischner-2017"}, "a decision table reads the model's JSON"),
    ({"source_variable": None, "guard_task": None, "guard_checks": []}, "names its source text"),
    ({"task_type": "open", "source_variable": None}, "the guard compares against the source"),
    ({"output_schema": "{not json"}, "not valid JSON"),
]


@pytest.mark.parametrize(("change", "problem"), CASES, ids=[c[1][:28] for c in CASES])
def test_cross_field_rules(change: dict[str, Any], problem: str) -> None:
    """Each inconsistent combination is rejected with a message saying what is wrong."""
    TemplateSpec.model_validate(VALID)
    with pytest.raises(ValidationError, match=re.escape(problem)):
        TemplateSpec.model_validate({**VALID, **change})
