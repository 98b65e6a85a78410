"""Round 9 (issue 11): which statement a side belongs to in long multi-finding reports.

- a measurement range ("50-69%") aligns a lay clause with the source statement holding the whole range,
  not with one sharing an end of it ("below 50%" on the other side);
- a generic lay finding ("spot", "Herd") is stated by a narrower finding of the source ("nodule"), and a lay
  output may stand for a slightly less alike source statement (lay words name no lobe);
- a side-only part of a sentence ("sowie im linken Stiel, 7 mm") does not join a clause before it that
  already has its own side;
- Roman numerals with the grade sign ("Harnstau II°") are grades like "Grad II".

Every example is invented for this file (none comes from a pair batch). Clean rows must not raise
`review`; each class has a control that the real error of the class is still caught.
"""

from __future__ import annotations

import pytest

from medvault.guard._quantities import extract_quantities
from tests.guard.test_round6_sides_numbers import Row, _run

# --- a range belongs to the statement that holds all of it ---------------------------------------------

RANGES: list[Row] = [
    (
        "range-history-en",
        "Right ICA: stenosis 60-69%, up from 40-49% last year.\nLeft ICA: stenosis below 40%.",
        "- Right side: the main neck artery is narrowed by sixty to sixty-nine percent.\n"
        "- Last year the narrowing was forty to forty-nine percent, so it has become tighter.\n"
        "- Left side: a narrowing of less than forty percent.",
        "simplification",
        "en",
        None,
        "laterality",
        "not review",
    ),
    (
        "range-history-de",
        "A. carotis interna rechts: Stenose 70-79 %, zuvor 50-69 %.\n"
        "A. carotis interna links: Stenose unter 50 %.",
        "Rechte Halsschlagader: Die Engstelle beträgt jetzt 70 bis 79 Prozent.\n"
        "Rechts war die Einengung vorher 50 bis 69 Prozent.\nLinks ist die Engstelle kleiner als 50 Prozent.",
        "simplification",
        "de",
        None,
        "laterality",
        "not review",
    ),
    (
        "range-size-en",
        "Right kidney: cysts 10-15 mm, previously 8-12 mm.\nLeft kidney: cyst 8 mm.",
        "Right kidney: cysts of 10 to 15 mm.\nOn the right they were 8 to 12 mm before.\n"
        "Left kidney: one 8 mm cyst.",
        "simplification",
        "en",
        None,
        "laterality",
        "not review",
    ),
    (
        "range-control-swapped",
        "Right ICA: stenosis 60-69%.\nLeft ICA: stenosis 20-39%.",
        "- Right side: the neck artery is narrowed by twenty to thirty-nine percent.\n"
        "- Left side: it is narrowed by sixty to sixty-nine percent.",
        "simplification",
        "en",
        None,
        "laterality",
        "side_changed",
    ),
]


@pytest.mark.parametrize("row", RANGES, ids=[r[0] for r in RANGES])
def test_ranges(row: Row) -> None:
    _run(row)


# --- generic lay findings and lay alignment ------------------------------------------------------------

LAY: list[Row] = [
    (
        "spot-upper-right",
        "Right upper lobe: part-solid nodule 18 mm, growing solid component.\n"
        "Left lower lobe: solid nodule 4 mm, stable, benign.",
        "The main finding is a spot in the upper part of your right lung that is growing.\n"
        "A second small spot of 4 millimetres in the lower part of your left lung has not changed.",
        "simplification",
        "en",
        None,
        "laterality",
        "not review",
    ),
    (
        "herd-oben-rechts",
        "Rechter Oberlappen: teilsolider Rundherd 15 mm, größenprogredient.\n"
        "Linker Unterlappen: solider Rundherd 6 mm, stabil.",
        "Im oberen Teil der rechten Lunge gibt es einen Herd, der gewachsen ist.\n"
        "Unten in der linken Lunge ist ein kleiner Herd von 6 Millimetern unverändert.",
        "simplification",
        "de",
        None,
        "laterality",
        "not review",
    ),
    (
        "spot-liver-right",
        "Right hepatic lobe: hypodense lesion 22 mm, increased.\nLeft hepatic lobe: cyst 7 mm, unchanged.",
        "The biggest change is a spot in the right part of your liver that has grown.\n"
        "In the left part there is a 7 mm fluid bubble (cyst) that is unchanged.",
        "simplification",
        "en",
        None,
        "laterality",
        "not review",
    ),
    (
        "spot-control-flipped",
        "Right upper lobe: part-solid nodule 18 mm, growing.\nLeft lower lobe: solid nodule 4 mm, stable.",
        "The main finding is a growing spot of 18 millimetres in your left lung.\n"
        "A second small spot of 4 millimetres in your right lung has not changed.",
        "simplification",
        "en",
        None,
        "laterality",
        "side_changed",
    ),
]


