"""An organ said normal on one side says nothing of a finding the output names without a side.

"Li. Lunge frei" beside a right lower lobe pneumonia: the output's "fluid in the lung" (no side) may be,
and is, the right one's. Every example is invented for this file; a control shows that a finding put on
the normal side is still caught.
"""

from __future__ import annotations

import pytest

from tests.guard.rule_rows import Row, assert_row

ROWS: list[Row] = [
    (
        "left-kidney-normal-en",
        "Right kidney: 8 mm calculus in the lower pole. Left kidney normal.",
        "There is a stone in the kidney, in its lower part. The left kidney is normal.",
        "simplification",
        "en",
        None,
        "ok",
    ),
    (
        "knee-de",
        "Knie rechts: Gelenkerguss. Knie links unauffällig.",
        "Im Knie ist Flüssigkeit (Erguss). Das linke Knie ist unauffällig.",
        "simplification",
        "de",
        None,
        "ok",
    ),
    (
        "hip-en",
        "Right hip: moderate osteoarthritis. Left hip normal.",
        "There is wear and tear (arthritis) in the hip joint. The left hip is normal.",
        "simplification",
        "en",
        None,
        "ok",
    ),
    (
        "left-lung-clear-de",
        "Infiltrat im rechten Unterlappen. Li. Lunge frei. Kein Erguss.",
        "In der rechten Lunge sind die Lungenbläschen mit Entzündungsflüssigkeit gefüllt. Die linke "
        "Lunge ist frei, kein Erguss.",
        "simplification",
        "de",
        None,
        "ok",
    ),
    (
        "lung-en",
        "Right lower lobe consolidation. Left lung clear.",
        "Part of the lower lung is filled with fluid (consolidation). The left lung is clear.",
        "simplification",
        "en",
        None,
        "ok",
    ),
    (
        "left-knee-normal-de",
        "Knie rechts: Meniskusriss medial. Knie links unauffällig.",
        "Am Knie ist der Innenmeniskus gerissen. Das linke Knie ist unauffällig.",
        "simplification",
        "de",
        None,
        "ok",
    ),
    (
        "both-sides-normal-control",
        "Hüftgelenke beidseits unauffällig.",
        "Am Hüftgelenk zeigt sich eine Zyste.",
        "summary",
        "de",
        None,
        "review",
    ),
    (
        "sided-normal-control",
        "Right kidney: 8 mm calculus. Left kidney normal.",
        "Right kidney: 8 mm calculus. Left kidney: calculus.",
        "correction",
        "en",
        None,
        "review",
    ),
]


@pytest.mark.parametrize("row", ROWS, ids=[r[0] for r in ROWS])
def test_sided_normal_rows(row: Row) -> None:
    assert_row(row)
