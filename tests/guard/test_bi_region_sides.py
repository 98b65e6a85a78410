""" "bi-" before a region names both sides of it, in both languages: "bifrontal", "bitemporal",
"bibasal", "bihilär", "biapical" are "in both frontal lobes", "both lung bases" and so on.

Every example is invented for this file; controls: one side for a "bi-" region is still a side change.
"""

from __future__ import annotations

import pytest

from tests.guard.rule_rows import Row, assert_row

ROWS: list[Row] = [
    (
        "bifrontal-de-en",
        "MRT Schädel.\nEinzelne Marklagerläsionen bifrontal, am ehesten vaskulär. Keine Raumforderung.",
        "MRI of the head.\nA few white matter lesions in both frontal lobes, most likely vascular. No mass.",
        "translation",
        "de",
        "en",
        "ok",
    ),
    (
        "bibasal-en-de",
        "Chest X-ray.\nBibasal atelectasis. No pneumothorax.",
        "Röntgen Thorax.\nBeidseits basale Atelektasen. Kein Pneumothorax.",
        "translation",
        "en",
        "de",
        "ok",
    ),
    (
        "bihilar-de-simplification",
        "CT Thorax.\nBihiläre Lymphadenopathie, am ehesten Sarkoidose.\n"
        "Beurteilung: Bihiläre Lymphadenopathie.",
        "Die Lymphknoten an beiden Lungenwurzeln sind vergrößert, am ehesten durch eine Sarkoidose.",
        "simplification",
        "de",
        None,
        "ok",
    ),
    # Controls: one side only.
    (
        "control-bifrontal-de-en",
        "MRT Schädel.\nEinzelne Marklagerläsionen bifrontal, am ehesten vaskulär. Keine Raumforderung.",
        "MRI of the head.\nA few white matter lesions in the left frontal lobe, most likely vascular. "
        "No mass.",
        "translation",
        "de",
        "en",
        "side_changed",
    ),
    (
        "control-bibasal-en-de",
        "Chest X-ray.\nBibasal atelectasis. No pneumothorax.",
        "Röntgen Thorax.\nRechts basale Atelektasen. Kein Pneumothorax.",
        "translation",
        "en",
        "de",
        "side_changed",
    ),
]


@pytest.mark.parametrize("row", ROWS, ids=[r[0] for r in ROWS])
def test_bi_region_sides(row: Row) -> None:
    assert_row(row)
