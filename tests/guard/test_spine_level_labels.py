"""A statement belongs to the spinal level its words give; where a clause names none, it speaks of the level
of the clause before it in its sentence ("Mild L4-L5 degeneration | with mild left foraminal narrowing") or of
the level label its line opens with ("L4-L5: disc bulge. Mild left foraminal narrowing."). Sides are then
compared only with source statements that may be about the same level: a left narrowing at L4-L5 is not the
bilateral narrowing at L5-S1. Levels are read from "LWK 4/5" or "between L5 and S1"; an MRI sequence ("T2") is
no level.

Every example is invented for this file; controls: a side changed at the same level is still caught.
"""

from __future__ import annotations

import pytest

from medvault.guard._text import Analysis
from tests.guard.rule_rows import Row, assert_row

_SRC_EN = (
    "MRI lumbar spine.\nL4-L5: disc degeneration and bulge. Mild left foraminal narrowing.\n"
    "L5-S1: left paracentral extrusion. Mild bilateral foraminal narrowing.\n"
    "Impression: Left L5-S1 extrusion."
)
_SRC_DE = (
    "MRT LWS.\nLWK 3/4: Protrusion. Leichte Neuroforamenstenose rechts.\n"
    "LWK 4/5: Bandscheibenvorfall links. Geringe Neuroforamenstenose beidseits.\n"
    "Beurteilung: Bandscheibenvorfall LWK 4/5 links."
)
_SRC_C = (
    "MRI cervical spine.\nC4-C5: uncovertebral hypertrophy. Mild right foraminal narrowing.\n"
    "C5-C6: disc osteophyte complex. Mild bilateral foraminal narrowing.\n"
    "Impression: Spondylosis, worst at C5-C6."
)

ROWS: list[Row] = [
    (
        "level-by-label-and-sentence-en",
        _SRC_EN,
        "Left L5-S1 extrusion. Mild L4-L5 degeneration with mild left foraminal narrowing.",
        "summary",
        "en",
        None,
        "ok",
    ),
    (
        "level-by-label-and-sentence-de",
        _SRC_DE,
        "Bandscheibenvorfall LWK 4/5 links. Protrusion LWK 3/4 mit leichter Neuroforamenstenose rechts.",
        "summary",
        "de",
        None,
        "ok",
    ),
    (
        "level-by-label-and-sentence-cervical-en",
        _SRC_C,
        "Spondylosis, worst at C5-C6. C4-C5 hypertrophy with mild right foraminal narrowing.",
        "summary",
        "en",
        None,
        "ok",
    ),
    # Controls: the side of the narrowing changed at its own level.
    (
        "control-en",
        _SRC_EN,
        "Left L5-S1 extrusion. Mild L4-L5 degeneration with mild right foraminal narrowing.",
        "summary",
        "en",
        None,
        "side_changed",
    ),
    (
        "control-de",
        _SRC_DE,
        "Bandscheibenvorfall LWK 4/5 links. Protrusion LWK 3/4 mit leichter Neuroforamenstenose links.",
        "summary",
        "de",
        None,
        "side_changed",
    ),
    (
        "control-cervical-en",
        _SRC_C,
        "Spondylosis, worst at C5-C6. C4-C5 hypertrophy with mild left foraminal narrowing.",
        "summary",
        "en",
        None,
        "side_changed",
    ),
]


@pytest.mark.parametrize("row", ROWS, ids=[r[0] for r in ROWS])
def test_spine_level_labels(row: Row) -> None:
    assert_row(row)


@pytest.mark.parametrize(
    ("text", "lang", "levels"),
    [
        ("LWK 4/5: Protrusion.", "de", {"l4/l5"}),
        ("LWK 5/SWK 1: Vorfall.", "de", {"l5/s1"}),
        ("C5-C6 and Th12, HWK 5/6.", "de", {"c5/c6", "t12"}),
        ("T2 hyperintense lesion at T11.", "en", {"t11"}),
        ("Zwischen L5 und S1 wölbt sich die Bandscheibe vor.", "de", {"l5/s1"}),
        ("Between C6 and C7 the disc bulges.", "en", {"c6/c7"}),
    ],
)
def test_spine_levels(text: str, lang: str, levels: set[str]) -> None:
    """Spinal levels of the first sentence; MRI sequences ("T2") are no level."""
    assert Analysis(text, lang).spine_levels[0] == levels
