"""Table-driven tests of the tenth round's assertion rules (issue 11): structures, not words.

Each class of false alarm seen on batch14 has at least three sentences written for these tests (not
taken from the batches), in German and English where the class applies, and a control row showing that
the real error of that class is still caught.
"""

from __future__ import annotations

import pytest

from medvault.guard import check
from medvault.guard._lexicon import implied
from medvault.guard._text import Analysis

# (source, output, lang, task, flagged): whether a major negation/certainty flag is raised.
CASES = [
    # A reason for the study in the output ("done because of") states no level of its own.
    (
        "Clinical: recurrent pneumonia.\nNo consolidation.",
        "The X-ray was done because of your repeated pneumonia. The lungs are clear.",
        "en",
        "simplification",
        False,
    ),
    (
        "History: prior stroke.\nNo acute infarct.",
        "This scan was performed because of your earlier stroke. There is no new stroke.",
        "en",
        "simplification",
        False,
    ),
    (
        "Klinik: rezidivierende Harnwegsinfekte.\nKein Harnstau.",
        "Die Untersuchung wurde wegen Ihrer wiederholten Harnwegsinfekte gemacht. Kein Harnstau.",
        "de",
        "simplification",
        False,
    ),
    # Control: outside a reason, a history stated as present is still caught.
    (
        "Clinical: prior pneumonia.\nNo consolidation.",
        "You have pneumonia now.",
        "en",
        "simplification",
        True,
    ),
    # A denied degree ("no significant") allows the finding to a lesser degree.
    (
        "Ohne relevante Mittellinienverlagerung (3 mm).",
        "There is 3 mm of midline shift, which is not significant.",
        "de",
        "translation",
        False,
    ),
    (
        "No significant stenosis of the left carotid.",
        "There is a slight narrowing of the left carotid.",
        "en",
        "simplification",
        False,
    ),
    (
        "Kein wesentlicher Pleuraerguss.",
        "Ein kleiner Pleuraerguss ist vorhanden.",
        "de",
        "simplification",
        False,
    ),
    # Control: the finding stated without a lesser degree is still a negation flip.
    (
        "No significant stenosis of the left carotid.",
        "There is a stenosis of the left carotid.",
        "en",
        "simplification",
        True,
    ),
    # "Sequelae of"/"Folgen einer" name a past event, as the history line does.
    (
        "History: knee dislocation.\nImpression: Sequelae of knee dislocation.",
        "Anamnese: Knieluxation.\nBeurteilung: Folgen einer Knieluxation.",
        "en",
        "translation",
        False,
    ),
    (
        "Anamnese: Schulterluxation.\nBeurteilung: Residuen nach Schulterluxation.",
        "History: shoulder dislocation.\nImpression: residua of shoulder dislocation.",
        "de",
        "translation",
        False,
    ),
    (
        "Consequences of an old fracture of the radius.",
        "Folgen einer alten Radiusfraktur.",
        "en",
        "translation",
        False,
    ),
    # Control: a present dislocation made historical is still caught.
    (
        "Impression: Acute knee dislocation.",
        "Beurteilung: Zustand nach Knieluxation.",
        "en",
        "translation",
        True,
    ),
]


@pytest.mark.parametrize(("source", "output", "lang", "task", "flagged"), CASES)
def test_assertion_flags(source: str, output: str, lang: str, task: str, flagged: bool) -> None:
    target = "de" if task == "translation" and lang == "en" else "en" if task == "translation" else lang
    result = check(source, output, task=task, lang=lang, target_lang=target)
    major = [f for f in result.flags if f.code in ("negation_changed", "certainty_changed") and f.confident]
    assert bool(major) is flagged, [(f.code, f.params) for f in result.flags]


def test_delle_is_a_defect() -> None:
    """'Hill-Sachs-Delle' translates 'Hill-Sachs defect': no omission."""
    result = check("Hill-Sachs defect.", "Hill-Sachs-Delle.", task="translation", lang="en", target_lang="de")
    assert not [f for f in result.flags if f.code == "omissions"]
    # Control: the form matches at a word start only, not inside another word ("Modelle").
    assert "defect" in {m.concept for m in Analysis("Hill-Sachs-Delle.", "de").mentions}
    assert "defect" not in {m.concept for m in Analysis("Die Modelle passen.", "de").mentions}


@pytest.mark.parametrize(
    ("text", "veins"),
    [
        ("V. a. Korbhenkelriss des Innenmeniskus.", 0),
        ("V.a. Thrombose der V. femoralis links.", 1),
        ("Thrombose der V. poplitea.", 1),
    ],
)
def test_suspicion_abbreviation_is_no_vein(text: str, veins: int) -> None:
    """The "V." of "V. a." (Verdacht auf) is the hedge, not the vein's abbreviation "V. femoralis"."""
    doc = Analysis(text, "de")
    # "V. femoralis" is one vein (lexicon v7: the concept femoral_vein, which implies vein).
    assert sum("vein" in implied(m.concept) for m in doc.mentions if m.kind == "A") == veins
