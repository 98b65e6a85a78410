"""A history cue ("Z. n.", its dictated "Zett N.", "Zustand nach", "status post", "postthrombotisch",
"following", an indication "nach Luxation", "sequelae of" / "Folgen einer") makes its finding a past
event; a correction that drops the cue makes it present. "mit"/"with" after the past event starts what
is there now ("Z. n. Lobektomie mit kleinem Resterguss": the effusion is present).

Every example is invented for the guard's tests; controls show that a present finding made historical
and a dropped cue are caught.
"""

from __future__ import annotations

import pytest

from medvault.guard._text import Analysis
from tests.guard.conftest import assert_level
from tests.guard.rule_rows import Row, assert_confident_change, assert_row

ROWS: list[Row] = [
    # History: a dropped "Z. n." is caught although the source also says "postthrombotisch".
    (
        "z-n-dropped",
        "Z. n. Beinvenenthrombose (2024), jetzt rekanalisiert mit postthrombotischen Wandverdickungen.",
        "Deep vein thrombosis (2024), now recanalised with post-thrombotic wall thickening.",
        "translation",
        "de",
        "en",
        "certainty_changed",
    ),
    (
        "z-n-kept",
        "Z. n. Beinvenenthrombose (2024), jetzt rekanalisiert mit postthrombotischen Wandverdickungen.",
        "History of deep vein thrombosis (2024), now recanalised with post-thrombotic wall thickening.",
        "translation",
        "de",
        "en",
        "ok",
    ),
    # Dictated abbreviations of a history cue ("Zett N." for "Z. n.") dropped by a correction.
    (
        "dictated-history-dropped",
        "Zett N. Resektion bei Bronchialkarzinom links.",
        "Resektion bei Bronchialkarzinom links.",
        "correction",
        "de",
        None,
        "certainty_changed",
    ),
]


@pytest.mark.parametrize("row", ROWS, ids=[r[0] for r in ROWS])
def test_history_cue_rows(row: Row) -> None:
    assert_row(row)


LEVELS = [
    ("Zett N. Resektion bei Karzinom.", "de", "carcinoma", "historical"),
]


@pytest.mark.parametrize(("text", "lang", "concept", "level"), LEVELS)
def test_history_cue_levels(text: str, lang: str, concept: str, level: str) -> None:
    assert_level(text, lang, concept, level)


# (text, lang, word, level): certainty levels read from a word's head or an indication.
HEAD_LEVELS = [
    ("Wandverdickung, postthrombotisch.", "de", "postthrombotisch", "historical"),
    ("Posterolaterale Fraktur.", "de", "fraktur", "present"),
    ("Post-thrombotic changes.", "en", "thrombotic", "historical"),
    ("MRT der Schulter nach Luxation.", "de", "luxation", "historical"),
    ("Fragment 3 mm nach dorsal disloziert.", "de", "disloziert", "present"),
    ("MRI of the knee following a twisting injury.", "en", "injury", "historical"),
    ("Pneumothorax after biopsy.", "en", "pneumothorax", "present"),
]


@pytest.mark.parametrize(
    ("text", "lang", "word", "level"), HEAD_LEVELS, ids=[row[2] + "-" + row[3] for row in HEAD_LEVELS]
)
def test_levels_from_word_heads_and_indications(text: str, lang: str, word: str, level: str) -> None:
    doc = Analysis(text, lang)
    found = [
        m for m in doc.mentions if m.kind == "F" and word in doc.lower[max(0, m.start - 10) : m.end + 12]
    ]
    assert found, [m.word for m in doc.mentions]
    assert doc.level(found[0]) == level


# (text, lang, word, level): "mit"/"with" after a past event starts the state now.
WITH_LEVELS = [
    ("Zustand nach BET 2019 mit narbiger Architekturstörung.", "de", "narbig", "present"),
    ("Z. n. Lobektomie mit kleinem Resterguss.", "de", "erguss", "present"),
    ("Status post lobectomy with a small residual effusion.", "en", "effusion", "present"),
    # Controls: the event itself stays history.
    ("Zustand nach Lungenembolie 2019.", "de", "lungenembolie", "historical"),
    ("Status post fracture of the radius.", "en", "fracture", "historical"),
]


@pytest.mark.parametrize(("text", "lang", "word", "level"), WITH_LEVELS)
def test_history_ends_at_with(text: str, lang: str, word: str, level: str) -> None:
    doc = Analysis(text, lang)
    start = doc.lower.index(word)
    hits = [m for m in doc.mentions if m.kind == "F" and start <= m.start < start + len(word)]
    assert hits and doc.level(hits[0]) == level


SEQUELAE = [
    # "Sequelae of"/"Folgen einer" name a past event, as the history line does.
    (
        "History: knee dislocation.\nImpression: Sequelae of knee dislocation.",
        "Anamnese: Knieluxation.\nBeurteilung: Folgen einer Knieluxation.",
        "en",
        "translation",
        False,
    ),
    (
        "Anamnese: Schulterluxation.\nBeurteilung: Residuen nach Schulterluxation.",
        "History: shoulder dislocation.\nImpression: residua of shoulder dislocation.",
        "de",
        "translation",
        False,
    ),
    (
        "Consequences of an old fracture of the radius.",
        "Folgen einer alten Radiusfraktur.",
        "en",
        "translation",
        False,
    ),
    # Control: a present dislocation made historical is still caught.
    (
        "Impression: Acute knee dislocation.",
        "Beurteilung: Zustand nach Knieluxation.",
        "en",
        "translation",
        True,
    ),
]


@pytest.mark.parametrize(("source", "output", "lang", "task", "flagged"), SEQUELAE)
def test_sequelae_are_history(source: str, output: str, lang: str, task: str, flagged: bool) -> None:
    assert_confident_change(source, output, lang, task, flagged)
