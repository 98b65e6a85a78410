"""A German relative clause on a denied noun is denied with it: "keine Stelle, die auf einen Krebs
hindeutet" says there is no cancer, "kein Herd, der auf eine Metastase hinweist" no metastasis. The
relative pronoun is told from an article by the preposition or "sich" after it; a new statement after
the comma ("Kein Erguss, die Fraktur ist verschoben") keeps its own polarity. Every example is invented
for this file; controls show that a flip is still caught.
"""

from __future__ import annotations

import pytest

from tests.guard.conftest import assert_level
from tests.guard.rule_rows import Row, assert_row

LEVELS = [
    ("Es fand sich keine Stelle, die auf einen Krebs hindeutet.", "de", "carcinoma", "absent"),
    ("Kein Herd, der auf eine Metastase hinweist.", "de", "metastasis", "absent"),
    ("Kein Knoten, der für ein Karzinom spricht.", "de", "carcinoma", "absent"),
    # Controls: an article starts a statement of its own; an English "which" after a comma too.
    ("Kein Erguss, die Fraktur ist verschoben.", "de", "fracture", "present"),
    ("Kein Erguss, der Meniskus ist gerissen.", "de", "rupture", "present"),
    ("No effusion, which leaves the fracture as the only finding.", "en", "fracture", "present"),
]


@pytest.mark.parametrize(("text", "lang", "concept", "level"), LEVELS)
def test_relative_clause_levels(text: str, lang: str, concept: str, level: str) -> None:
    assert_level(text, lang, concept, level)


ROWS: list[Row] = [
    (
        "relative-de-simplification",
        "Beurteilung: Kein Anhalt für ein klinisch signifikantes Prostatakarzinom (PI-RADS 2).",
        "Es fand sich keine Stelle, die auf einen bedeutsamen Prostatakrebs hindeutet.",
        "simplification",
        "de",
        None,
        "ok",
    ),
    (
        "relative-de-metastasis",
        "Keine Lebermetastasen.",
        "In der Leber gibt es keinen Herd, der auf eine Metastase hinweist.",
        "simplification",
        "de",
        None,
        "ok",
    ),
    (
        "relative-de-sich",
        "Keine Fraktur.",
        "Es gibt keine Linie, die sich als Bruch deuten ließe.",
        "simplification",
        "de",
        None,
        "ok",
    ),
    (
        "relative-de-flip",
        "Keine Lebermetastasen.",
        "In der Leber gibt es einen Herd, der auf eine Metastase hinweist.",
        "simplification",
        "de",
        None,
        "review",
    ),
    (
        "relative-de-other-statement",
        "Kein Gelenkerguss. Keine Fraktur.",
        "Kein Erguss, die Fraktur ist verschoben.",
        "simplification",
        "de",
        None,
        "review",
    ),
]


@pytest.mark.parametrize("row", ROWS, ids=[r[0] for r in ROWS])
def test_relative_clause_rows(row: Row) -> None:
    assert_row(row)
