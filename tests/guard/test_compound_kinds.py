"""A German compound whose first part the vocabulary does not know names a narrower kind of its finding
("Korbhenkel|riss", "Mantel|pneumothorax"): the output's statement of that kind is compared with what
the source says of the same kind, not with a plain statement of the finding. "Komplexer Riss, V. a.
Korbhenkelriss" made "Korbhenkelriss" is a suspicion made definite, though the plain tear is there.
Every example is invented for this file; controls show that keeping the kind's level is no flag.
"""

from __future__ import annotations

import pytest

from tests.guard.rule_rows import Row, assert_row

ROWS: list[Row] = [
    (
        "bucket-handle-de",
        "V. a. Korbhenkelriss des Innenmeniskus links, komplexer Riss im Hinterhorn.",
        "Korbhenkelriss des Innenmeniskus links mit komplexem Riss im Hinterhorn.",
        "summary",
        "de",
        None,
        "certainty_changed",
    ),
    (
        "segment-stenosis-de",
        "Sichere Lappenbronchusstenose links, V. a. Segmentstenose rechts.",
        "Lappenbronchusstenose links, Segmentstenose rechts.",
        "summary",
        "de",
        None,
        "certainty_changed",
    ),
    (
        "mantle-pneumothorax-de",
        "Fraglicher Mantelpneumothorax rechts, kein Spannungspneumothorax.",
        "Mantelpneumothorax rechts, kein Spannungspneumothorax.",
        "summary",
        "de",
        None,
        "certainty_changed",
    ),
    # Controls: the kind keeps its level, whatever the plain finding's.
    (
        "bucket-handle-kept-de",
        "Komplexer Riss im Hinterhorn des Innenmeniskus, V. a. Korbhenkelriss.",
        "Komplexer Riss im Hinterhorn des Innenmeniskus, Verdacht auf Korbhenkelriss.",
        "summary",
        "de",
        None,
        "ok",
    ),
    (
        "tension-kept-de",
        "Kein Spannungspneumothorax. Kleiner Mantelpneumothorax rechts.",
        "Kleiner Mantelpneumothorax rechts, kein Spannungspneumothorax.",
        "summary",
        "de",
        None,
        "ok",
    ),
    (
        "flap-tear-kept-de",
        "Randständiger Riss, V. a. Lappenriss des Außenmeniskus.",
        "Randständiger Riss und wahrscheinlich ein Lappenriss des Außenmeniskus.",
        "summary",
        "de",
        None,
        "ok",
    ),
]


@pytest.mark.parametrize("row", ROWS, ids=[r[0] for r in ROWS])
def test_compound_kind_rows(row: Row) -> None:
    assert_row(row)
