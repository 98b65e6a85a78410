"""A statement belongs to the spinal level its words give; where a clause names none, it speaks of the
level of the clause before it in its sentence ("Mild L4-L5 degeneration | with mild left foraminal
narrowing") or of the level label its line opens with ("L4-L5: disc bulge. Mild left foraminal
narrowing."). Sides are then compared only with source statements that may be about the same level: a
left narrowing at L4-L5 is not the bilateral narrowing at L5-S1.

Every example is invented for this file; controls: a side changed at the same level is still caught.
"""

from __future__ import annotations

import pytest

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
