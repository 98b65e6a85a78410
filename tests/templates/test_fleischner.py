"""The Fleischner 2017 decision table, computed in code, and the guideline template around it."""

from __future__ import annotations

import json
from typing import Any

import pytest

from medvault.templates import TemplateLibrary
from medvault.templates._fleischner import Nodule, nodule_size_mm, recommend, table_text

# (type, multiplicity, long, short, risk) -> (category, words in the English recommendation)
CASES: list[tuple[tuple[Any, ...], str, str]] = [
    (("solid", "single", 4, None, "low"), "solid-single-<6mm-low", "No routine follow-up."),
    (("solid", "single", 5, 4, "high"), "solid-single-<6mm-high", "Optional CT at 12 months."),
    (
        ("solid", "single", 7, 6, "low"),
        "solid-single-6-8mm-low",
        "CT at 6-12 months, then consider CT at 18-24",
    ),
    (("solid", "single", 8, None, "high"), "solid-single-6-8mm-high", "CT at 6-12 months, then CT at 18-24"),
    (("solid", "single", 12, 9, "low"), "solid-single->8mm", "Consider CT at 3 months, PET/CT"),
    (("solid", "single", 9, None, "high"), "solid-single->8mm", "Consider CT at 3 months, PET/CT"),
    (("solid", "multiple", 5, None, "low"), "solid-multiple-<6mm-low", "No routine follow-up."),
    (("solid", "multiple", 3, None, "high"), "solid-multiple-<6mm-high", "Optional CT at 12 months."),
    (("solid", "multiple", 6, None, "low"), "solid-multiple-6-8mm-low", "CT at 3-6 months, then consider"),
    (
        ("solid", "multiple", 7, None, "high"),
        "solid-multiple-6-8mm-high",
        "CT at 3-6 months, then CT at 18-24",
    ),
    (("solid", "multiple", 15, None, "high"), "solid-multiple->8mm", "CT at 3-6 months, then consider"),
    (("ground_glass", "single", 5, None, "high"), "ground_glass-single-<6mm", "No routine follow-up."),
    (("ground_glass", "single", 10, None, "low"), "ground_glass-single->=6mm", "every 2 years until 5 years"),
    (("part_solid", "single", 4, None, "low"), "part_solid-single-<6mm", "No routine follow-up."),
    (("part_solid", "single", 8, 7, "low"), "part_solid-single->=6mm", "annual CT for 5 years"),
    (
        ("ground_glass", "multiple", 4, None, "low"),
        "ground_glass-multiple-<6mm",
        "consider CT at 2 and 4 years",
    ),
    (("part_solid", "multiple", 9, None, "low"), "part_solid-multiple->=6mm", "most suspicious nodule"),
]


@pytest.mark.parametrize(("features", "category", "words"), CASES, ids=[c[1] for c in CASES])
def test_decision_table(features: tuple[Any, ...], category: str, words: str) -> None:
    """Each row of the 2017 table gives its category and recommendation."""
    nodule_type, multiplicity, long_axis, short_axis, risk = features
    result = recommend(Nodule(nodule_type, multiplicity, long_axis, short_axis, risk), "en")
    assert result.applicable and result.category == category and words in result.text


@pytest.mark.parametrize(
    ("long_axis", "short_axis", "size"),
    [(6, None, 6), (6.4, None, 6), (6, 5, 6), (5.5, None, 6), (6, 4, 5), (9, 8, 9), (8.4, 8.4, 8)],
)
def test_size_is_rounded_mean(long_axis: float, short_axis: float | None, size: int) -> None:
    """Size is the mean of both axes rounded half up to whole millimetres."""
    assert nodule_size_mm(long_axis, short_axis) == size


def test_boundaries_follow_rounded_size() -> None:
    """5.5 mm rounds to 6 (6-8 band), 8.4 mm stays 8, 8.5 mm becomes >8."""
    category = [
        recommend(Nodule("solid", "single", s, None, "low"), "en").category for s in (5.4, 5.5, 8.4, 8.5)
    ]
    assert category == [
        "solid-single-<6mm-low",
        "solid-single-6-8mm-low",
        "solid-single-6-8mm-low",
        "solid-single->8mm",
    ]


def test_unknown_risk_shows_both_rows() -> None:
    """Without a risk group the recommendation gives the low- and the high-risk row."""
    result = recommend(Nodule("solid", "single", 7), "de")
    assert result.category == "solid-single-6-8mm"
    assert "niedriges Risiko: CT nach 6-12 Monaten, dann CT nach 18-24 Monaten erwägen." in result.text
    assert "hohes Risiko: CT nach 6-12 Monaten, dann CT nach 18-24 Monaten." in result.text


@pytest.mark.parametrize(
    "exclusion",
    [{"age_years": 30}, {"known_cancer": True}, {"immunocompromised": True}, {"screening": True}],
)
def test_exclusions_make_it_not_applicable(exclusion: dict[str, Any]) -> None:
    """Patients under 35, with known cancer, immunosuppression or in screening are outside the guideline."""
    result = recommend(Nodule("solid", "single", 7, None, "low", **exclusion), "en")
    assert not result.applicable and result.category == "not-applicable" and "does not apply" in result.text


def test_table_text_lists_every_row_in_both_languages() -> None:
    """The table shown to the model has all 16 rows plus the size rule and the exclusions."""
    for lang in ("de", "en"):
        assert table_text(lang).count("\n- ") + 1 == 18


def _answer(**overrides: Any) -> str:
    data = {
        "nodule_found": True, "nodule_type": "solid", "multiplicity": "single", "long_axis_mm": 7,
        "short_axis_mm": 6, "risk": "unknown", "age_years": 64, "known_cancer": None,
        "immunocompromised": None, "screening": False, "evidence": "Rundherd 7 x 6 mm",
    }  # fmt: skip
    return "```json\n" + json.dumps({**data, **overrides}) + "\n```"


def test_template_computes_recommendation_from_extraction() -> None:
    """The guideline template parses the model's features and computes the category in code."""
    t = TemplateLibrary.load().get("fleischner-nodule", "en")
    assert "solid, single, 6-8 mm, high risk" in t.render({"report": "x"})[0]["content"]
    result = t.postprocess(_answer(risk="high"))
    assert result.ok and result.recommendation is not None
    assert result.recommendation.category == "solid-single-6-8mm-high"
    assert result.text == "CT at 6-12 months, then CT at 18-24 months."


def test_clinician_risk_overrides_the_model() -> None:
    """A risk group given as input takes precedence over the model's extraction."""
    t = TemplateLibrary.load().get("fleischner-nodule", "de")
    result = t.postprocess(_answer(risk="high"), {"report": "x", "risk": "low"})
    assert result.recommendation is not None and result.recommendation.category == "solid-single-6-8mm-low"
    assert result.extracted["risk"] == "low"


def test_no_nodule_and_invalid_extraction() -> None:
    """No nodule gives a not-applicable result; a found nodule without size breaks the schema."""
    t = TemplateLibrary.load().get("fleischner-nodule", "en")
    none = t.postprocess(_answer(nodule_found=False, nodule_type=None, multiplicity=None, long_axis_mm=None))
    assert none.ok and none.recommendation is not None and none.recommendation.category == "no-nodule"
    broken = t.postprocess(_answer(long_axis_mm=None))
    assert not broken.ok and broken.recommendation is None
    assert any(e.startswith("long_axis_mm:") for e in broken.errors)
