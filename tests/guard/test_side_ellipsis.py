"""A side alone after a clause of the other side restates that clause's findings for its own side.

"Mittelgradige Coxarthrose rechts, links allenfalls beginnend" says an early arthrosis on the left too,
so an output "links beginnende Arthrose" keeps a side of the source. A side alone that denies ("links
nicht", "none on the left") restates nothing; one that says normal ("links unauffällig") the organs of
that clause only. Every example is invented for this file; each class has a control that a real side
change is still caught.
"""

from __future__ import annotations

import pytest

from tests.guard.rule_rows import Row, assert_row

ROWS: list[Row] = [
    (
        "hip-de-summary",
        "Beurteilung: Ausgeprägte Coxarthrose rechts, links allenfalls beginnend. Keine Fraktur.",
        "Rechts ausgeprägte Coxarthrose, links allenfalls beginnende Arthrose. Keine Fraktur.",
        "summary",
        "de",
        None,
        "ok",
    ),
    (
        "effusion-de-simplification",
        "Pleuraerguss rechts, links ebenfalls, geringer. Keine Stauung.",
        "Auf der rechten Seite und auch links hat sich etwas Wasser neben der Lunge gesammelt.",
        "simplification",
        "de",
        None,
        "ok",
    ),
    (
        "knee-en-translation",
        "Moderate medial compartment osteoarthritis on the right, on the left only early.",
        "Mäßige Arthrose des medialen Kompartiments rechts, links nur beginnend.",
        "translation",
        "en",
        "de",
        "ok",
    ),
    (
        "varicocele-en-summary",
        "Impression: Varicocele on the left, possibly also on the right.",
        "Left varicocele; a right varicocele is possible.",
        "summary",
        "en",
        None,
        "ok",
    ),
    # a side with a normal statement speaks of the organs of the clause before it
    (
        "normal-kidney-de",
        "Zyste der rechten Niere, 12 mm, links unauffällig.",
        "In der rechten Niere ist eine 12 mm große Zyste, die linke Niere ist unauffällig.",
        "simplification",
        "de",
        None,
        "ok",
    ),
    (
        "normal-ovary-en",
        "Simple cyst of the right ovary, 25 mm, left normal.",
        "There is a simple 25 mm cyst on the right ovary. The left ovary is normal.",
        "simplification",
        "en",
        None,
        "ok",
    ),
    (
        "normal-knee-en-de",
        "Joint effusion in the right knee, left unremarkable.",
        "Gelenkerguss im rechten Knie, das linke Knie ist unauffällig.",
        "translation",
        "en",
        "de",
        "ok",
    ),
    (
        "normal-flip",
        "Zyste der rechten Niere, 12 mm, links unauffällig.",
        "In der linken Niere ist eine 12 mm große Zyste, die rechte Niere ist unauffällig.",
        "simplification",
        "de",
        None,
        "review",
    ),
    # controls: a side alone that denies restates nothing, and a flip of the sided clause is caught
    (
        "denied-other-side-de",
        "Beurteilung: Pleuraerguss rechts, links nicht.",
        "Pleuraerguss links.",
        "correction",
        "de",
        None,
        "side_changed",
    ),
    (
        "denied-other-side-en",
        "Impression: Effusion on the right, none on the left.",
        "Impression: Effusion on the left.",
        "correction",
        "en",
        None,
        "review",
    ),
    (
        "flip-without-ellipsis-de",
        "Beurteilung: Ausgeprägte Coxarthrose rechts. Keine Fraktur.",
        "Links ausgeprägte Coxarthrose. Keine Fraktur.",
        "summary",
        "de",
        None,
        "side_changed",
    ),
]


@pytest.mark.parametrize("row", ROWS, ids=[r[0] for r in ROWS])
def test_side_ellipsis(row: Row) -> None:
    assert_row(row)
