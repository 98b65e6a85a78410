"""A local negation ("not", "nicht") reaches a second mention of the same finding in its verb phrase.

"The pieces have not moved out of place" names the displacement twice ("moved", "out of place"); the
"not" stands before the first only, yet denies both. A comma, "and" or "but" starts another statement,
which keeps its own polarity. Every example is invented for this file; controls show that a real flip
is still caught.
"""

from __future__ import annotations

import pytest

from medvault.guard._statements import statements
from medvault.guard._text import Analysis
from tests.guard.rule_rows import Row, assert_row

# (text, lang, concept, levels of its statements in text order)
SCOPES = [
    ("The broken wrist bone has not moved out of place.", "en", "displacement", ["absent", "absent"]),
    ("The broken pieces are not pushed out of place.", "en", "displacement", ["absent", "absent"]),
    ("The bile ducts are not dilated or widened.", "en", "dilatation", ["absent", "absent"]),
    (
        "Das Bruchstück ist nicht verschoben oder verlagert und steht gut.",
        "de",
        "displacement",
        ["absent", "absent"],
    ),
    (
        "Die Gallengänge sind nicht erweitert bzw. aufgeweitet und gut abgrenzbar.",
        "de",
        "dilatation",
        ["absent", "absent"],
    ),
    # Controls: another statement after a comma, "and" or "but" keeps its own polarity.
    ("The bone has not moved, but it is out of place.", "en", "displacement", ["absent", "present"]),
    ("The bone has not moved and is out of place.", "en", "displacement", ["absent", "present"]),
    ("Das Bruchstück ist nicht verschoben, aber verlagert.", "de", "displacement", ["absent", "present"]),
]


@pytest.mark.parametrize(("text", "lang", "concept", "levels"), SCOPES)
def test_negation_reaches_a_repeated_mention(text: str, lang: str, concept: str, levels: list[str]) -> None:
    doc = Analysis(text, lang)
    assert [doc.level(f.mention) for f in statements(doc) if f.concept == concept] == levels


ROWS: list[Row] = [
    (
        "wrist-en-simplification",
        "Non-displaced fracture of the left wrist.",
        "The broken wrist bone has not moved out of place.",
        "simplification",
        "en",
        None,
        "ok",
    ),
    (
        "clavicle-en-simplification",
        "Undisplaced fracture of the left clavicle. No displacement of the fragments.",
        "The left collarbone is broken; the ends have not moved out of place.",
        "simplification",
        "en",
        None,
        "ok",
    ),
    # Controls: the displacement stated as there is still a flip.
    (
        "wrist-en-flip",
        "Non-displaced fracture of the left wrist.",
        "The pieces of the broken wrist bone have moved out of place.",
        "simplification",
        "en",
        None,
        "negation_changed",
    ),
    (
        "wrist-en-second-clause",
        "Non-displaced fracture of the left wrist.",
        "The wrist bone has not moved, but it is out of place.",
        "simplification",
        "en",
        None,
        "negation_changed",
    ),
]


@pytest.mark.parametrize("row", ROWS, ids=[r[0] for r in ROWS])
def test_repeated_mention_rows(row: Row) -> None:
    assert_row(row)
