"""The result contract of docs/guard.md (workbench and CLI rely on it), abstention, importance, typo fixes."""

from __future__ import annotations

import gc
import json

import pytest

from medvault.guard import GuardResult, check
from medvault.guard._model import Flag, Unchecked
from medvault.guard._pipeline import _alignment_cost
from medvault.guard._text import Analysis

SOURCE = "Kleiner Pleuraerguss links. Kein Pneumothorax. Knoten 5 mm."
BAD = "Kleiner Pleuraerguss rechts. Pneumothorax. Knoten 5 cm."


@pytest.mark.parametrize("lang", ["de", "en"])
def test_to_dict_with_lang_carries_texts_codes_and_summary(lang: str) -> None:
    """With a language, every flag has a code, params naming both sides and a text; the result a summary."""
    data = json.loads(json.dumps(check(SOURCE, BAD, task="correction", lang="de").to_dict(lang=lang)))
    assert data["verdict"] == "review"
    assert {"checked", "not_checked", "summary", "unchecked"} <= set(data)
    assert "content" in data["not_checked"] and "sides" in data["checked"]
    codes = {f["code"] for f in data["flags"]}
    assert {"side_changed", "negation_changed", "unit_changed"} <= codes
    side = next(f for f in data["flags"] if f["code"] == "side_changed")
    assert side["params"]["source"] == "links" and side["params"]["output"] == "rechts"
    assert "links" in side["text"] and "rechts" in side["text"]
    assert side["text"].startswith("Seite geändert" if lang == "de" else "Side changed")
    assert data["summary"].startswith("Abweichungen" if lang == "de" else "Differences")


def test_to_dict_without_lang_has_no_texts() -> None:
    """Without a language (audit, old callers) there are no texts, but codes and params are there."""
    data = check(SOURCE, BAD, task="correction", lang="de").to_dict()
    assert "summary" not in data
    assert all("text" not in f and f["code"] and "params" in f for f in data["flags"])


def test_ok_summary_names_what_was_checked() -> None:
    """An ok result says which aspects are unchanged and that the content was not checked."""
    data = check(SOURCE, SOURCE, task="correction", lang="de").to_dict(lang="de")
    assert data["verdict"] == "ok" and not data["flags"] and not data["unchecked"]
    assert data["summary"].startswith("Seiten") and "nicht geprüft: Inhalt" in data["summary"]


def test_unchecked_verdict_and_texts() -> None:
    """Unsure passages make the verdict `unchecked` unless a major flag says `review`."""
    passage = Unchecked("output", (0, 4), "unsure_side_changed")
    result = GuardResult("simplification", ("laterality",), [], [passage])
    assert result.verdict == "unchecked"
    data = result.to_dict(lang="de")
    assert data["unchecked"] == [
        {
            "side": "output",
            "span": [0, 4],
            "reason": "unsure_side_changed",
            "text": data["unchecked"][0]["text"],
        }
    ]
    assert data["unchecked"][0]["text"].startswith("Nicht geprüft")
    major = Flag("numbers", "x", "major", (0, 1), None)
    assert GuardResult("summary", ("numbers",), [major], [passage]).verdict == "review"
    assert result.counts() == {}  # audit counts stay flag kinds only


def test_unknown_ui_language_reads_english() -> None:
    data = check(SOURCE, BAD, task="correction", lang="de").to_dict(lang="fr")
    assert data["summary"].startswith("Differences")


def test_lay_comparison_of_sides_is_unchecked_not_review() -> None:
    """Abstention: a lay sentence comparing both sides gives an unchecked passage, never a false alarm."""
    source = "RV/LV-Quotient 1,2, Zeichen der Rechtsherzbelastung. Kein Erguss."
    output = "Die linke Herzkammer ist im Verhältnis zur rechten Herzkammer kleiner. Kein Erguss."
    result = check(source, output, task="simplification", lang="de")
    assert not [f for f in result.flags if f.kind == "laterality" and f.severity == "major"]
    assert [u.reason for u in result.unchecked] == ["unsure_side_changed"]
    # positive control: the same swap outside a comparison is a confident flag
    plain = check("Erguss links.", "Erguss rechts.", task="simplification", lang="de")
    assert plain.verdict == "review" and not plain.unchecked


# (id, task, lang, source, output, expect a major omission)
OMISSIONS = [
    (
        "fracture-dropped-simplification",
        "simplification",
        "de",
        "Fraktur des Os scaphoideum. Radius intakt. Weichteilschwellung.",
        "Die Speiche ist intakt. Das Gewebe ist geschwollen.",
        True,
    ),
    (
        "tear-dropped-summary",
        "summary",
        "en",
        "Full-thickness tear of the supraspinatus tendon. Mild AC joint osteoarthritis.",
        "Mild AC joint osteoarthritis.",
        True,
    ),
    (
        "normal-statement-dropped-summary",
        "summary",
        "en",
        "Full-thickness tear of the supraspinatus tendon. No joint effusion. Mild tendinosis.",
        "Full-thickness supraspinatus tear.",
        False,
    ),
    (
        "minor-finding-dropped-simplification",
        "simplification",
        "en",
        "Pneumonia in the right lower lobe. Mild degenerative changes of the spine.",
        "There is a lung infection at the bottom of the right lung.",
        False,
    ),
]


