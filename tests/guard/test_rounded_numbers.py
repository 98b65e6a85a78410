"""A lay text may round a measurement under a hedge ("about 2 cm" for 1.8 cm, "knapp 1 l"), and may restate
a kept measurement rounded; a hedge does not cover a value far off, a correction may not round, and a
rounded value far from every kept measurement is an added number.

Every example is invented for the guard's tests; controls show each of those changes caught.
"""

from __future__ import annotations

import pytest

from tests.guard.rule_rows import CheckedRow, assert_checked_row

CHECKED: list[CheckedRow] = [
    # Rounding in lay texts.
    (
        "about-2cm",
        "Zyste 18 mm.",
        "Eine etwa 2 cm große Zyste.",
        "simplification",
        "de",
        None,
        "numbers",
        "ok",
    ),
    (
        "roughly-4cm",
        "Aneurysm 41 mm.",
        "The widening measures roughly 4 cm.",
        "simplification",
        "en",
        None,
        "numbers",
        "ok",
    ),
    (
        "knapp-1l",
        "Pleuraerguss ca. 950 ml.",
        "Es hat sich knapp 1 l Flüssigkeit angesammelt.",
        "simplification",
        "de",
        None,
        "numbers",
        "ok",
    ),
    (
        "no-hedge-other-unit",
        "Gallbladder stone 19 mm.",
        "A gallstone of 2 cm.",
        "simplification",
        "en",
        None,
        "numbers",
        "unchecked",
    ),
    # negative controls: a hedge does not cover a different value, nor a correction's rounding
    (
        "about-but-far",
        "Zyste 12 mm.",
        "Eine etwa 2 cm große Zyste.",
        "simplification",
        "de",
        None,
        "numbers",
        "number_changed",
    ),
    (
        "same-unit-changed",
        "Aneurysm 41 mm.",
        "The widening measures 44 mm.",
        "simplification",
        "en",
        None,
        "numbers",
        "number_changed",
    ),
    (
        "correction-rounds",
        "Zyste 18 mm.",
        "Zyste etwa 2 cm.",
        "correction",
        "de",
        None,
        "numbers",
        "number_changed",
    ),
    # A rounded restatement of a kept measurement.
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


@pytest.mark.parametrize("row", CHECKED, ids=[r[0] for r in CHECKED])
def test_rounded_number_rows(row: CheckedRow) -> None:
    assert_checked_row(row)
