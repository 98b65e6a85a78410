"""A side is faithful where some source statement with that side says what the output says, even when
another statement is worded more alike:

- "both" is faithful where, per side, the most alike statement of that side alone says it ("Right kidney
  11 cm, normal" and "Left kidney 10.5 cm, no hydronephrosis": "both kidneys are a normal size");
- a statement that affirms no finding ("Rechts unauffällig", "no nodules in the left breast"), or names
  no organ, needs only a compatible statement on its side: nothing else tells the source's statements
  apart;
- a denial is said by the denial of a broader finding ("keine Herdbefunde": no nodules) or by a normal
  statement of its side ("Regelrechter Befund rechts": no cancer on the right); an organ said normal is
  said by a denial about the same organ only ("Parapharyngealraum rechts nicht infiltriert" does not say
  that something unnamed on the right is normal);
- a normal statement is no anchor of its own: it says how its organ is, not which one;
- the same holds for statements at a spinal level or organ, for right and left described one by one
  ("both"), and for a number the source states elsewhere about the same quantity.

Every example is invented for this file; controls: "both normal" where one side is not, a normal organ
given the side of a denial about another organ, and a normal side where the source's only statement of
that side is abnormal, are still side changes.
"""

from __future__ import annotations

import pytest

from tests.guard.rule_rows import CheckedRow, Row, assert_checked_row, assert_row

