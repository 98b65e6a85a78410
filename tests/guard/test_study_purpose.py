"""A purpose says what the study looked for, not what it found: "to check for a blood clot", "to look
for broken bones", "zur Abklärung einer Thrombose", "um eine Blutung auszuschließen" ask like a
clinical question, and the answer follows in other words ("There is no blood clot"). Every example is
invented for this file; controls show that an answer that flips the source is still caught.
"""

from __future__ import annotations

import pytest

from tests.guard.conftest import assert_asked
from tests.guard.rule_rows import Row, assert_row

ASKED = [
    ("You had an ultrasound of your leg to check for a blood clot.", "en", True),
    ("The scan was done to look for broken bones.", "en", True),
    ("The CT was made to see whether there is bleeding.", "en", True),
    ("Eval for metastases.", "en", True),
    ("Die Untersuchung erfolgte zur Abklärung einer Thrombose.", "de", True),
    ("Die CT wurde gemacht, um eine Blutung auszuschließen.", "de", True),
    ("Suche nach einer Fraktur.", "de", True),
    # What one looks for: "sucht man nach", "the scan looks for".
    ("Bei diesem Ultraschall sucht man vor allem nach Blut im Bauch.", "de", True),
    ("Der Arzt schaut dabei nach einem Bruch.", "de", True),
    ("Im Röntgenbild suchten die Ärzte nach einem Erguss.", "de", True),
    ("This quick scan looks for bleeding around the heart.", "en", True),
    ("The doctors searched for a fracture on the images.", "en", True),
    # Controls: stated findings.
    ("There is a blood clot in the calf veins.", "en", False),
    ("Es zeigt sich eine frische Fraktur.", "de", False),
    ("The heart looked normal for her age; a small effusion is seen.", "en", False),
    ("Nach dem Sturz zeigt sich eine Fraktur.", "de", False),
]


@pytest.mark.parametrize(("text", "lang", "asked"), ASKED)
def test_purpose_asks(text: str, lang: str, asked: bool) -> None:
    assert_asked(text, lang, asked)


ROWS: list[Row] = [
    (
        "clot-en",
        "Right leg venous duplex.\nImpression: No DVT in the right leg.",
        "You had an ultrasound of your right leg to check for a blood clot. There is no blood clot.",
        "simplification",
        "en",
        None,
        "ok",
    ),
    (
        "broken-en",
        "CT wrist. No acute fracture.",
        "The scan of your wrist was done to look for broken bones. No broken bones were found.",
        "simplification",
        "en",
        None,
        "ok",
    ),
    (
        "bleed-en",
        "CT head. No intracranial haemorrhage.",
        "The scan was done to see whether there is bleeding in the head. There is no bleeding.",
        "simplification",
        "en",
        None,
        "ok",
    ),
    (
        "thrombosis-de",
        "Duplex Bein links. Keine Thrombose.",
        "Die Untersuchung wurde zur Abklärung einer Thrombose gemacht. Es gibt kein Blutgerinnsel.",
        "simplification",
        "de",
        None,
        "ok",
    ),
    (
        "bleed-de",
        "CT Schädel. Keine intrakranielle Blutung.",
        "Die CT wurde gemacht, um eine Blutung auszuschließen. Es zeigt sich keine Blutung.",
        "simplification",
        "de",
        None,
        "ok",
    ),
    # Controls: an answer that contradicts the source.
    (
        "clot-en-flip",
        "Right leg venous duplex.\nImpression: No DVT in the right leg.",
        "You had an ultrasound of your right leg to check for a blood clot. There is a blood clot in the "
        "right leg.",
        "simplification",
        "en",
        None,
        "negation_changed",
    ),
    (
        "thrombosis-de-flip",
        "Duplex Bein links. Keine Thrombose.",
        "Die Untersuchung wurde zur Abklärung einer Thrombose gemacht. Es zeigt sich ein Blutgerinnsel.",
        "simplification",
        "de",
        None,
        "negation_changed",
    ),
]


@pytest.mark.parametrize("row", ROWS, ids=[r[0] for r in ROWS])
def test_study_purpose_rows(row: Row) -> None:
    assert_row(row)
