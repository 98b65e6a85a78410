"""Round 7 (issue 11): existential sides, sides by union, spinal levels, cubic and square units.

Every example is invented for this file (none comes from a pair batch). Clean rows must not raise
`review`; each class has a control that the real error of the class is still caught.
"""

from __future__ import annotations

import pytest

from medvault.guard._quantities import extract_quantities
from tests.guard.test_round6_sides_numbers import Row, _run

SIDES: list[Row] = [
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
]

NUMBERS: list[Row] = [
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


@pytest.mark.parametrize("row", SIDES + NUMBERS, ids=[r[0] for r in SIDES + NUMBERS])
def test_row(row: Row) -> None:
    _run(row)


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


MEASURED: list[Row] = [
    # Existential sides stop at a conflicting measurement: the 15 mm lesion is not the 6 mm one.
    (
        "measure-control-de",
        "Läsion 15 mm im rechten Parietallappen. Läsion 6 mm im linken Kleinhirn.",
        "Ein 15 mm großer Herd links im Gehirn. Ein 6 mm großer Herd links im Gehirn.",
        "simplification",
        "de",
        None,
        "laterality",
        "side_changed",
    ),
    (
        "measure-union-en",
        "Right ovary 3 cm, normal. Left ovary 3 cm, normal.",
        "Both ovaries are normal, about 3 cm each.",
        "simplification",
        "en",
        None,
        "laterality",
        "not review",
    ),
]


@pytest.mark.parametrize("row", MEASURED, ids=[r[0] for r in MEASURED])
def test_measured_row(row: Row) -> None:
    _run(row)
