"""A finding called known ("14 vorbekannte Läsionen, unverändert", "the known granuloma", "bekannte
Fraktur") was seen before, which says nothing of whether it is there now: such a statement agrees with
one saying it is there and with one saying it is old. Every example is invented for this file; controls
show that an old finding made present or fresh is still caught.
"""

from __future__ import annotations

import pytest

from tests.guard.rule_rows import Row, assert_row

ROWS: list[Row] = [
    (
        "known-de-lesions",
        "Befund: 12 T2-hyperintense Marklagerläsionen, im Vergleich unverändert.",
        "12 vorbekannte Marklagerläsionen, unverändert.",
        "summary",
        "de",
        None,
        "ok",
    ),
    (
        "known-en-nodule",
        "Old granuloma in the right lower lobe, unchanged.",
        "The known granuloma in the right lower lobe is unchanged.",
        "summary",
        "en",
        None,
        "ok",
    ),
    (
        "known-en-fracture",
        "Old healed fracture of the left 7th rib.",
        "Known fracture of the left 7th rib.",
        "summary",
        "en",
        None,
        "ok",
    ),
    (
        "known-de-fracture",
        "Alte Fraktur der 7. Rippe links.",
        "Bekannte Fraktur der 7. Rippe links.",
        "summary",
        "de",
        None,
        "ok",
    ),
    (
        "known-en-control",
        "Old healed fracture of the left 7th rib.",
        "Fracture of the left 7th rib.",
        "summary",
        "en",
        None,
        "certainty_changed",
    ),
    (
        "known-de-control",
        "Alte Fraktur der 7. Rippe links.",
        "Frische Fraktur der 7. Rippe links.",
        "summary",
        "de",
        None,
        "review",
    ),
]


@pytest.mark.parametrize("row", ROWS, ids=[r[0] for r in ROWS])
def test_known_finding_rows(row: Row) -> None:
    assert_row(row)
