"""A numbered liver segment names its side (Couinaud: II-IV left lobe, V-VIII right lobe, I neither): an
output that says "right part of the liver" for "segment VI" is faithful, one that says "left" is not.
Only where the sentence (or its heading) names the liver: a lung segment has no such side.

Every example is invented for this file; controls: a segment given the other lobe's side is a side change.
"""

from __future__ import annotations

import pytest

from medvault.guard._sides import _side_words
from medvault.guard._text import Analysis
from tests.guard.rule_rows import Row, assert_row


@pytest.mark.parametrize(
    ("text", "lang", "sides"),
    [
        ("Liver: 9 mm cyst in segment VII.", "en", [("segment VII", "right")]),
        ("Hypodense lesion of the liver in segment eight.", "en", [("segment eight", "right")]),
        ("Leberläsion in Segment IVa, 12 mm.", "de", [("Segment IVa", "left")]),
        ("Zyste im Lebersegment 3.", "de", [("segment 3", "left")]),
        ("Lung: 4 mm nodule in segment 6.", "en", []),
        ("Liver: caudate lobe (segment I) enlarged.", "en", []),
    ],
)
def test_segment_side(text: str, lang: str, sides: list[tuple[str, str]]) -> None:
    doc = Analysis(text, lang)
    assert [(text[sm.start : sm.end], side) for sm in _side_words(doc) for side in sm.sides] == sides


ROWS: list[Row] = [
    (
        "segment-vi-lay-right",
        "CT abdomen.\nLiver: 14 mm arterially enhancing lesion in segment VI with washout, LI-RADS 5.",
        "There is a 14 mm spot in the right part of your liver (segment VI) that looks like a liver cancer.",
        "simplification",
        "en",
        "en",
        "ok",
    ),
    (
        "segment-iii-translation-left",
        "MRT Leber.\n8 mm Hämangiom der Leber in Segment III.",
        "MRI liver.\n8 mm haemangioma of the left lobe of the liver in segment III.",
        "translation",
        "de",
        "en",
        "ok",
    ),
    (
        "segment-vii-summary-right",
        "CT. Liver: two metastases, 12 mm in segment VII and 9 mm in segment VIII. Spleen normal.",
        "Two right-lobe liver metastases (12 mm, 9 mm).",
        "summary",
        "en",
        None,
        "ok",
    ),
    # Controls: the other lobe is a side change.
    (
        "control-segment-vi-left",
        "CT abdomen.\nLiver: 14 mm arterially enhancing lesion in segment VI with washout, LI-RADS 5.",
        "There is a 14 mm spot in the left part of your liver that looks like a liver cancer.",
        "simplification",
        "en",
        "en",
        "side_changed",
    ),
    (
        "control-segment-ii-right",
        "MRT Leber.\n8 mm Hämangiom der Leber in Segment II.",
        "MRI liver.\n8 mm haemangioma of the right lobe of the liver.",
        "translation",
        "de",
        "en",
        "side_changed",
    ),
]


@pytest.mark.parametrize("row", ROWS, ids=[r[0] for r in ROWS])
def test_segment_sides_in_pairs(row: Row) -> None:
    assert_row(row)
