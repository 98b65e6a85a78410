"""A generic finding ("lesion", "spot", "Herd") hedged only in what it is, not in whether it is there
("indeterminate 9 mm lesion", "too small to characterise", "unklare Läsion", "nicht weiter
charakterisierbar"), is there: an output saying "a 9 mm spot, too small to tell what it is" or just "lesion"
keeps it. A specific finding said of it ("hepatocellular carcinoma") is still compared with the hedge, and so
is a hedge on its existence ("possible lesion"): a certain malignancy where the source leaves its lesion open
is a hedge made definite. Every example is invented for this file.
"""

from __future__ import annotations

import pytest

from tests.guard.rule_rows import Row, assert_row

ROWS: list[Row] = [
    (
        "nature-en-spot",
        "Indeterminate 9 mm lesion in liver segment VII.",
        "There is a 9 mm spot in the liver that is too small to tell what it is.",
        "simplification",
        "en",
        None,
        "ok",
    ),
    (
        "nature-en-summary",
        "Indeterminate 1.2 cm left adrenal lesion, too small to characterise.",
        "1.2 cm left adrenal lesion.",
        "summary",
        "en",
        None,
        "ok",
    ),
    (
        "nature-de-herd",
        "Unklare 8 mm große Läsion im Pankreasschwanz.",
        "Im Schwanz der Bauchspeicheldrüse gibt es einen 8 mm großen Herd.",
        "simplification",
        "de",
        None,
        "ok",
    ),
    (
        "nature-de-summary",
        "Nicht weiter charakterisierbare 6 mm Läsion der rechten Niere.",
        "6 mm Läsion der rechten Niere.",
        "summary",
        "de",
        None,
        "ok",
    ),
    (
        "nature-en-specific",
        "Indeterminate 9 mm lesion in liver segment VII.",
        "A 9 mm hepatocellular carcinoma in liver segment VII.",
        "summary",
        "en",
        None,
        "certainty_changed",
    ),
    (
        "nature-de-specific",
        "Unklare 8 mm große Läsion im Pankreasschwanz.",
        "8 mm Karzinom im Pankreasschwanz.",
        "summary",
        "de",
        None,
        "certainty_changed",
    ),
    (
        "nature-en-existence",
        "Possible 5 mm lesion in the liver.",
        "A 5 mm lesion in the liver.",
        "summary",
        "en",
        None,
        "certainty_changed",
    ),
    # A certain malignancy where the source leaves its lesion open.
    (
        "generic-lesion-en",
        "A 3 cm lesion in the liver, indeterminate.",
        "A 3 cm liver carcinoma.",
        "summary",
        "en",
        None,
        "certainty_changed",
    ),
    (
        "generic-lesion-de",
        "Läsion der Leber von 2 cm, unklar.",
        "Leberkrebs, 2 cm.",
        "summary",
        "de",
        None,
        "certainty_changed",
    ),
    (
        "generic-lesion-control",
        "A 3 cm lesion in the liver, indeterminate.",
        "A 3 cm liver lesion of unclear nature.",
        "summary",
        "en",
        None,
        "ok",
    ),
]


@pytest.mark.parametrize("row", ROWS, ids=[r[0] for r in ROWS])
def test_nature_hedge_rows(row: Row) -> None:
    assert_row(row)
