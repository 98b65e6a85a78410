"""A translation keeps the order of sentences: its statement translates the source statement at its place.

Where the source says the output's level of the finding in the very sentence the output translates, and
the statement the concept alignment found (through a shared organ, "AC joint intact") stands elsewhere,
there is nothing to flag. Every example is invented for this file; a control shows that a flip at that
place is still caught.
"""

from __future__ import annotations

import pytest

from tests.guard.rule_rows import Row, assert_row

ROWS: list[Row] = [
    (
        "tr-bankart",
        "Small bony fragment at the glenoid rim, c/w bony Bankart lesion. No other fracture. AC joint "
        "intact.",
        "Kleines knöchernes Fragment am Glenoidrand, vereinbar mit einer knöchernen Bankart-Läsion. "
        "Keine weitere Fraktur. AC-Gelenk intakt.",
        "translation",
        "en",
        "de",
        "ok",
    ),
    (
        "tr-a",
        "Bony fragment at the anteroinferior glenoid rim, consistent with a Bankart lesion. "
        "Acromioclavicular joint normal.",
        "Knöchernes Fragment am anteroinferioren Glenoidrand, vereinbar mit einer Bankart-Läsion. "
        "AC-Gelenk unauffällig.",
        "translation",
        "en",
        "de",
        "ok",
    ),
    (
        "tr-b",
        "Anterior dislocation. Fragment at the anteroinferior glenoid rim, in keeping with a bony "
        "Bankart lesion. AC joint congruent and intact.",
        "Vordere Luxation. Fragment am anteroinferioren Glenoidrand, passend zu einer knöchernen "
        "Bankart-Läsion. AC-Gelenk kongruent und intakt.",
        "translation",
        "en",
        "de",
        "ok",
    ),
    (
        "tr-c",
        "Labral tear with a bony Bankart lesion at the anteroinferior glenoid rim. Shoulder joint "
        "otherwise unremarkable. AC joint intact.",
        "Labrumriss mit knöcherner Bankart-Läsion am anteroinferioren Glenoidrand. AC-Gelenk intakt.",
        "translation",
        "en",
        "de",
        "ok",
    ),
    (
        "tr-flip-control",
        "Small bony fragment at the glenoid rim. No Bankart lesion. AC joint intact.",
        "Kleines knöchernes Fragment am Glenoidrand. Bankart-Läsion. AC-Gelenk intakt.",
        "translation",
        "en",
        "de",
        "review",
    ),
]


@pytest.mark.parametrize("row", ROWS, ids=[r[0] for r in ROWS])
def test_translation_order_rows(row: Row) -> None:
    assert_row(row)
