"""Round 10 (issue 11): a score's number in words, and a rounded restatement of a kept measurement.

- "one"/"eins" after a score name is the number 1 ("Bosniak one" = "Bosniak I" = "Bosniak 1"); elsewhere
  it stays an article or pronoun and is no number;
- a lay text that rounds a measurement it also keeps ("about 1 cm (11 mm)") adds no number: the hedged
  value is a rounding of a source measurement, even though that measurement is matched elsewhere.

Every example is invented for this file (none comes from a pair batch). Clean rows must not raise
`review`; each class has a control that the real error of the class is still caught.
"""

from __future__ import annotations

import pytest

from medvault.guard._quantities import extract_quantities
from tests.guard.test_round6_sides_numbers import Row, _run

# --- "one" after a score name ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "lang", "found"),
    [
        ("Simple cyst of the right kidney (Bosniak one).", "en", [("count", 1.0)]),
        ("Zyste Bosniak eins", "de", [("count", 1.0)]),
        ("Kellgren-Lawrence grade one", "en", [("count", 1.0)]),
        ("Tanner-Stadium eins", "de", [("count", 1.0)]),
        ("stage two", "en", [("count", 2.0)]),
        # controls: "one"/"eins" without a score name is an article or pronoun
        ("one small cyst in the left kidney", "en", []),
        ("the larger one is 12 mm", "en", [("length", 12.0)]),
        ("eins der Gefäße", "de", []),
    ],
)
def test_score_word_one(text: str, lang: str, found: list[tuple[str, float]]) -> None:
    assert [(q.dim, round(q.base, 4)) for q in extract_quantities(text, lang)] == found


SCORE_WORDS: list[Row] = [
    (
        "word-to-roman-en",
        "Left kidney: simple cyst 22 mm (Bosniak one). No hydronephrosis.",
        "Left kidney: simple cyst 22 mm (Bosniak I). No hydronephrosis.",
        "correction",
        "en",
        None,
        "numbers",
        "ok",
    ),
    (
        "roman-to-word-de",
        "Rechte Niere: Zyste 15 mm, Bosniak I.",
        "Rechte Niere: Zyste 15 mm, Bosniak eins.",
        "correction",
        "de",
        None,
        "numbers",
        "ok",
    ),
    (
        "word-translated",
        "Gonarthrose rechts, Kellgren-Lawrence Grad eins.",
        "Right knee osteoarthritis, Kellgren-Lawrence grade I.",
        "translation",
        "de",
        "en",
        "numbers",
        "not review",
    ),
    (
        "word-one-control",
        "Left kidney: simple cyst 22 mm (Bosniak one).",
        "Left kidney: simple cyst 22 mm (Bosniak II).",
        "correction",
        "en",
        None,
        "numbers",
        "number_changed",
    ),
]


@pytest.mark.parametrize("row", SCORE_WORDS, ids=[r[0] for r in SCORE_WORDS])
def test_score_words(row: Row) -> None:
    _run(row)


# --- a rounded restatement of a kept measurement -----------------------------------------------------------

RESTATED: list[Row] = [
    (
        "restated-en",
        "Nodule in the right upper lobe, 9 mm, solid. Follow-up CT in 3 months.",
        "There is a small lump in the upper part of your right lung, about 1 cm across (9 mm). "
        "Another scan in 3 months is advised.",
        "simplification",
        "en",
        None,
        "numbers",
        "ok",
    ),
    (
        "restated-de",
        "Zyste im linken Leberlappen, 19 mm, glatt begrenzt.",
        "Im linken Teil der Leber ist eine Zyste von 19 mm, also etwa 2 cm groß.",
        "simplification",
        "de",
        None,
        "numbers",
        "ok",
    ),
    (
        "restated-summary",
        "Left adrenal adenoma 21 mm, unchanged.",
        "Left adrenal adenoma of roughly 2 cm (21 mm), stable.",
        "summary",
        "en",
        None,
        "numbers",
        "not review",
    ),
    (
        "restated-far-control",
        "Nodule in the right upper lobe, 13 mm, solid.",
        "There is a small lump in your right lung, about 3 cm across (13 mm).",
        "simplification",
        "en",
        None,
        "numbers",
        "number_added",
    ),
    (
        "restated-correction-control",
        "Left adrenal adenoma 21 mm.",
        "Left adrenal adenoma about 2 cm (21 mm).",
        "correction",
        "en",
        None,
        "numbers",
        "number_added",
    ),
]


@pytest.mark.parametrize("row", RESTATED, ids=[r[0] for r in RESTATED])
def test_restated(row: Row) -> None:
    _run(row)


# --- a measurement-only part measures the sided finding before it ------------------------------------------

MEASURED: list[Row] = [
    (
        "measure-part-lay-de",
        "Herd im Oberlappen rechts, dorsal, 9 mm, glatt begrenzt.",
        "In der Lunge, auf der linken Seite und weiter hinten, zeigt sich ein etwa 0,9 cm großer Bereich, "
        "der auffällig ist.",
        "simplification",
        "de",
        None,
        "laterality",
        "side_changed",
    ),
    (
        "measure-part-lay-en",
        "Cyst in the lower pole of the left kidney, posterior, 23 mm, simple.",
        "In your kidney, on the right side and towards the back, there is an area of 23 mm that stands out.",
        "simplification",
        "en",
        None,
        "laterality",
        "side_changed",
    ),
    (
        "measure-part-kept-de",
        "Herd im Oberlappen rechts, dorsal, 9 mm, glatt begrenzt.",
        "In der Lunge, auf der rechten Seite und weiter hinten, zeigt sich ein etwa 0,9 cm großer Bereich, "
        "der auffällig ist.",
        "simplification",
        "de",
        None,
        "laterality",
        "not review",
    ),
    (
        "measure-part-kept-en",
        "Cyst in the lower pole of the left kidney, posterior, 23 mm, simple.",
        "On the left side, towards the back of your kidney, there is an area of 23 mm that stands out.",
        "simplification",
        "en",
        None,
        "laterality",
        "not review",
    ),
    (
        # control: parts with sides of their own keep them ("rechts, 12 mm, und links, 9 mm")
        "measure-own-sides-control",
        "Nierenzysten rechts, 12 mm, und links, 9 mm.",
        "Zysten beider Nieren: links 12 mm, rechts 9 mm.",
        "summary",
        "de",
        None,
        "laterality",
        "side_changed",
    ),
]


@pytest.mark.parametrize("row", MEASURED, ids=[r[0] for r in MEASURED])
def test_measured_part(row: Row) -> None:
    _run(row)