ROWS: list[Row] = [
    (
        "both-by-per-side-union-en",
        "Renal US.\nRight kidney 11.0 cm, normal cortex. 4 mm stone in the lower pole.\nLeft kidney 10.5 cm, "
        "no hydronephrosis.",
        "- There is a small 4 mm stone in the lower part of your right kidney.\n- Both kidneys are a normal "
        "size.",
        "simplification",
        "en",
        "en",
        "ok",
    ),
    (
        "both-by-per-side-union-de",
        "Sonographie Nieren.\nRechte Niere 11,0 cm, regelrecht. Linke Niere 10,5 cm, kein Harnstau.",
        "Beide Nieren sind normal groß.",
        "summary",
        "de",
        None,
        "ok",
    ),
    (
        "side-only-normal-de",
        "Mammographie beidseits.\n- Links oben außen Herdbefund 8 mm, unscharf.\n- Rechts unauffällig, keine "
        "Verkalkungen.\n- Axilla beidseits frei.",
        "Unscharfer Herdbefund links oben außen (8 mm). Rechts unauffällig.",
        "summary",
        "de",
        None,
        "ok",
    ),
    (
        "broader-denial-en",
        "Mammogram.\nRight: 5 mm calcified fibroadenoma. Left: no suspicious lesion, no calcifications.\n"
        "Axillae: no suspicious nodes bilaterally.",
        "A small calcified fibroadenoma (5 mm) is in the right breast. The left breast shows no suspicious "
        "nodules and no calcifications.",
        "simplification",
        "en",
        "en",
        "ok",
    ),
    (
        "denial-by-normal-side-de",
        "Mammographie nach BET rechts 2021.\nBeurteilung: Regelrechter Befund nach BET rechts. Kein "
        "Malignitätsverdacht links. BI-RADS 2 beidseits.",
        "Es gibt keinen Hinweis darauf, dass der Krebs rechts zurückgekommen ist, und keinen Krebsverdacht "
        "in der linken Brust.",
        "simplification",
        "de",
        "de",
        "ok",
    ),
    (
        "denial-by-normal-side-en",
        "Renal US.\nRight kidney: normal. Left kidney: no hydronephrosis, 5 mm stone.",
        "There is no stone in the right kidney; the left kidney has a 5 mm stone.",
        "simplification",
        "en",
        "en",
        "ok",
    ),
    # Controls.
    (
        "control-denial-against-affirmed-side",
        "Renal US.\nRight kidney: 5 mm stone. Left kidney: normal.",
        "There is no stone in the right kidney; the left kidney has a 5 mm stone.",
        "simplification",
        "en",
        "en",
        "review",
    ),
    (
        "control-both-normal-one-not",
        "Renal US.\nRight kidney 11.0 cm, normal.\nLeft kidney 10.5 cm, moderate hydronephrosis.",
        "Both kidneys are normal.",
        "summary",
        "en",
        None,
        "review",
    ),
    (
        "control-normal-organ-by-other-denial",
        "MRT Prostata.\nLäsion der peripheren Zone rechts, 11 mm. Links keine suspekte Läsion. Samenblasen "
        "beidseits unauffällig.",
        "MRI prostate.\nLesion of the right peripheral zone, 11 mm. No suspicious lesion on the left. "
        "Seminal vesicles unremarkable on the left.",
        "translation",
        "de",
        "en",
        "side_changed",
    ),
    (
        "control-organless-normal-by-denial",
        "CT Hals.\nRechts peritonsillär ein Abszess, 24 mm. Parapharyngealraum rechts nicht infiltriert. "
        "Linke Tonsillenloge unauffällig.",
        "Rechts neben der Mandel ist eine Eiteransammlung (24 mm). Die rechte Mandel ist unauffällig.",
        "simplification",
        "de",
        "de",
        "side_changed",
    ),
    (
        "control-normal-side-abnormal",
        "Mammographie beidseits.\n- Rechts Herdbefund 8 mm, unscharf.\n- Links unauffällig.",
        "Herdbefund links (8 mm). Rechts unauffällig.",
        "summary",
        "de",
        None,
        "side_changed",
    ),
    # Existential compatibility: the source says the output's statement elsewhere, about a place
    # the output's statement shares (side, spinal level, organ); the other statement is about elsewhere.
    (
        "compatible-en-kidney",
        "Right kidney: 6 cm. Mild pelvicalyceal dilatation. No ureteral dilatation.",
        "In the right kidney, the space where urine collects is still slightly widened.",
        "simplification",
        "en",
        None,
        "ok",
    ),
    (
        "compatible-en-kidney-left",
        "Left kidney: 10 cm. Mild pelvicalyceal dilatation. No ureteric dilatation.",
        "In the left kidney, the part where urine collects is slightly widened.",
        "simplification",
        "en",
        None,
        "ok",
    ),
    (
        "compatible-de-kidney",
        "Rechte Niere: 6 cm. Leichte pyelokalikale Dilatation. Keine Dilatation des Ureters.",
        "In der rechten Niere ist der Raum, in dem sich der Urin sammelt, noch leicht erweitert.",
        "simplification",
        "de",
        None,
        "ok",
    ),
    (
        "compatible-de-spine-level",
        "LWK 3/4: Protrusion, keine Kompression der L4-Wurzel.\n"
        "LWK 4/5: Bandscheibenvorfall mit Kompression der L5-Wurzel rechts.",
        "Der Bandscheibenvorfall drückt auf die rechte Nervenwurzel L5.",
        "simplification",
        "de",
        None,
        "ok",
    ),
    (
        "compatible-en-spine-level",
        "C5/6: disc osteophyte complex with compression of the C6 root. C6/7: no root compression.",
        "At C5/6 a bony bulge presses on the C6 nerve root.",
        "simplification",
        "en",
        None,
        "ok",
    ),
    (
        "compatible-de-side",
        "Erguss im Kniegelenk rechts. Links kein Erguss.",
        "Im rechten Knie ist Flüssigkeit zu sehen.",
        "simplification",
        "de",
        None,
        "ok",
    ),
    # Controls: a flip of the statement that differs by an anchor is still caught, and so is one whose
    # sentence rewords the aligned statement word for word beside a vaguer agreeing one.
    (
        "compatible-control-de-worded",
        "Thrombus in der V. poplitea links. Keine Thrombose der Unterschenkelvenen.",
        "In der Kniekehlenvene links ist ein Gerinnsel. In den Unterschenkelvenen gibt es Gerinnsel.",
        "simplification",
        "de",
        None,
        "negation_changed",
    ),
    (
        "compatible-control-en-between-levels",
        "C5/6: disc protrusion with compression of the C6 root. C6/7: disc bulge without cord compression.",
        "Between C6 and C7 the disc bulge compresses the spinal cord.",
        "simplification",
        "en",
        None,
        "negation_changed",
    ),
    (
        "compatible-control-de-level",
        "LWK 4/5: Protrusion ohne Kompression der L5-Wurzel.\n"
        "LWK 5/SWK 1: Bandscheibenvorfall mit Kompression der S1-Wurzel links.",
        "Bei L4/5 drückt die Bandscheibe auf die Nervenwurzel L5.",
        "simplification",
        "de",
        None,
        "negation_changed",
    ),
    (
        "compatible-control-en-side",
        "Effusion in the right knee. No effusion in the left knee.",
        "There is fluid in the left knee.",
        "simplification",
        "en",
        None,
        "negation_changed",
    ),
]


