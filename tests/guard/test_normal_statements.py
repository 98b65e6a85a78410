"""An organ said to be normal denies findings of that organ only.

"Iliosakralgelenke unauffällig" says nothing of a cyst in the hip joint, though both are joints; "Other
bones intact" says nothing of the bone the report is about. Where the output names the same organ (or
the "other" ones), the normal statement still counts as a denial. Every example is invented for this
file; controls show that a finding invented for a normal organ is still caught.
"""

from __future__ import annotations

import pytest

from tests.guard.rule_rows import Row, assert_row

ROWS: list[Row] = [
    (
        "other-bones-en",
        "Transverse fracture of the fifth metatarsal. Other bones intact.",
        "A break in the fifth metatarsal; a crack runs across the bone in exactly this spot.",
        "simplification",
        "en",
        None,
        "ok",
    ),
    (
        "other-bones-de",
        "Fraktur des Os scaphoideum. Übrige Knochen intakt.",
        "Das Kahnbein ist gebrochen, die Bruchlinie zieht quer durch den Knochen.",
        "simplification",
        "de",
        None,
        "ok",
    ),
    (
        "sacroiliac-vs-hip-de",
        "Geröllzyste im Azetabulum rechts. Iliosakralgelenke beidseits unauffällig.",
        "Rechts kleine Zyste im Hüftgelenk.",
        "summary",
        "de",
        None,
        "ok",
    ),
    (
        "sacroiliac-vs-hip-en",
        "Small cyst in the right hip joint. Sacroiliac joints normal on both sides.",
        "There is a small cyst in the right hip joint.",
        "summary",
        "en",
        None,
        "ok",
    ),
    # Controls: a finding stated for the organ said to be normal, or for the "other" bones.
    (
        "other-bones-flip-de",
        "Fraktur des Os scaphoideum. Übrige Knochen intakt.",
        "Kahnbein gebrochen, außerdem sind andere Knochen gebrochen.",
        "simplification",
        "de",
        None,
        "negation_changed",
    ),
    (
        "sacroiliac-flip-de",
        "Iliosakralgelenke beidseits unauffällig.",
        "An den Iliosakralgelenken zeigt sich eine Zyste.",
        "summary",
        "de",
        None,
        "negation_changed",
    ),
]


@pytest.mark.parametrize("row", ROWS, ids=[r[0] for r in ROWS])
def test_normal_statement_rows(row: Row) -> None:
    assert_row(row)
