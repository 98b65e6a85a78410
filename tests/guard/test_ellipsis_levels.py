"""A side alone after a clause of the other side states that clause's findings for its own side, at the
level of its own cue: "Coxarthrose rechts, links allenfalls beginnend" is a possible arthrosis on the
left, "effusion on the right, none on the left" a denied effusion on the left, "Zyste der rechten Niere,
links unauffällig" no cyst on the left; without a cue ("links ebenso", "small on the left") the level of
the finding it repeats. The negation check compares those statements like written ones (sides:
tests/guard/test_side_ellipsis.py). Every example is invented for this file; controls show that a
changed level on the elliptic side is caught.
"""

from __future__ import annotations

import pytest

from medvault.guard._statements import gapped
from medvault.guard._text import Analysis
from tests.guard.rule_rows import Row, assert_row

# (text, lang, [(concept, side, level)] of the elliptic statements)
READINGS = [
    (
        "Mittelgradige Coxarthrose rechts, links allenfalls beginnend.",
        "de",
        [("osteoarthritis", "left", "possible")],
    ),
    (
        "Moderate pleural effusion on the right, none on the left.",
        "en",
        [("pleural_effusion", "left", "absent")],
    ),
    ("Zyste der rechten Niere, links unauffällig.", "de", [("cyst", "left", "absent")]),
    (
        "Pleural effusion on the right, possibly a small one on the left.",
        "en",
        [("pleural_effusion", "left", "possible")],
    ),
    ("Kein Erguss rechts, links ebenso.", "de", [("effusion", "left", "absent")]),
    ("Pleuraerguss rechts, links nicht auszuschließen.", "de", [("pleural_effusion", "left", "possible")]),
    # Another finding or an organ of its own: the segment is about that, not an ellipsis.
    ("Pleuraerguss rechts, Drainage links.", "de", []),
    ("Zyste der rechten Niere, linke Niere 11 cm.", "de", []),
]


@pytest.mark.parametrize(("text", "lang", "expected"), READINGS)
def test_elliptic_statements(text: str, lang: str, expected: list[tuple[str, str, str]]) -> None:
    doc = Analysis(text, lang)
    found = [
        (f.concept, side, doc.level(f.mention)) for f in gapped(doc) if not f.implied for side in f.sides
    ]
    assert found == expected


ROWS: list[Row] = [
    (
        "hip-de-summary",
        "Mittelgradige Coxarthrose rechts, links allenfalls beginnend.",
        "Rechts mittelgradige Coxarthrose, links allenfalls beginnende Arthrose.",
        "summary",
        "de",
        None,
        "ok",
    ),
    (
        "effusion-en-summary",
        "Moderate pleural effusion on the right, none on the left.",
        "Moderate pleural effusion on the right; no pleural effusion on the left.",
        "summary",
        "en",
        None,
        "ok",
    ),
    (
        "knee-en-summary",
        "Small knee joint effusion on the right, possibly a trace on the left.",
        "Small right knee joint effusion; a possible trace of effusion on the left.",
        "summary",
        "en",
        None,
        "ok",
    ),
    (
        "kidney-de-simplification",
        "Zyste der rechten Niere, links unauffällig.",
        "Rechts eine Nierenzyste, links keine Zyste.",
        "simplification",
        "de",
        None,
        "ok",
    ),
    # Controls: the elliptic side's level changed.
    (
        "hip-de-definite",
        "Mittelgradige Coxarthrose rechts, links allenfalls beginnend.",
        "Rechts mittelgradige Coxarthrose, links ebenfalls deutliche Arthrose.",
        "summary",
        "de",
        None,
        "certainty_changed",
    ),
    (
        "effusion-en-present",
        "Moderate pleural effusion on the right, none on the left.",
        "Moderate pleural effusion on the right, small on the left.",
        "summary",
        "en",
        None,
        "negation_changed",
    ),
    (
        "kidney-de-present",
        "Zyste der rechten Niere, links unauffällig.",
        "Rechts eine Nierenzyste, links ebenfalls eine Zyste.",
        "simplification",
        "de",
        None,
        "negation_changed",
    ),
]


@pytest.mark.parametrize("row", ROWS, ids=[r[0] for r in ROWS])
def test_ellipsis_level_rows(row: Row) -> None:
    assert_row(row)
