"""A local negation ("not", "nicht") reaches a second mention of the same finding in its verb phrase.

"The pieces have not moved out of place" names the displacement twice ("moved", "out of place"); the "not"
stands before the first only, yet denies both. A comma, "and" or "but" starts another statement, which keeps
its own polarity. A negation after a preposition ("auf keiner Seite", "on neither side") names where a finding
is absent and may follow it; after "nicht" a separable verb is negated, not the noun its clause opens with; in
unpunctuated dictation a new side label ends a negation's scope. Every example is invented for this file;
controls show that a real flip is still caught.
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


# (text, lang, [(word, negated)]): which finding words a negation covers.
NEGATIONS = [
    # A negation after a preposition names where a finding is absent; the finding may stand before it.
    ("Ein Harnstau besteht auf keiner Seite.", "de", [("harnstau", True)]),
    ("Ein Erguss findet sich an keiner Stelle, die Lunge ist belüftet.", "de", [("erguss", True)]),
    ("Eine Stenose liegt in keinem Segment vor.", "de", [("stenose", True)]),
    ("In keinem Segment eine Stenose.", "de", [("stenose", True)]),
    ("Hydronephrosis is present on neither side.", "en", [("hydronephrosis", True)]),
    # Controls: without the preposition, a forward cue covers only what follows; the next segment is free.
    ("Erguss rechts mit keinem Pneumothorax.", "de", [("erguss", False), ("pneumothorax", True)]),
    ("Ein Harnstau besteht, kein Stein.", "de", [("harnstau", False), ("stein", True)]),
    # A separable verb after "nicht" negates the verb, not the noun its clause opens with.
    ("Die rechts frontale Läsion reichert nicht an.", "de", [("läsion", False), ("reichert", True)]),
    ("Der Herd im Oberlappen reichert nicht an.", "de", [("herd", False), ("reichert", True)]),
    ("Die Zyste drückt die Niere aber nicht ein.", "de", [("zyste", False), ("drückt", True)]),
    # Control: a clause without a noun before the verb keeps the whole clause negated.
    ("Drückt sie aber nicht ein.", "de", [("drückt", True)]),
]


@pytest.mark.parametrize(("text", "lang", "expected"), NEGATIONS)
def test_negation_after_a_preposition_or_before_a_verb(
    text: str, lang: str, expected: list[tuple[str, bool]]
) -> None:
    doc = Analysis(text, lang)
    found = []
    for word, _ in expected:
        start = doc.lower.index(word)
        hits = [m for m in doc.mentions if m.kind == "F" and start <= m.start < start + len(word)]
        assert hits, (word, doc.mentions)
        found.append((word, hits[0].negated))
    assert found == expected


# (text, lang, [(word, negated)]): unpunctuated dictation; a new side label ends a negation's scope
# once the negation has covered a finding, and only then.
LABELS = [
    (
        "right kidney small simple cyst no hydronephrosis left kidney mild hydronephrosis",
        "en",
        [("cyst", False), ("hydronephrosis", True), ("hydronephrosis", False)],
    ),
    (
        "Rechte Niere kleine Zyste keine Stauung linke Niere leichte Stauung",
        "de",
        [("zyste", False), ("stauung", True), ("stauung", False)],
    ),
    (
        "right lung clear no effusion left lung small effusion",
        "en",
        [("effusion", True), ("effusion", False)],
    ),
    # Controls: a side joined to the words before it, or before the first finding, stays in scope.
    ("No hydronephrosis in the left kidney or stones.", "en", [("hydronephrosis", True), ("stones", True)]),
    ("without moderate right foraminal stenosis", "en", [("stenosis", True)]),
    ("Keine Stauung der linken Niere, kein Stein.", "de", [("stauung", True), ("stein", True)]),
]


@pytest.mark.parametrize(("text", "lang", "expected"), LABELS)
def test_label_ends_negation(text: str, lang: str, expected: list[tuple[str, bool]]) -> None:
    doc = Analysis(text, lang)
    assert [(m.word, m.negated) for m in doc.mentions if m.kind == "F"] == expected
