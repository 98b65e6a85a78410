"""Direction words in other forms are the same directions: inside German compounds ("Außen|meniskus",
"Deck|platte"), inflected adjectives, endplates and poles, lay words ("upper", "lower"); statements are
aligned by their anchors, so a kept direction is not read as a change. A swapped direction is still a
direction change.

Every example is invented for the guard's tests; each kept form has a flipped control.
"""

from __future__ import annotations

import pytest

from tests.guard.rule_rows import CheckedRow, Row, assert_checked_row, assert_row

ROWS: list[Row] = [
    # Directions inside German compounds ("Außen|meniskus", "Deck|platte").
    (
        "compound-direction-swapped",
        "Radial tear of the posterior horn of the medial meniscus.",
        "Radiärriss des Hinterhorns des Außenmeniskus.",
        "translation",
        "en",
        "de",
        "direction_changed",
    ),
    (
        "compound-direction-kept",
        "Radial tear of the posterior horn of the medial meniscus.",
        "Radiärriss des Hinterhorns des Innenmeniskus.",
        "translation",
        "en",
        "de",
        "ok",
    ),
    (
        "endplate-lay-swapped",
        "Frische Deckplattenimpressionsfraktur von BWK 12.",
        "Der 12. Brustwirbel ist frisch gebrochen: seine untere Platte ist eingedrückt.",
        "simplification",
        "de",
        None,
        "direction_changed",
    ),
    (
        "endplate-lay-kept",
        "Frische Deckplattenimpressionsfraktur von BWK 12.",
        "Der 12. Brustwirbel ist frisch gebrochen: seine obere Platte ist eingedrückt.",
        "simplification",
        "de",
        None,
        "ok",
    ),
]


@pytest.mark.parametrize("row", ROWS, ids=[r[0] for r in ROWS])
def test_direction_word_rows(row: Row) -> None:
    assert_row(row)


CHECKED: list[CheckedRow] = [
    (
        "inflected-kept",
        "12 mm lesion in the posterior frontal lobe.",
        "12 mm große Läsion im posterioren Frontallappen.",
        "translation",
        "en",
        "de",
        "laterality",
        "ok",
    ),
    (
        "endplate-kept",
        "Compression of the inferior endplate of L2, 20 %.",
        "Impression der kaudalen Grundplatte von LWK 2, 20 %.",
        "translation",
        "en",
        "de",
        "laterality",
        "ok",
    ),
    (
        "pole-kept",
        "Cyst 25 mm at the upper pole of the left kidney.",
        "Zyste 25 mm am oberen Pol der linken Niere.",
        "translation",
        "en",
        "de",
        "laterality",
        "ok",
    ),
    (
        "lay-kept",
        "Asymmetry in the lower outer quadrant of the right breast, 8 mm.",
        "An 8 mm area in the lower outer part of your right breast looks different.",
        "simplification",
        "en",
        None,
        "laterality",
        "ok",
    ),
    # negative controls
    (
        "inflected-flipped",
        "12 mm lesion in the posterior frontal lobe.",
        "12 mm große Läsion im anterioren Frontallappen.",
        "translation",
        "en",
        "de",
        "laterality",
        "direction_changed",
    ),
    (
        "endplate-flipped",
        "Impression der kranialen Deckplatte von BWK 7, 15 %.",
        "Compression of the caudal endplate of T7, 15 %.",
        "translation",
        "de",
        "en",
        "laterality",
        "direction_changed",
    ),
    (
        "pole-flipped",
        "Cyst 25 mm at the upper pole of the left kidney.",
        "Zyste 25 mm am unteren Pol der linken Niere.",
        "translation",
        "en",
        "de",
        "laterality",
        "direction_changed",
    ),
    (
        "lay-flipped",
        "Asymmetry in the lower outer quadrant of the right breast, 8 mm.",
        "An 8 mm area in the upper outer part of your right breast looks different.",
        "simplification",
        "en",
        None,
        "laterality",
        "direction_changed",
    ),
]


@pytest.mark.parametrize("row", CHECKED, ids=[r[0] for r in CHECKED])
def test_direction_word_checked_rows(row: CheckedRow) -> None:
    assert_checked_row(row)
