"""A summary that gives one finding's measurement to another finding changes a number.

Values are compared as sets in a summary, so "19 mm" matches the source's adrenal 19 mm; but where the
output's value names a finding the source measures with a value the output lost ("new 9 mm liver
lesion" -> "new 19 mm lesion"), and the source never gives that value to that finding, it is a change.
Every example is invented for this file; controls show that values kept at their findings pass.
"""

from __future__ import annotations

import pytest

from tests.guard.rule_rows import Row, assert_row

ROWS: list[Row] = [
    (
        "moved-en",
        "Right adrenal metastasis 19 mm. New 9 mm lesion in segment VI of the liver.",
        "Adrenal metastasis 19 mm; new 19 mm lesion in liver segment VI.",
        "summary",
        "en",
        None,
        "review",
    ),
    (
        "moved-de",
        "Nierenzyste links 25 mm. Neuer Rundherd im Unterlappen rechts, 5 mm.",
        "Nierenzyste links 25 mm; neuer Rundherd im rechten Unterlappen, 25 mm.",
        "summary",
        "de",
        None,
        "review",
    ),
    (
        "moved-de2",
        "Nierenzyste links 25 mm. Neue Leberläsion 5 mm.",
        "Nierenzyste links 25 mm; neue Leberläsion 25 mm.",
        "summary",
        "de",
        None,
        "review",
    ),
    (
        "moved-en3",
        "Renal cyst 30 mm. Small lung nodule 3 mm.",
        "Renal cyst 30 mm and a small lung nodule of 30 mm.",
        "summary",
        "en",
        None,
        "review",
    ),
    (
        "moved-control-ok",
        "Right adrenal metastasis 19 mm. New 9 mm lesion in segment VI of the liver.",
        "Adrenal metastasis 19 mm; new 9 mm liver lesion in segment VI.",
        "summary",
        "en",
        None,
        "ok",
    ),
    (
        "moved-control-ok2",
        "Lesion in segment VI 19 mm. Second lesion in segment II 9 mm.",
        "Two liver lesions, 19 mm and 9 mm.",
        "summary",
        "en",
        None,
        "ok",
    ),
]


@pytest.mark.parametrize("row", ROWS, ids=[r[0] for r in ROWS])
def test_moved_values_rows(row: Row) -> None:
    assert_row(row)
