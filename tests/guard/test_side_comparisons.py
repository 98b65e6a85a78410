"""A comparison of the two sides ("rechts mehr als links", "worse on the left than the right") keeps its
dominant and its lesser side. An output that names both ends is held to the source's comparisons that do
too: "right more than right" does not agree with "rechts mehr als links" because the source also says
"rechts betont".

Every example is invented for this file; controls: a comparison with one end only agrees with any of the
source's that share the dominant side.
"""

from __future__ import annotations

import pytest

from tests.guard.rule_rows import Row, assert_row

ROWS: list[Row] = [
    (
        "lesser-side-changed-de-en",
        "Röntgen Thorax.\nPleuraergüsse beidseits, rechts mehr als links.\nBeurteilung: Pleuraergüsse, "
        "rechts betont.",
        "Chest X-ray.\nBilateral pleural effusions, right more than right.\nImpression: pleural effusions, "
        "right-predominant.",
        "translation",
        "de",
        "en",
        "comparison_changed",
    ),
    (
        "lesser-side-changed-en-de",
        "Knee XR.\nOsteoarthritis of both knees, left worse than right. Impression: left-predominant OA.",
        "Röntgen Knie.\nGonarthrose beidseits, links stärker als links. Beurteilung: linksbetonte Arthrose.",
        "translation",
        "en",
        "de",
        "comparison_changed",
    ),
    (
        "dominant-side-changed-en",
        "CT chest.\nBilateral ground-glass opacities, more on the right than the left.",
        "CT chest.\nBilateral ground-glass opacities, more on the left than the right.",
        "correction",
        "en",
        None,
        "review",
    ),
    # Controls: one end only, or both ends as in the source.
    (
        "control-one-end",
        "Röntgen Thorax.\nPleuraergüsse beidseits, rechts mehr als links.",
        "Beidseitige Pleuraergüsse, rechts betont.",
        "summary",
        "de",
        None,
        "ok",
    ),
    (
        "control-both-ends-kept",
        "Röntgen Thorax.\nPleuraergüsse beidseits, rechts mehr als links.\nBeurteilung: Pleuraergüsse, "
        "rechts betont.",
        "Chest X-ray.\nBilateral pleural effusions, right more than left.\nImpression: pleural effusions, "
        "right-predominant.",
        "translation",
        "de",
        "en",
        "ok",
    ),
]


@pytest.mark.parametrize("row", ROWS, ids=[r[0] for r in ROWS])
def test_side_comparisons(row: Row) -> None:
    assert_row(row)
