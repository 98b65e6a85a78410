"""A measurement anchors a side only where it measures something of its own: a size is anchored by its
first dimension (the "1.5" of "4.6 x 1.5 x 1.4 cm" is no measurement said again elsewhere), and a
threshold ("1.5 cm or larger", "≥ 10 mm", "mindestens 1 cm") is a criterion, not a finding's size.

Every example is invented for this file; controls: a side changed on a measured finding is still caught.
"""

from __future__ import annotations

import pytest

from tests.guard.rule_rows import Row, assert_row

_THYROID = (
    "Thyroid ultrasound.\nRight lobe: 5.0 x 1.8 x 1.6 cm. Left lobe: 4.4 x 1.5 x 1.3 cm.\n"
    "Right lobe nodule, 1.7 cm, solid, TR4.\nLeft lobe nodule, 0.5 cm, spongiform, TR1.\n"
    "Impression: Right TR4 nodule of 1.7 cm; meets FNA criteria (TR4, 1.5 cm or larger)."
)
_NIERE = (
    "Sonographie Nieren.\nRechte Niere 11,2 x 2,0 x 5,1 cm. Linke Niere 10,8 x 5,0 x 4,9 cm.\n"
    "Zyste der linken Niere, 2,1 cm, Bosniak I.\n"
    "Beurteilung: Bosniak-I-Zyste links; Kontrolle erst ab einer Größe von 5,0 cm oder mehr."
)
_LIVER = (
    "CT abdomen.\nLeft adrenal adenoma, 1 cm.\nRight adrenal nodule, 2.2 cm, indeterminate.\n"
    "Impression: Right adrenal nodule; adrenal protocol CT advised for nodules of at least 1 cm."
)

ROWS: list[Row] = [
    (
        "threshold-vs-size-dimension-en",
        _THYROID,
        "The larger lump is on the right side and is 1.7 cm. Because the right-sided nodule is 1.5 cm or "
        "larger, a small needle sample is advised. The small left nodule, 0.5 cm, looks harmless.",
        "simplification",
        "en",
        None,
        "ok",
    ),
    (
        "threshold-vs-size-dimension-de",
        _NIERE,
        "Harmlose Zyste der linken Niere (2,1 cm). Kontrolle erst nötig, wenn die Zyste links 5,0 cm "
        "oder mehr misst.",
        "summary",
        "de",
        None,
        "ok",
    ),
    (
        "at-least-threshold-en",
        _LIVER,
        "Right adrenal nodule of 2.2 cm; as the right nodule is at least 1 cm, an adrenal CT is advised. "
        "Small left adrenal adenoma (1 cm).",
        "summary",
        "en",
        None,
        "ok",
    ),
    # Controls: the measured finding moved to the other side.
    (
        "control-en",
        _THYROID,
        "The larger lump is on the left side and is 1.7 cm. Because it is 1.5 cm or larger, a small "
        "needle sample is advised. The small left nodule looks harmless.",
        "simplification",
        "en",
        None,
        "side_changed",
    ),
    (
        "control-de",
        _NIERE,
        "Harmlose Zyste der rechten Niere (2,1 cm). Eine Kontrolle ist erst ab 5,0 cm oder mehr nötig.",
        "summary",
        "de",
        None,
        "side_changed",
    ),
    (
        "control-size-first-dimension-de",
        _NIERE,
        "Linke Niere 11,2 cm lang. Bosniak-I-Zyste links (2,1 cm); Kontrolle erst ab 5,0 cm oder mehr.",
        "summary",
        "de",
        None,
        "side_changed",
    ),
]


@pytest.mark.parametrize("row", ROWS, ids=[r[0] for r in ROWS])
def test_measure_anchors(row: Row) -> None:
    assert_row(row)