@pytest.mark.parametrize("row", ROWS, ids=[r[0] for r in ROWS])
def test_existential_sides(row: Row) -> None:
    assert_row(row)


CHECKED: list[CheckedRow] = [
    # Right and left described one by one are "both"/"beidseits" (union of compatible statements).
    (
        "union-en",
        "Right kidney: 10.2 cm, normal echogenicity. Left kidney: 10.6 cm, normal echogenicity.",
        "Both kidneys look normal.",
        "simplification",
        "en",
        None,
        "laterality",
        "not review",
    ),
    (
        "union-de",
        "Rechte Niere: 11 cm, regelrecht. Linke Niere: 11,4 cm, regelrecht.",
        "Beide Nieren sind unauffällig und normal groß.",
        "simplification",
        "de",
        None,
        "laterality",
        "not review",
    ),
    (
        "union-summary-en",
        "Right hip: mild osteoarthritis. Left hip: mild osteoarthritis.",
        "Mild bilateral hip osteoarthritis.",
        "summary",
        "en",
        None,
        "laterality",
        "not review",
    ),
    (
        "both-sides-de",
        "Gonarthrose beidseits, medial betont.",
        "An beiden Seiten ist das Kniegelenk abgenutzt (Gonarthrose).",
        "simplification",
        "de",
        None,
        "laterality",
        "not review",
    ),
    (
        "both-counts-levels-de",
        "Bandscheibenprotrusion L3/4 und L4/5 links.",
        "An diesen beiden unteren Etagen wölbt sich die Bandscheibe nach links vor.",
        "simplification",
        "de",
        None,
        "laterality",
        "not review",
    ),
    # Controls: the union covers one side only; a flip at one of two levels; a flip of one of two
    # statements that differ by polarity.
    (
        "union-control-en",
        "Right kidney: 10.2 cm, normal. Left kidney: 10.6 cm, hydronephrosis.",
        "Both kidneys are normal.",
        "simplification",
        "en",
        None,
        "laterality",
        "side_changed",
    ),
    (
        "level-control-de",
        "Bandscheibenvorfall L4/5 rechts. Bandscheibenvorfall L5/S1 links.",
        "Bandscheibenvorfall L4/5 links. Bandscheibenvorfall L5/S1 links.",
        "summary",
        "de",
        None,
        "laterality",
        "side_changed",
    ),
    (
        "polarity-control-en",
        "Pleural effusion on the right. No effusion on the left.",
        "Pleural effusion on the left.",
        "summary",
        "en",
        None,
        "laterality",
        "side_changed",
    ),
    # Existential: a number the source states elsewhere about the same quantity is no changed number.
    (
        "number-elsewhere-en",
        "Nodule 9 mm (previously 6 mm).",
        "The nodule measured 6 mm before and is now 9 mm.",
        "simplification",
        "en",
        None,
        "numbers",
        "ok",
    ),
    (
        "number-control-en",
        "Nodule 9 mm (previously 6 mm).",
        "The nodule measured 6 mm before and is now 19 mm.",
        "simplification",
        "en",
        None,
        "numbers",
        "number_changed",
    ),
]


@pytest.mark.parametrize("row", CHECKED, ids=[r[0] for r in CHECKED])
def test_existential_checked_rows(row: CheckedRow) -> None:
    assert_checked_row(row)
