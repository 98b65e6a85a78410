"""Assertion levels per cue family and language (data/cues.toml), and the flags a change of level raises."""

from __future__ import annotations

import pytest

from medvault.guard import check
from medvault.guard._text import Analysis

# (id, lang, text, finding word, expected level)
LEVELS = [
    ("de-present", "de", "Pleuraerguss rechts.", "pleuraerguss", "present"),
    ("de-absent-kein", "de", "Kein Pleuraerguss.", "pleuraerguss", "absent"),
    ("de-absent-nichts", "de", "Es ist nichts Verdächtiges zu sehen.", "verdächtiges", "absent"),
    ("de-absent-suffix", "de", "Gallenblase steinfrei.", "steinfrei", "absent"),
    (
        "de-possible-auszuschliessen",
        "de",
        "Eine Fraktur ist nicht sicher auszuschließen.",
        "fraktur",
        "possible",
    ),
    ("de-possible-fraglich", "de", "Fraglich Infiltrat im Unterlappen.", "infiltrat", "possible"),
    ("de-possible-dd", "de", "Verdichtung, DD Pneumonie.", "pneumonie", "possible"),
    ("de-probable-va", "de", "V. a. Pneumonie rechts basal.", "pneumonie", "probable"),
    ("de-probable-verdacht", "de", "Verdacht auf Lungenembolie.", "lungenembolie", "probable"),
    ("de-probable-ehesten", "de", "Raumforderung, am ehesten Metastase.", "metastase", "probable"),
    ("de-probable-in-word", "de", "Raumforderung, malignomverdächtig.", "malignomverdächtig", "probable"),
    ("de-historical-zn", "de", "Z. n. Fraktur des Radius.", "fraktur", "historical"),
    ("de-historical-zustand", "de", "Zustand nach Lungenembolie.", "lungenembolie", "historical"),
    ("de-consistent-is-present", "de", "Verdichtung vereinbar mit Pneumonie.", "pneumonie", "present"),
    ("en-present", "en", "Small right pleural effusion.", "effusion", "present"),
    ("en-absent-no", "en", "No pleural effusion.", "effusion", "absent"),
    ("en-possible-excluded", "en", "A fracture cannot be excluded.", "fracture", "possible"),
    ("en-possible-may", "en", "The opacity may represent pneumonia.", "pneumonia", "possible"),
    ("en-possible-unlikely", "en", "Significant cancer unlikely.", "cancer", "possible"),
    ("en-probable-suspicious", "en", "Mass suspicious for malignancy.", "malignancy", "probable"),
    ("en-probable-likely", "en", "Opacity, likely pneumonia.", "pneumonia", "probable"),
    ("en-historical-sp", "en", "Status post fracture of the radius.", "fracture", "historical"),
    ("en-historical-history", "en", "History of pulmonary embolism.", "embolism", "historical"),
    ("en-consistent-is-present", "en", "Findings consistent with pneumonia.", "pneumonia", "present"),
    ("en-own-word-not-a-cue", "en", "Suspicious nodule in the left upper lobe.", "nodule", "present"),
]


@pytest.mark.parametrize(
    ("lang", "text", "word", "level"), [c[1:] for c in LEVELS], ids=[c[0] for c in LEVELS]
)
def test_assertion_level(lang: str, text: str, word: str, level: str) -> None:
    """Each cue family gives its level to the finding in its scope, in German and English."""
    doc = Analysis(text, lang)
    mentions = [m for m in doc.mentions if m.kind == "F" and word in m.word]
    assert mentions, [m.word for m in doc.mentions]
    assert doc.level(mentions[0]) == level


# (id, task, lang, target, source, output, expected code or None, severity)
CHANGES = [
    (
        "possible-to-absent",
        "simplification",
        "en",
        None,
        "Early cholecystitis cannot be excluded.",
        "There is no cholecystitis.",
        "certainty_changed",
        "major",
    ),
    (
        "probable-to-present-translation",
        "translation",
        "en",
        "de",
        "Mass suspicious for malignancy.",
        "Raumforderung, entsprechend einem Malignom.",
        "certainty_changed",
        "major",
    ),
    (
        "hedge-kept-translation",
        "translation",
        "de",
        "en",
        "V. a. Pneumonie rechts.",
        "Suspected pneumonia on the right.",
        None,
        None,
    ),
    (
        "historical-to-present",
        "correction",
        "de",
        None,
        "Z. n. Fraktur des Radius.",
        "Fraktur des Radius.",
        "certainty_changed",
        "major",
    ),
    (
        "probable-vs-possible-is-minor",
        "simplification",
        "en",
        None,
        "Opacity, likely pneumonia.",
        "The shadow may be pneumonia.",
        "certainty_changed",
        "minor",
    ),
    (
        "negation-flip",
        "correction",
        "de",
        None,
        "Kein Pneumothorax.",
        "Pneumothorax.",
        "negation_changed",
        "major",
    ),
]


@pytest.mark.parametrize(
    ("task", "lang", "target", "source", "output", "code", "severity"),
    [c[1:] for c in CHANGES],
    ids=[c[0] for c in CHANGES],
)
def test_certainty_change_flags(
    task: str, lang: str, target: str | None, source: str, output: str, code: str | None, severity: str | None
) -> None:
    """A change of assertion level is a flag with both levels named; a kept hedge is none."""
    result = check(source, output, task=task, lang=lang, target_lang=target)
    found = [f for f in result.flags if f.kind == "negation"]
    if code is None:
        assert not found, [f.message for f in found]
        return
    assert [(f.stable_code, f.severity) for f in found] == [(code, severity)]
    params = found[0].to_dict()["params"]
    assert params["source_level"] != params["output_level"]