@pytest.mark.parametrize(
    ("task", "lang", "source", "output", "major"), [c[1:] for c in OMISSIONS], ids=[c[0] for c in OMISSIONS]
)
def test_omission_by_importance(task: str, lang: str, source: str, output: str, major: bool) -> None:
    """Dropping an actionable finding is major in summaries and simplifications; other drops are not."""
    result = check(source, output, task=task, lang=lang)
    found = [f for f in result.flags if f.kind == "omissions" and f.severity == "major"]
    assert bool(found) == major, [f.message for f in result.flags]


# (id, lang, dictated, corrected, expect a meaning flag)
TYPO_FIXES = [
    (
        "en-lateral-to-medial",
        "en",
        "fracture of the laterall malleolus",
        "fracture of the medial malleolus",
        True,
    ),
    (
        "en-lateral-kept",
        "en",
        "fracture of the laterall malleolus",
        "fracture of the lateral malleolus",
        False,
    ),
    ("de-kine-to-eine", "de", "Kine zervikale Lymphadenopathie.", "Eine zervikale Lymphadenopathie.", True),
    (
        "de-kine-to-keine",
        "de",
        "Kine zervikale Lymphadenopathie.",
        "Keine zervikale Lymphadenopathie.",
        False,
    ),
    ("de-lniks-to-rechts", "de", "Erguss lniks basal.", "Erguss rechts basal.", True),
    ("de-lniks-to-links", "de", "Erguss lniks basal.", "Erguss links basal.", False),
    ("en-central-unrelated", "en", "The central canal is patent.", "The centrl canal is patent.", False),
]


@pytest.mark.parametrize(
    ("lang", "dictated", "corrected", "flagged"), [c[1:] for c in TYPO_FIXES], ids=[c[0] for c in TYPO_FIXES]
)
def test_typo_fix_must_keep_meaning(lang: str, dictated: str, corrected: str, flagged: bool) -> None:
    """A correction reads a typo as the nearest side/direction/negation word; another class is a flag."""
    result = check(dictated, corrected, task="correction", lang=lang)
    codes = {f.stable_code for f in result.flags if f.severity == "major"}
    assert ("correction_changed_meaning" in codes) == flagged, [f.message for f in result.flags]


@pytest.mark.parametrize(
    ("lang", "source", "output", "flagged"),
    [
        ("en", "Tear of the medial meniscus.", "A tear in the outer meniscus.", True),
        ("en", "Tear of the medial meniscus.", "A tear in the inner meniscus.", False),
        ("de", "Vordere Schulterluxation links.", "Hintere Schulterluxation links.", True),
        ("de", "Distale Radiusfraktur rechts.", "Distale Radiusfraktur rechts.", False),
    ],
    ids=["en-medial-outer", "en-medial-inner", "de-anterior-posterior", "de-kept"],
)
def test_direction_of_a_finding(lang: str, source: str, output: str, flagged: bool) -> None:
    """Medial/lateral, anterior/posterior (technical and lay words) of one finding must not flip."""
    task = "simplification" if lang == "en" else "correction"
    result = check(source, output, task=task, lang=lang)
    assert ("direction_changed" in {f.stable_code for f in result.flags}) == flagged


def _live_analyses(text: str) -> list[Analysis]:
    gc.collect()
    return [o for o in gc.get_objects() if isinstance(o, Analysis) and o.text == text]


@pytest.mark.parametrize("task", ["correction", "simplification", "summary"])
def test_no_report_outlives_its_check(task: str) -> None:
    """Once a check returns, none of its texts' analyses is kept (a gateway worker would otherwise hold
    the last reports in memory); the control shows that the scan sees one that is still held."""
    source = f"Patient Canary-{task}-4711. {SOURCE}"
    check(source, BAD, task=task, lang="de")
    assert _live_analyses(source) == []
    held = Analysis(source, "de")
    assert _live_analyses(source) == [held]


def test_a_text_too_repetitive_to_align_is_not_checked_at_once() -> None:
    """An output that repeats two words 1,250 times against a source of 2,500 times one word (a model
    in a loop) would take the word alignment about 20 s: the whole output is `unchecked`, saying why.
    Control: the same words in a short pair are checked as usual."""
    result = check("Erguss " * 2500, "Erguss links " * 625, task="correction", lang="de")
    assert result.verdict == "unchecked" and not result.flags
    assert [(u.side, u.span, u.reason) for u in result.unchecked] == [
        ("output", (0, len("Erguss links " * 625)), "too_repetitive")
    ]
    assert "repeats itself" in result.to_dict(lang="en")["unchecked"][0]["text"]
    control = check("Erguss rechts.", "Erguss links.", task="correction", lang="de")
    assert [f.code for f in control.flags] == ["side_changed"]


@pytest.mark.parametrize(
    ("source", "output", "pairs"), [("a b c", "a a d", 2), ("A b", "a B b", 3), ("x", "y", 0)]
)
def test_alignment_cost_counts_equal_word_pairs(source: str, output: str, pairs: int) -> None:
    assert _alignment_cost(source, output) == pairs
