"""A lay word for a split ("Riss", "tear") at a bone names a fracture: with a fracture in the source it
is no new finding ("ein feiner Riss im Kreuzbein" for "Fissur der Massa lateralis des Os sacrum").

Every example is invented for this file; controls: a tear of a tendon or ligament beside the bone, or
with no fracture in the source, is still a new finding.
"""

from __future__ import annotations

import pytest

from tests.guard.rule_rows import Row, assert_row

ROWS: list[Row] = [
    (
        "sacrum-de",
        "Nicht dislozierte Fissur der Massa lateralis des Os sacrum rechts. Keine weiteren Frakturen.",
        "Im Kreuzbein rechts ist ein feiner Riss zu sehen. Die Knochen sind sonst nicht gebrochen.",
        "simplification",
        "de",
        None,
        "ok",
    ),
    (
        "rib-en",
        "Undisplaced fracture of the left 7th rib laterally. No pneumothorax.",
        "There is a small tear in one of the ribs on the left (the seventh). "
        "There is no air outside the lung.",
        "simplification",
        "en",
        None,
        "ok",
    ),
    (
        "tibia-de",
        "Haarfeine Fraktur der proximalen Tibia links. Kein Gelenkerguss.",
        "Im linken Schienbein gibt es einen haarfeinen Riss. Im Kniegelenk ist keine Flüssigkeit.",
        "simplification",
        "de",
        None,
        "ok",
    ),
    # controls: a tear at soft tissue, or at a bone without a fracture in the source, is new
    (
        "tendon-tear-de",
        "Nicht dislozierte Fraktur des Tuberculum majus rechts. Kein Erguss.",
        "Am rechten Oberarmknochen ist ein kleiner Bruch. Zusätzlich ist die Supraspinatussehne gerissen.",
        "simplification",
        "de",
        None,
        "new_finding",
    ),
    (
        "no-fracture-en",
        "No fracture of the ribs. Lungs clear.",
        "There is a small tear in one of the ribs. The lungs are clear.",
        "simplification",
        "en",
        None,
        "review",
    ),
]


@pytest.mark.parametrize("row", ROWS, ids=[r[0] for r in ROWS])
def test_lay_fracture_word(row: Row) -> None:
    assert_row(row)