@pytest.mark.parametrize("row", LAY, ids=[r[0] for r in LAY])
def test_lay_alignment(row: Row) -> None:
    _run(row)


# --- a side-only part does not join a clause that has its own side --------------------------------------

PARTS: list[Row] = [
    (
        "sowie-linken",
        "Two new lesions: right frontal, 4 mm, and left cerebellar peduncle, 8 mm.",
        "Zwei neue Läsionen: rechts frontal, 4 mm, sowie im linken Kleinhirnstiel, 8 mm.",
        "translation",
        "en",
        "de",
        "laterality",
        "not review",
    ),
    (
        "und-links",
        "Zwei Zysten: rechts parapelvin, 12 mm, und links am Oberpol, 9 mm.",
        "Two cysts: on the right next to the pelvis, 12 mm, and on the left at the upper pole, 9 mm.",
        "translation",
        "de",
        "en",
        "laterality",
        "not review",
    ),
    (
        "and-left",
        "Two nodules: right apical, 6 mm, and left basal, 3 mm.",
        "Zwei Knoten: rechts apikal, 6 mm, und links basal, 3 mm.",
        "translation",
        "en",
        "de",
        "laterality",
        "not review",
    ),
    (
        "parts-control-swapped",
        "Two new lesions: right frontal, 4 mm, and left cerebellar peduncle, 8 mm.",
        "Zwei neue Läsionen: links frontal, 4 mm, sowie im rechten Kleinhirnstiel, 8 mm.",
        "translation",
        "en",
        "de",
        "laterality",
        "side_changed",
    ),
]


@pytest.mark.parametrize("row", PARTS, ids=[r[0] for r in PARTS])
def test_side_parts(row: Row) -> None:
    _run(row)


# --- grades with the grade sign ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "lang", "found"),
    [
        ("Harnstau II°", "de", [("count", 2.0)]),
        ("vesikoureteraler Reflux IV° links", "de", [("count", 4.0)]),
        ("hydronephrosis III°", "en", [("count", 3.0)]),
        ("Grad II°", "de", [("count", 2.0)]),
        # controls: an angle stays an angle, words ending in a numeral letter are no numerals
        ("Winkel 30°", "de", [("angle", 30.0)]),
        ("Die Niere ist i. O.", "de", []),
        ("taxi°", "en", []),
    ],
)
def test_grade_sign(text: str, lang: str, found: list[tuple[str, float]]) -> None:
    assert [(q.dim, round(q.base, 4)) for q in extract_quantities(text, lang)] == found


GRADES: list[Row] = [
    (
        "grade-sign-twice",
        "Niere links: Harnstau Grad II. Beurteilung: Urolithiasis links mit Harnstau II°.",
        "Left kidney: grade II hydronephrosis. Impression: left urolithiasis with grade II hydronephrosis.",
        "translation",
        "de",
        "en",
        "numbers",
        "not review",
    ),
    (
        "grade-sign-en",
        "Left kidney: hydronephrosis grade III. Impression: hydronephrosis III°.",
        "Niere links: Harnstau Grad III. Beurteilung: Harnstau Grad III.",
        "translation",
        "en",
        "de",
        "numbers",
        "not review",
    ),
    (
        "grade-sign-control",
        "Niere links: Harnstau II°.",
        "Left kidney: grade III hydronephrosis.",
        "translation",
        "de",
        "en",
        "numbers",
        "number_changed",
    ),
]


@pytest.mark.parametrize("row", GRADES, ids=[r[0] for r in GRADES])
def test_grades(row: Row) -> None:
    _run(row)
