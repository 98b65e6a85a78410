"""Rendering prompts from inputs, input validation, and post-processing of model answers."""

from __future__ import annotations

import json
from typing import Any

import pytest

from medvault.errors import TemplateError, ValidationFailed
from medvault.templates import Template, TemplateInputError, TemplateLibrary

LIB = TemplateLibrary.load()
REPORT = "Rundherd im rechten Oberlappen, 7 mm. Kein Pleuraerguss."


def _t(template_id: str, lang: str = "de") -> Template:
    return LIB.get(template_id, lang)


def test_render_gives_system_and_user_messages() -> None:
    """render() returns OpenAI chat messages with the input placed verbatim in the user message."""
    messages = _t("report-correction").render({"report": REPORT})
    assert [m["role"] for m in messages] == ["system", "user"]
    assert REPORT in messages[1]["content"] and "{{" not in messages[1]["content"]
    assert "Seitenangaben" in messages[0]["content"]


def test_input_is_data_not_template_code() -> None:
    """Jinja syntax inside an input is passed through literally, never evaluated."""
    text = "{{ 7 * 7 }} {% if true %}x{% endif %}"
    assert text in _t("report-correction", "en").render({"report": text})[1]["content"]


def test_choice_selects_prompt_branch() -> None:
    """The translation direction decides which instruction the system prompt carries."""
    de_en = _t("translation", "en").render({"text": "Kein Erguss.", "direction": "de-en"})[0]["content"]
    en_de = _t("translation", "en").render({"text": "No effusion.", "direction": "en-de"})[0]["content"]
    assert "from German into English" in de_en and "from English into German" in en_de


def test_optional_inputs_may_be_left_out() -> None:
    """Optional inputs omitted or blank leave their section out; given, they appear."""
    t = _t("referrer-summary", "en")
    bare = t.render({"report": REPORT, "clinical_question": "  "})
    assert "Clinical question" not in bare[1]["content"] and "at most" not in bare[0]["content"]
    full = t.render({"report": REPORT, "clinical_question": "Tumour?", "max_sentences": "3"})
    assert "Clinical question: Tumour?" in full[1]["content"] and "at most 3 sentences" in full[0]["content"]


def test_boolean_input_accepts_form_values() -> None:
    """A boolean input takes true/false and the strings a web form sends."""
    t = _t("patient-simplification", "en")
    assert "Technical terms" in t.render({"report": REPORT, "include_glossary": "on"})[0]["content"]
    assert "Technical terms" not in t.render({"report": REPORT, "include_glossary": False})[0]["content"]


BAD_INPUTS: list[tuple[str, dict[str, Any], str, str]] = [
    ("report-correction", {}, "report", "is required"),
    ("report-correction", {"report": "   "}, "report", "is required"),
    ("report-correction", {"report": REPORT, "extra": "x"}, "extra", "unknown input 'extra'"),
    ("report-correction", {"report": 42}, "report", "expected text, got int"),
    ("report-correction", {"report": "x" * 20_001}, "report", "20001 characters, at most 20000"),
    ("translation", {"text": REPORT, "direction": "de-fr"}, "direction", "'de-fr' is not one of"),
    ("referrer-summary", {"report": REPORT, "max_sentences": "many"}, "max_sentences", "not a number"),
    ("referrer-summary", {"report": REPORT, "max_sentences": 11}, "max_sentences", "at most 10"),
    ("referrer-summary", {"report": REPORT, "max_sentences": True}, "max_sentences", "expected a number"),
    (
        "patient-simplification",
        {"report": REPORT, "include_glossary": "vielleicht"},
        "include_glossary",
        "true",
    ),
]


@pytest.mark.parametrize(("template_id", "inputs", "param", "problem"), BAD_INPUTS)
def test_bad_inputs_name_the_input(
    template_id: str, inputs: dict[str, Any], param: str, problem: str
) -> None:
    """Unknown, missing, ill-typed and over-size inputs raise TemplateInputError naming the input (422)."""
    with pytest.raises(TemplateInputError) as info:
        _t(template_id).render(inputs)
    error = info.value
    assert isinstance(error, ValidationFailed) and isinstance(error, TemplateError)
    assert error.status_code == 422 and error.param == param
    assert repr(param) in str(error) and problem in str(error)


