"""Words that name one finding in both languages read as one concept (data/lexicon.txt v7): a perfusion
deficit is also written "defect" / "Perfusionsdefekt", "Defizit" is a defect, "EPE" is extraprostatic
extension, "PTX" a pneumothorax. Otherwise a faithful translation reads as a new finding.

Every example is invented for this file; controls: the concept added where the source has none is still
a new finding, and a dropped extraprostatic extension is major.
"""

from __future__ import annotations

import pytest

from tests.guard.conftest import assert_reading
from tests.guard.rule_rows import Row, assert_row


@pytest.mark.parametrize(
    ("text", "lang", "word", "concept"),
    [
        ("Perfusionsdefizit inferolateral.", "de", "perfusionsdefizit", "perfusion_deficit"),
        ("Perfusion defect of the inferior wall.", "en", "perfusion defect", "perfusion_deficit"),
        ("Minderperfusion im Mediastromgebiet.", "de", "minderperfusion", "perfusion_deficit"),
        ("eher echtes Defizit", "de", "defizit", "defect"),
        ("Focal EPE at the right base.", "en", "epe", "extraprostatic_extension"),
        (
            "Extraprostatische Ausbreitung rechts dorsolateral.",
            "de",
            "extraprostatische",
            "extraprostatic_extension",
        ),
        ("Left apical PTX with drain, down to 0.5 cm.", "en", "ptx", "pneumothorax"),
        ("Kleiner Mantel-PTX rechts.", "de", "ptx", "pneumothorax"),
        # control: "epe" inside a word is nothing
        ("Epithel intakt.", "de", "epithel", None),
    ],
)
def test_reading(text: str, lang: str, word: str, concept: str | None) -> None:
    assert_reading(text, lang, word, concept)


ROWS: list[Row] = [
    (
        "perfusion-de-en",
        "Adenosin-Stressperfusion: Perfusionsdefizit inferoseptal, eher echtes Defizit als Artefakt.",
        "Adenosine stress perfusion: perfusion defect inferoseptal, "
        "more likely a true defect than an artefact.",
        "translation",
        "de",
        "en",
        "not review",
    ),
    (
        "perfusion-en-de",
        "Reversible perfusion deficit of the anterior wall. No scar.",
        "Reversibler Perfusionsdefekt der Vorderwand. Keine Narbe.",
        "translation",
        "en",
        "de",
        "ok",
    ),
    (
        "epe-en-de",
        "Index lesion right peripheral zone, PI-RADS 5, with EPE. Seminal vesicles free.",
        "Indexläsion periphere Zone rechts, PI-RADS 5, mit extraprostatischer Ausbreitung. Samenblasen frei.",
        "translation",
        "en",
        "de",
        "ok",
    ),
    # controls: a perfusion defect the source does not have; EPE dropped from a summary
    (
        "perfusion-invented",
        "Normal left ventricular function. No scar.",
        "Normal left ventricular function. Perfusion defect of the anterior wall. No scar.",
        "correction",
        "en",
        None,
        "new_finding",
    ),
    (
        "epe-dropped",
        "Index lesion right peripheral zone, 14 mm, PI-RADS 5. Capsular bulge with EPE at 7 o'clock.",
        "Index lesion right peripheral zone, 14 mm, PI-RADS 5.",
        "summary",
        "en",
        None,
        "omission",
    ),
]


@pytest.mark.parametrize("row", ROWS, ids=[r[0] for r in ROWS])
def test_synonyms_in_pairs(row: Row) -> None:
    assert_row(row)
