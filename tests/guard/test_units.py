"""A volume written in another unit ("25 ml" as "2,5 cl"), a cubic or square unit written out or converted,
is the same quantity; a value that keeps its number but changes its unit is a unit change.

Every example is invented for the guard's tests; controls show that a changed unit is caught.
"""

from __future__ import annotations

import pytest

from medvault.guard._quantities import extract_quantities
from tests.guard.rule_rows import CheckedRow, assert_checked_row

CHECKED: list[CheckedRow] = [
    ("ml-as-cl", "Residual urine 250 mL.", "Restharn 25 cl.", "translation", "en", "de", "numbers", "ok"),
    ("dl-as-ml", "Erguss 3 dl.", "Effusion 300 ml.", "translation", "de", "en", "numbers", "ok"),
    (
        "milliliter-word",
        "Hämatom 40 Milliliter.",
        "Haematoma 40 mL.",
        "translation",
        "de",
        "en",
        "numbers",
        "ok",
    ),
    (
        "ml-to-cl",
        "Ascites about 600 mL.",
        "Aszites etwa 600 cl.",
        "translation",
        "en",
        "de",
        "numbers",
        "unit_changed",
    ),
    (
        "ml-to-dl",
        "Harnblase 450 ml.",
        "Bladder 450 dl.",
        "translation",
        "de",
        "en",
        "numbers",
        "unit_changed",
    ),
    ("cl-to-l", "Erguss 80 cl.", "Erguss 80 l.", "correction", "de", None, "numbers", "unit_changed"),
    (
        "cubic-unit-control",
        "Rundherd, Volumen 310 mm³ (zuvor 115 mm³).",
        "Nodule, volume 310 cm³ (previously 115 mm³).",
        "translation",
        "de",
        "en",
        "numbers",
        "unit_changed",
    ),
    (
        "cubic-same",
        "Rundherd, Volumen 310 mm³ (zuvor 115 mm³).",
        "Nodule, volume 310 mm³ (previously 115 mm3).",
        "translation",
        "de",
        "en",
        "numbers",
        "ok",
    ),
    (
        "square-converted",
        "Fläche des Ulkus 2,5 cm².",
        "Ulcer area 250 mm².",
        "translation",
        "de",
        "en",
        "numbers",
        "ok",
    ),
]


@pytest.mark.parametrize("row", CHECKED, ids=[r[0] for r in CHECKED])
def test_unit_rows(row: CheckedRow) -> None:
    assert_checked_row(row)


@pytest.mark.parametrize(
    ("text", "dim", "base"),
    [
        ("310 mm³", "volume", 0.31),
        ("12 cm3", "volume", 12.0),
        ("4 cm²", "area", 400.0),
        ("7 mm2", "area", 7.0),
    ],
)
def test_cubic_and_square_units(text: str, dim: str, base: float) -> None:
    (q,) = extract_quantities(text, "de")
    assert (q.dim, round(q.base, 6)) == (dim, base)
