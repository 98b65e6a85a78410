"""Reports abbreviate sides: the letter alone before a word ("R kidney", "L M1 segment", "R-sided") in
English, or glued to a lobe, quadrant, fossa, heart chamber or artery ("RUL", "LLL", "RUQ", "LIF", "LV",
"RCA", "LAD") in both languages. Read as sides, a translation or simplification that writes the side out
agrees with them; a ratio of the two sides ("RV/LV") names no side.

Every example is invented for this file; controls: a side flipped against an abbreviation is still a
side change, and a litre ("1.5 l fluid"), a list of letters ("C, R, I") or an initial ("Dr R Jones") is no
side.
"""

from __future__ import annotations

import pytest

from medvault.guard._sides import _side_words
from medvault.guard._text import Analysis
from tests.guard.rule_rows import Row, assert_row


@pytest.mark.parametrize(
    ("text", "lang", "sides"),
    [
        ("R kidney 10.4 cm, L kidney 10.9 cm.", "en", [("R", "right"), ("L", "left")]),
        ("R-sided facial droop.", "en", [("R", "right")]),
        ("Hyperdense L MCA, occlusion of the L M1 segment.", "en", [("L", "left"), ("L", "left")]),
        ("8 mm RUL nodule, LLL atelectasis.", "en", [("RUL", "right"), ("LLL", "left")]),
        ("Tenderness in the RIF, free fluid in the LUQ.", "en", [("RIF", "right"), ("LUQ", "left")]),
        ("LAD and LCx patent, RCA occluded.", "en", [("LAD", "left"), ("LCx", "left"), ("RCA", "right")]),
        ("LV normal groß, RV dilatiert.", "de", [("LV", "left"), ("RV", "right")]),
        ("Drained 1.5 l fluid; 0,8 l residual.", "en", []),
        ("Ossification centres (C, R, I) normal.", "en", []),
        ("Reported by Dr R Jones.", "en", []),
        ("RV/LV-Quotient 1,1; RV LV ratio 0.9.", "de", []),
        ("RV/LV ratio 0.9.", "en", []),
    ],
)
def test_abbreviated_sides(text: str, lang: str, sides: list[tuple[str, str]]) -> None:
    doc = Analysis(text, lang)
    found = [(text[sm.start : sm.end], side) for sm in _side_words(doc) for side in sorted(sm.sides)]
    assert found == sides


ROWS: list[Row] = [
    (
        "letter-sides-summary",
        "Renal US. R loin pain.\nR kidney 11.0 cm, mild hydronephrosis, 5 mm stone at the R VUJ. "
        "L kidney 10.6 cm, normal.\nIMP: 5 mm obstructing R VUJ calculus with mild R hydronephrosis.",
        "- 5 mm obstructing stone at the right VUJ with mild right hydronephrosis.\n- Left kidney normal.",
        "summary",
        "en",
        None,
        "ok",
    ),
    (
        "lobe-abbreviation-translation",
        "CT chest. 68F, smoker.\n14 mm spiculated RUL nodule. 4 mm LLL nodule, unchanged.",
        "CT Thorax. 68 Jahre, weiblich, Raucherin.\nSpikulierter Rundherd im rechten Oberlappen, 14 mm. "
        "Rundherd im linken Unterlappen, 4 mm, unverändert.",
        "translation",
        "en",
        "de",
        "ok",
    ),
    (
        "quadrant-simplification",
        "US abdomen. Probe tenderness in RIF. Blind-ending tubular structure 9 mm in the RIF, "
        "c/w appendicitis.",
        "The scan shows that your appendix in the lower right part of your tummy is inflamed and "
        "swollen (9 mm).",
        "simplification",
        "en",
        "en",
        "ok",
    ),
    (
        "chamber-kept-in-translation",
        "Echo. LV: normal size, EF 58%. RV: mildly dilated.",
        "Echokardiographie. LV: normal groß, EF 58 %. RV: leicht dilatiert.",
        "translation",
        "en",
        "de",
        "ok",
    ),
    # Controls: the side written out against the abbreviation is a side change.
    (
        "control-letter-flipped",
        "XR L wrist. Undisplaced fracture of the distal radius.",
        "Röntgen Handgelenk rechts. Nicht dislozierte distale Radiusfraktur.",
        "translation",
        "en",
        "de",
        "side_changed",
    ),
    (
        "control-lobe-flipped",
        "CT chest. 14 mm spiculated RUL nodule, suspicious.",
        "CT Thorax. Spikulierter Rundherd im linken Oberlappen, 14 mm, suspekt.",
        "translation",
        "en",
        "de",
        "side_changed",
    ),
    (
        "control-chamber-flipped",
        "Echo. RV dilated, LV normal.",
        "Echo. Left ventricle dilated, right ventricle normal.",
        "simplification",
        "en",
        "en",
        "review",
    ),
]


@pytest.mark.parametrize("row", ROWS, ids=[r[0] for r in ROWS])
def test_abbreviated_sides_in_pairs(row: Row) -> None:
    assert_row(row)
