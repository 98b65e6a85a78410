"""Which source statement an output clause is compared with: the most alike in anchors, and among near
ties (within 5 %) the one that states everything the output clause states. Two carotid or kidney
statements of a report are much alike in words; the finding only one of them has ("calcified plaque",
"stone") tells which one the output restates, so a side moved to the other one is a side change.

Every example is invented for this file; controls: the same clauses with the faithful side are not
flagged.
"""

from __future__ import annotations

import pytest

from tests.guard.rule_rows import Row, assert_row

_CAROTID = (
    "Carotid duplex.\nRight internal carotid artery with a calcified plaque, peak velocity 240 cm/s, "
    "consistent with 70-79% stenosis. Left internal carotid artery with minor plaque, velocity 95 cm/s, "
    "less than 50% stenosis.\nImpression: 70-79% right ICA stenosis."
)
_KIDNEYS = (
    "Sonographie Nieren.\nRechte Niere 11 cm, Parenchym regelrecht, 6 mm Konkrement im Unterpol. Linke Niere "
    "11 cm, Parenchym regelrecht, kein Konkrement.\nBeurteilung: Nephrolithiasis rechts."
)

ROWS: list[Row] = [
    (
        "calcified-plaque-moved-en",
        _CAROTID,
        "In the left neck artery there is a hard, calcified plaque. The right one is narrowed by 70-79%.",
        "simplification",
        "en",
        "en",
        "side_changed",
    ),
    (
        "stone-moved-de",
        _KIDNEYS,
        "Die linke Niere ist 11 cm groß, mit normalem Gewebe und einem 6 mm Stein im unteren Teil.",
        "simplification",
        "de",
        "de",
        "review",
    ),
    (
        "calcified-plaque-moved-summary",
        _CAROTID,
        "Calcified plaque of the left ICA; 70-79% right ICA stenosis.",
        "summary",
        "en",
        None,
        "review",
    ),
    # Controls: the faithful sides.
    (
        "control-calcified-plaque-right",
        _CAROTID,
        "In the right neck artery there is a hard, calcified plaque. It is narrowed by 70-79%.",
        "simplification",
        "en",
        "en",
        "ok",
    ),
    (
        "control-stone-right",
        _KIDNEYS,
        "Die rechte Niere ist 11 cm groß, mit normalem Gewebe und einem 6 mm Stein im unteren Teil.",
        "simplification",
        "de",
        "de",
        "ok",
    ),
]


@pytest.mark.parametrize("row", ROWS, ids=[r[0] for r in ROWS])
def test_clause_alignment(row: Row) -> None:
    assert_row(row)
