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
- a normal statement is no anchor of its own: it says how its organ is, not which one.

Every example is invented for this file; controls: "both normal" where one side is not, a normal organ
given the side of a denial about another organ, and a normal side where the source's only statement of
that side is abnormal, are still side changes.
"""

from __future__ import annotations

import pytest

from tests.guard.rule_rows import Row, assert_row

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
]


@pytest.mark.parametrize("row", ROWS, ids=[r[0] for r in ROWS])
def test_existential_sides(row: Row) -> None:
    assert_row(row)