def test_text_postprocess_passes_text_through() -> None:
    """Text templates return the answer stripped, with no errors."""
    result = _t("report-correction").postprocess("  Korrigiert.\n")
    assert result.ok and result.text == "Korrigiert." and result.data is None


ERROR_LIST = {"errors": [{"category": "laterality", "quote": "rechts", "explanation": "Seite?"}]}


@pytest.mark.parametrize(
    "answer",
    [
        json.dumps(ERROR_LIST),
        "```json\n" + json.dumps(ERROR_LIST, indent=2) + "\n```",
        "```\n" + json.dumps(ERROR_LIST) + "```",
        "Here is the result:\n" + json.dumps(ERROR_LIST) + "\nDone.",
    ],
    ids=["plain", "json-fence", "bare-fence", "chatter"],
)
def test_json_postprocess_tolerates_fences(answer: str) -> None:
    """JSON answers are parsed with or without ``` fences and checked against the schema."""
    result = _t("error-check").postprocess(answer)
    assert result.ok and result.data == ERROR_LIST
    assert json.loads(result.text) == ERROR_LIST


def test_json_postprocess_reports_schema_violations() -> None:
    """Answers that break the schema keep their data visible and list each violation with its path."""
    bad = {"errors": [{"category": "style", "quote": "", "explanation": "x"}]}
    result = _t("error-check").postprocess(json.dumps(bad))
    assert not result.ok and result.data is None
    assert any(e.startswith("errors/0/category:") for e in result.errors)
    assert any(e.startswith("errors/0/quote:") for e in result.errors)


def test_json_postprocess_reports_broken_json() -> None:
    """An answer that is not JSON is an error result, not an exception."""
    result = _t("structured-report", "en").postprocess("I cannot do that.")
    assert not result.ok and "not valid JSON" in result.errors[0] and result.text == "I cannot do that."


def test_post_result_serialises() -> None:
    """PostResult.to_dict is JSON-serialisable for the API."""
    result = _t("error-check").postprocess(json.dumps(ERROR_LIST))
    assert json.loads(json.dumps(result.to_dict()))["ok"] is True


def test_quotes_are_checked_against_their_input() -> None:
    """With the run's inputs, quotes not found verbatim in the quoted input are listed as ungrounded."""
    report = "Rundherd im rechten  Oberlappen,\n7 mm."
    answer = {
        "errors": [
            {
                "category": "laterality",
                "quote": "rechten Oberlappen, 7 mm",
                "explanation": "whitespace differs",
            },
            {"category": "negation", "quote": "kein Rundherd", "explanation": "invented"},
        ]
    }
    result = _t("error-check").postprocess(json.dumps(answer), {"report": report})
    assert result.ok and result.ungrounded == ("errors/1/quote: not found verbatim in input 'report'",)
    assert _t("error-check").postprocess(json.dumps(answer)).ungrounded == ()


def test_named_quotes_refer_to_their_input() -> None:
    """findings_quote is checked against the findings, impression_quote against the impression."""
    inputs = {"findings": "Erguss rechts.", "impression": "Erguss links."}
    issue = {"type": "laterality", "findings_quote": "Erguss rechts", "explanation": "Seite"}
    good = {"consistent": False, "issues": [{**issue, "impression_quote": "Erguss links"}]}
    bad = {"consistent": False, "issues": [{**issue, "impression_quote": "Erguss beidseits"}]}
    assert _t("consistency-check").postprocess(json.dumps(good), inputs).ungrounded == ()
    assert _t("consistency-check").postprocess(json.dumps(bad), inputs).ungrounded == (
        "issues/0/impression_quote: not found verbatim in input 'impression'",
    )
